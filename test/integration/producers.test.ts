import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import kafkajs, { type KafkaMessage } from 'kafkajs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { registerProduceCommands } from '../../src/cli/produce.js';
import { packBatch } from '../../src/codec/batch.js';
import { TableDecoder } from '../../src/codec/decode.js';
import { avroSchemaText } from '../../src/codec/schemas.js';
import { peekSchemaId } from '../../src/codec/wire.js';
import { TopicConfigMismatchError } from '../../src/kafka/topics.js';
import { runBinance } from '../../src/producers/binance/run.js';
import { createProducerContext, ensureMarketTopics } from '../../src/producers/context.js';
import { RecordEncoder } from '../../src/producers/encode.js';
import { runEquitiesReplay } from '../../src/producers/equities/run.js';
import type { DeliveryError } from '../../src/producers/errors.js';
import { createProducerMetrics } from '../../src/producers/metrics.js';
import { runReference } from '../../src/producers/reference.js';
import { cachingDefaultPartitioner, KafkaSink } from '../../src/producers/sink.js';
import { SyntheticGenerator, type SyntheticOptions } from '../../src/producers/synthetic/generator.js';
import {
  decimalScaleSchemaText,
  decimalScaleSubject,
  type PoisonKind,
  poisonCodes,
  poisonKinds,
} from '../../src/producers/synthetic/poison.js';
import { runSynthetic } from '../../src/producers/synthetic/run.js';
import { Registry } from '../../src/registry/registry.js';
import { valueSubject } from '../../src/registry/subjects.js';
import { kafka, stack, unique } from '../support/stack.js';
import { canonical, decodeFramed } from '../unit/producers-fixtures.js';

function context() {
  return createProducerContext({ brokers: stack().kafka.brokers, registryUrl: stack().registry.url });
}

interface Consumed {
  partition: number;
  offset: string;
  key: string;
  value: Buffer;
}

