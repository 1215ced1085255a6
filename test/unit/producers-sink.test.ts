import {
  type Kafka,
  KafkaJSError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  Partitioners,
  type ProducerBatch,
  type ProducerConfig,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { DeliveryError } from '../../src/producers/errors.js';
import { createProducerMetrics, producerMetricSpecs } from '../../src/producers/metrics.js';
import { cachingDefaultPartitioner, KafkaSink, type TopicBatch } from '../../src/producers/sink.js';

type Outcome = 'ok' | Error;

/** A kafkajs stand-in: each sendBatch takes the next scripted outcome; it records every call and producer. */
function fakeKafka(outcomes: Outcome[]) {
  const calls: { producer: number; request: ProducerBatch }[] = [];
  const configs: ProducerConfig[] = [];
  const disconnected: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const kafka = {
    producer(config: ProducerConfig) {
      const id = configs.push(config);
      return {
        connect: async () => undefined,
        disconnect: async () => {
          disconnected.push(id);
        },
        sendBatch: async (request: ProducerBatch) => {
          calls.push({ producer: id, request });
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await new Promise((r) => setTimeout(r, 5));
          inFlight--;
          const outcome = outcomes.shift() ?? 'ok';
          if (outcome !== 'ok') throw outcome;
          return [];
        },
      };
    },
  } as unknown as Kafka;
  return { kafka, calls, configs, disconnected, maxInFlight: () => maxInFlight };
}

const batch = (topic: string, n: number, from = 0): TopicBatch => ({
  topic,
  messages: Array.from({ length: n }, (_, i) => ({
    key: `K${(from + i) % 3}`,
    value: Buffer.from([from + i]),
  })),
});

function sink(kafka: Kafka, signal?: AbortSignal) {
  const metrics = createProducerMetrics();
  const failures: DeliveryError[] = [];
  const s = new KafkaSink({
    kafka,
    source: 'synthetic',
    metrics: metrics.catalogue,
    retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
    onFailure: (f) => failures.push(f),
    signal,
  });
  const value = async (name: string, labels: Record<string, string>) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
    return (
      metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0
    );
  };
  return { sink: s, failures, value };
}

const retriable = () => new KafkaJSError('Connection error: ECONNREFUSED', { retriable: true });
const tooLarge = () =>
  new KafkaJSProtocolError({
    message: 'The request included a message larger than the max message size',
    type: 'MESSAGE_TOO_LARGE',
    code: 10,
    retriable: false,
  } as never);

describe('KafkaSink', () => {
  it('uses an idempotent producer with acks=all and the Java-compatible partitioner, one batch in flight', async () => {
    const fake = fakeKafka([]);
    const { sink: s, value } = sink(fake.kafka);
    for (let i = 0; i < 5; i++) await s.enqueue([batch('t1', 3, i * 3), batch('t2', 1, i)]);
    await s.close();
    expect(fake.configs[0]).toMatchObject({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    expect(fake.calls.map((c) => c.request.acks)).toEqual([-1, -1, -1, -1, -1]);
    expect(fake.maxInFlight()).toBe(1);
    expect(s.totals).toEqual({ delivered: 20, failed: 0, batches: 5 });
    expect(await value('k2_producer_messages_total', { topic: 't1', source: 'synthetic' })).toBe(15);
    expect(await value('k2_producer_messages_total', { topic: 't2' })).toBe(5);
    expect(await value('k2_producer_bytes_total', { topic: 't1' })).toBe(15);
  });

  it('returns from enqueue once the previous batch is acknowledged, without waiting for its own', async () => {
    const fake = fakeKafka([]);
    const { sink: s } = sink(fake.kafka);
    await s.enqueue([batch('t', 2)]);
    expect(s.totals.delivered).toBe(0);
    await s.enqueue([batch('t', 2)]);
    expect(s.totals.delivered).toBe(2);
    await s.flush();
    expect(s.totals.delivered).toBe(4);
  });

  it('keeps one batch in flight and the call order when callers enqueue concurrently', async () => {
    const fake = fakeKafka([]);
    const { sink: s } = sink(fake.kafka);
    await Promise.all([1, 2, 3, 4].map((i) => s.enqueue([batch(`t${i}`, 1)])));
    await s.flush();
    expect(fake.maxInFlight()).toBe(1);
    expect(fake.calls.map((c) => c.request.topicMessages![0]!.topic)).toEqual(['t1', 't2', 't3', 't4']);
  });

  it('re-sends the same batch on the same producer after a retriable failure', async () => {
    const fake = fakeKafka([
      retriable(),
      new KafkaJSNumberOfRetriesExceeded(retriable(), { retryCount: 5, retryTime: 1 }),
      'ok',
    ]);
    const { sink: s, failures, value } = sink(fake.kafka);
    expect(await s.send([batch('t', 4)])).toBe(true);
    expect(fake.calls).toHaveLength(3);
    expect(new Set(fake.calls.map((c) => c.producer))).toEqual(new Set([1]));
    expect(fake.calls.every((c) => c.request.topicMessages === fake.calls[0]!.request.topicMessages)).toBe(
      true,
    );
    expect(failures).toEqual([]);
    expect(await value('k2_producer_retries_total', { topic: 't' })).toBe(2);
  });

  it('reports a refused batch with its topics and the reason, never throws, and carries on with a new producer id', async () => {
    const fake = fakeKafka([tooLarge()]);
    const { sink: s, failures, value } = sink(fake.kafka);
    expect(await s.send([batch('big', 2), batch('small', 1)])).toBe(false);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      code: 'K2_PRODUCE_DELIVERY',
      topics: ['big', 'small'],
      messages: 3,
      errorClass: 'MESSAGE_TOO_LARGE',
      retriable: false,
    });
    expect(failures[0]!.message).toMatch(
      /big, small: 3 messages not delivered: .*larger than the max message size/,
    );
    expect(fake.calls).toHaveLength(1); // not retried
    expect(fake.disconnected).toEqual([1]);
    expect(await s.send([batch('small', 1)])).toBe(true);
    expect(fake.calls.at(-1)!.producer).toBe(2);
    expect(s.totals).toEqual({ delivered: 1, failed: 3, batches: 1 });
    expect(await value('k2_producer_errors_total', { topic: 'big', error_class: 'MESSAGE_TOO_LARGE' })).toBe(
      1,
    );
  });

  it('gives up after the retries, classed by the root cause', async () => {
    const wrapped = () => new KafkaJSNumberOfRetriesExceeded(retriable(), { retryCount: 5, retryTime: 1 });
    const fake = fakeKafka([wrapped(), wrapped(), wrapped()]);
    const { sink: s, failures, value } = sink(fake.kafka);
    expect(await s.send([batch('t', 1)])).toBe(false);
    expect(fake.calls).toHaveLength(3);
    expect(failures[0]).toMatchObject({ errorClass: 'KafkaJSError', retriable: true });
    expect(failures[0]!.message).toContain('ECONNREFUSED');
    expect(await value('k2_producer_errors_total', { topic: 't', error_class: 'KafkaJSError' })).toBe(1);
  });

  it('stops retrying when aborted and reports the batch', async () => {
    const controller = new AbortController();
    const fake = fakeKafka([retriable(), retriable(), retriable()]);
    const { sink: s, failures } = sink(fake.kafka, controller.signal);
    const sending = s.send([batch('t', 1)]);
    controller.abort();
    expect(await sending).toBe(false);
    expect(fake.calls.length).toBeLessThan(3);
    expect(failures[0]!.message).toContain('aborted');
  });
});

describe('caching partitioner', () => {
  it('picks the same partition as kafkajs DefaultPartitioner (murmur2, Java-compatible) for every key', () => {
    const cached = cachingDefaultPartitioner();
    const plain = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 6, 12]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0 }));
      for (let i = 0; i < 500; i++) {
        for (const key of [`SYM${i}`, Buffer.from(`SYM${i}`)]) {
          const args = { topic: 't', partitionMetadata, message: { key, value: null } };
          expect(cached(args as never)).toBe(plain(args as never));
          expect(cached(args as never)).toBe(plain(args as never));
        }
      }
    }
  });
});

describe('producer metrics', () => {
  it('registers every metric of the catalogue with its labels, in its own registry', async () => {
    const { registry, catalogue } = createProducerMetrics();
    catalogue.feedGaps.inc({ source: 'binance', exchange: 'BINANCE', kind: 'reconnect' });
    const json = await registry.getMetricsAsJSON();
    expect(json.map((m) => m.name).sort()).toEqual(
      Object.values(producerMetricSpecs)
        .map((s) => s.name)
        .sort(),
    );
    for (const spec of Object.values(producerMetricSpecs)) expect(spec.name).toMatch(/^k2_producer_/);
    expect(json.find((m) => m.name === 'k2_producer_feed_gaps_total')!.values[0]!.labels).toEqual({
      source: 'binance',
      exchange: 'BINANCE',
      kind: 'reconnect',
    });
  });
});