/** Reads `count` records of `topic` from the beginning (rejects after the deadline, with what it has). */
async function consume(topic: string, count: number, timeoutMs = 60_000): Promise<Consumed[]> {
  const consumer = kafka('k2-producers-test').consumer({ groupId: unique('k2-producers-test') });
  const out: Consumed[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${topic}: ${out.length} of ${count} records in ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages as KafkaMessage[])
            out.push({
              partition: batch.partition,
              offset: m.offset,
              key: m.key!.toString(),
              value: m.value ?? Buffer.alloc(0),
            });
          if (out.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

function byPartition(records: Consumed[]): Map<number, Consumed[]> {
  const out = new Map<number, Consumed[]>();
  for (const r of records) {
    const list = out.get(r.partition) ?? [];
    list.push(r);
    out.set(r.partition, list);
  }
  for (const list of out.values()) list.sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
  return out;
}

async function partitionCount(topic: string): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

const servers: WebSocketServer[] = [];
afterAll(async () => {
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
});

describe('producers against the real Kafka and schema registry', () => {
  it('synthetic trades with duplicates, gaps and every poison kind land byte for byte, in order per partition; poison stays raw bytes the decoder quarantines', async () => {
    const ctx = context();
    const topic = unique('k2p-synthetic');
    expect((await ensureMarketTopics(ctx, [topic], 3)).created).toEqual([topic, `${topic}.dlq`]);
    const options = {
      seed: 42,
      symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'AAPL'],
      exchange: 'SYNTH',
      rate: 50_000,
      burstiness: 0.3,
      startMicros: 1_735_689_600_000_000,
      gapRate: 0.01,
      maxGap: 4,
      duplicateRate: 0.02,
      poison: Object.fromEntries(poisonKinds.map((kind) => [kind, 0.004])) as Record<PoisonKind, number>,
      topic,
    } satisfies Omit<SyntheticOptions, 'encoderFor'>;
    const count = 8_000;
    const result = await runSynthetic(ctx, { ...options, count, paced: false, batchSize: 1_000 });
    expect(result.sink).toMatchObject({ delivered: count, failed: 0 });
    for (const kind of poisonKinds) expect(result.stats.poison[kind], kind).toBeGreaterThan(0);

    // The same seed and schema ids generate the same messages offline: Kafka must hold exactly these.
    const tradeId = await ctx.registry.register(valueSubject(topic), avroSchemaText('trade_v2'));
    const scaleId = await ctx.registry.register(decimalScaleSubject, decimalScaleSchemaText());
    const expected = [
      ...new SyntheticGenerator({
        ...options,
        encoderFor: () => new RecordEncoder('trade_v2', tradeId),
        decimalScaleEncoder: new RecordEncoder('trade_v2', scaleId, decimalScaleSchemaText()),
      }).take(count),
    ].map((m) => ({ ...m, value: Buffer.from(m.value) }));

    const consumed = await consume(topic, count);
    expect(consumed).toHaveLength(count);
    const partitions = await partitionCount(topic);
    const partitionOf = cachingDefaultPartitioner();
    const metadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0 }));
    for (const [partition, records] of byPartition(consumed)) {
      const mine = expected.filter(
        (m) =>
          partitionOf({
            topic,
            partitionMetadata: metadata,
            message: { key: m.key, value: null },
          } as never) === partition,
      );
      expect(records.map((r) => r.key)).toEqual(mine.map((m) => m.key.toString()));
      expect(
        records.every((r, i) => r.value.equals(mine[i]!.value)),
        `partition ${partition} bytes`,
      ).toBe(true);
    }

    // Decoded as the supervisor will: writer schemas from the registry, one failure per poison record.
    const registry = new Registry({ url: stack().registry.url });
    const ids = [...new Set(consumed.map((r) => peekSchemaId(r.value)).filter((id) => id !== undefined))];
    const decoded = new TableDecoder('trades_v2').decode(
      packBatch(consumed.map((r, i) => ({ value: r.value, offset: BigInt(i) }))),
      await registry.writerSchemas(ids),
    );
    expect(decoded.rowCount).toBe(result.stats.trades + result.stats.duplicates);
    const codes = new Map<string, number>();
    for (const f of decoded.failures) codes.set(f.code, (codes.get(f.code) ?? 0) + 1);
    expect(Object.fromEntries(codes)).toEqual(
      Object.fromEntries(poisonKinds.map((kind) => [poisonCodes[kind], result.stats.poison[kind]])),
    );
    const firstTrade = consumed.find((r) => expected.find((m) => m.value.equals(r.value))?.kind === 'trade')!;
    expect(decodeFramed(firstTrade.value).record).toMatchObject({
      exchange: 'SYNTH',
      asset_class: expect.any(String),
    });
  });

  it('replays the bundled equities day as fast as possible: every row lands once, each symbol in sequence order, values exact', async () => {
    const ctx = context();
    const tradesTopic = unique('k2p-equities-trades');
    const quotesTopic = unique('k2p-equities-quotes');
    await ensureMarketTopics(ctx, [tradesTopic, quotesTopic], 4);
    const result = await runEquitiesReplay(ctx, {
      tradesTopic,
      quotesTopic,
      speed: Number.POSITIVE_INFINITY,
      batchSize: 2_000,
    });
    expect(result).toMatchObject({
      trades: 30_000,
      quotes: 20_000,
      rejected: 0,
      sink: { delivered: 50_000, failed: 0 },
    });

    for (const [topic, count, schema] of [
      [tradesTopic, 30_000, 'trade_v2'],
      [quotesTopic, 20_000, 'quote_v2'],
    ] as const) {
      const consumed = await consume(topic, count);
      expect(consumed).toHaveLength(count);
      for (const records of byPartition(consumed).values()) {
        const last = new Map<string, number>();
        for (const r of records) {
          const sequence = decodeFramed(r.value, schema).record.source_sequence as number;
          expect(sequence).toBe((last.get(r.key) ?? 0) + 1);
          last.set(r.key, sequence);
        }
      }
      if (schema === 'trade_v2') {
        const first = consumed.find(
          (r) => r.key === 'MSFT' && decodeFramed(r.value).record.source_sequence === 1,
        )!;
        // data/sample/equities-trades.csv: 2025-01-02T14:30:00.003990Z,MSFT,NASDAQ,1,418.58,11000,SELL,O
        expect(canonical(decodeFramed(first.value).record)).toMatchObject(
          canonical({
            trade_id: '1',
            exchange: 'NASDAQ',
            timestamp: 1_735_828_200_003_990,
            price: 41_858_000_000,
            quantity: 1_100_000_000_000,
            side: 'SELL',
            trade_conditions: ['O'],
          }),
        );
      }
    }
  });

  it('sends reference data to a compacted topic keyed by exchange:symbol, and refuses an existing uncompacted one', async () => {
    const ctx = context();
    const topic = `${unique('k2p-ref')}.reference_data`;
    await ensureMarketTopics(ctx, [topic], 2);
    const admin = kafka().admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] },
        ],
      });
      expect(described.resources[0]!.configEntries[0]!.configValue).toBe('compact');

      const result = await runReference(ctx, { topic, batchSize: 100 });
      expect(result).toMatchObject({ instruments: 6, rejected: 0, sink: { delivered: 6, failed: 0 } });
      const consumed = await consume(topic, 6);
      expect(consumed.map((r) => r.key).sort()).toEqual([
        'BINANCE:BTCUSDT',
        'BINANCE:ETHUSDT',
        'NASDAQ:AAPL',
        'NASDAQ:MSFT',
        'NASDAQ:NVDA',
        'NYSEARCA:SPY',
      ]);
      const spy = decodeFramed(
        consumed.find((r) => r.key === 'NYSEARCA:SPY')!.value,
        'reference_data_v2',
      ).record;
      expect(spy).toMatchObject({
        name: 'SPDR S&P 500 ETF Trust',
        tick_size: 1_000_000,
        listing_status: 'ACTIVE',
      });

      const plain = `${unique('k2p-plain')}.reference_data`;
      await admin.createTopics({ topics: [{ topic: plain, numPartitions: 1 }], waitForLeaders: true });
      await expect(ensureMarketTopics(ctx, [plain], 1)).rejects.toBeInstanceOf(TopicConfigMismatchError);
    } finally {
      await admin.disconnect();
    }
  });

  it('streams a websocket trade feed into Kafka across a reconnect, reporting the gap and skipping a malformed frame', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    servers.push(server);
    const frame = (t: number) =>
      JSON.stringify({
        e: 'trade',
        E: 1_735_689_600_100 + t,
        s: 'BTCUSDT',
        t,
        p: `97000.${t}`,
        q: '0.5',
        T: 1_735_689_600_000 + t,
        m: t % 2 === 0,
      });
    const scripts = [
      [frame(1), frame(2), 'garbage', frame(3)],
      [frame(7), frame(8)],
    ];
    let connection = 0;
    server.on('connection', (socket) => {
      const script = scripts[connection++];
      if (!script) return;
      for (const text of script) socket.send(text);
      if (connection === 1) setTimeout(() => socket.close(1001), 50);
    });
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;

    const ctx = context();
    const topic = unique('k2p-binance');
    await ensureMarketTopics(ctx, [topic], 2);
    const result = await runBinance(ctx, {
      url: `ws://127.0.0.1:${port}/stream?streams=btcusdt@trade`,
      topic,
      maxTrades: 5,
      lingerMs: 5,
      reconnect: { initialDelayMs: 20, jitter: 0 },
    });
    expect(result).toMatchObject({
      trades: 5,
      gaps: 1,
      missing: 3,
      rejected: 1,
      reconnects: 1,
      sink: { delivered: 5, failed: 0 },
    });
    const consumed = await consume(topic, 5);
    const records = consumed.map((r) => decodeFramed(r.value).record);
    expect(records.map((r) => r.source_sequence)).toEqual([1, 2, 3, 7, 8]);
    expect(records[0]).toMatchObject({
      symbol: 'BTCUSDT',
      side: 'BUY',
      price: 9_700_010_000_000,
      exchange: 'BINANCE',
    });
    expect(canonical(records[1]!).vendor_data).toEqual([
      ['event_time', '1735689600102'],
      ['event_type', 'trade'],
      ['is_buyer_maker', 'true'],
    ]);
    const gaps = (await ctx.metrics.registry.getMetricsAsJSON()).find(
      (m) => m.name === 'k2_producer_feed_gaps_total',
    );
    expect(gaps!.values).toEqual([
      { labels: { source: 'binance', exchange: 'BINANCE', kind: 'reconnect' }, value: 1 },
    ]);
  });

  it('reports an undelivered batch with its topic and reason and keeps running', async () => {
    const failures: DeliveryError[] = [];
    const sink = new KafkaSink({
      kafka: context().kafka,
      source: 'synthetic',
      metrics: createProducerMetrics().catalogue,
      retry: { attempts: 1 },
      onFailure: (f) => failures.push(f),
    });
    const missing = unique('k2p-missing');
    const good = unique('k2p-good');
    await ensureMarketTopics(context(), [good], 1);
    expect(await sink.send([{ topic: missing, messages: [{ key: 'K', value: Buffer.from('x') }] }])).toBe(
      false,
    );
    expect(await sink.send([{ topic: good, messages: [{ key: 'K', value: Buffer.from('y') }] }])).toBe(true);
    await sink.close();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ topics: [missing], messages: 1, code: 'K2_PRODUCE_DELIVERY' });
    expect(failures[0]!.errorClass).toMatch(/UNKNOWN_TOPIC|LEADER_NOT_AVAILABLE|KafkaJS/);
    expect((await consume(good, 1))[0]!.value.toString()).toBe('y');
  });

  it('k2 produce synthetic: creates the topics, prints the seed and a JSON summary', async () => {
    const topic = unique('k2p-cli');
    const program = new Command().exitOverride();
    registerProduceCommands(program);
    const logs: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line) => logs.push(String(line)));
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await program.parseAsync(
        [
          'produce',
          'synthetic',
          '--topic',
          topic,
          '--count',
          '3000',
          '--seed',
          '9',
          '--poison',
          'empty=0.01',
          '--no-progress',
          '--json',
          '--partitions',
          '2',
        ],
        { from: 'user' },
      );
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    const summary = JSON.parse(logs.join('\n'));
    expect(summary).toMatchObject({ seed: 9, topics: [topic], sink: { delivered: 3000, failed: 0 } });
    expect(summary.stats.poison.empty).toBeGreaterThan(0);
    expect(await partitionCount(topic)).toBe(2);
    expect(await consume(topic, 3000)).toHaveLength(3000);
  });

  it('k2 produce with --no-create-topics refuses a missing topic before producing anything', async () => {
    const program = new Command().exitOverride();
    registerProduceCommands(program);
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const missing = unique('k2p-absent');
      const error = await program
        .parseAsync(['produce', 'reference', '--topic', missing, '--no-create-topics', '--no-progress'], {
          from: 'user',
        })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'K2_TOPIC_MISSING' });
      expect((error as Error).message).toContain(missing);
    } finally {
      err.mockRestore();
    }
  });
});
