import { type Kafka, logLevel } from 'kafkajs';
import { avroSchemaText } from '../codec/schemas.js';
import { createKafka } from '../kafka/client.js';
import { type EnsureTopicsResult, ensureTopics, marketTopicSpecs } from '../kafka/topics.js';
import { Registry } from '../registry/registry.js';
import { valueSubject } from '../registry/subjects.js';
import { type Clock, systemClock } from './clock.js';
import { RecordEncoder } from './encode.js';
import type { DeliveryError, SourceRecordError } from './errors.js';
import { createProducerMetrics, type ProducerMetrics } from './metrics.js';
import type { RecordName } from './records.js';
import { KafkaSink, type ProducerSource, type SinkTotals } from './sink.js';

/** What every producer job needs: Kafka, the registry, metrics, time and a way to stop. */
export interface ProducerContext {
  kafka: Kafka;
  registry: Registry;
  metrics: ProducerMetrics;
  clock: Clock;
  signal: AbortSignal;
  /** Undelivered batches (and how many in a row); by default one JSON line on stderr each. */
  onFailure?: (failure: DeliveryError, consecutive: number) => void;
}

export interface ProducerContextOptions {
  brokers: string[];
  registryUrl: string;
  clientId?: string;
  signal?: AbortSignal;
  clock?: Clock;
  metrics?: ProducerMetrics;
  onFailure?: (failure: DeliveryError, consecutive: number) => void;
}

export function createProducerContext(options: ProducerContextOptions): ProducerContext {
  return {
    // kafkajs warns at WARN that bounded retries "may invalidate EoS guarantees"; KafkaSink's
    // handling of a given-up batch (a new producer id) is what keeps them, so that level is off here.
    kafka: createKafka({
      clientId: options.clientId ?? 'k2-producer',
      brokers: options.brokers,
      logLevel: logLevel.ERROR,
    }),
    registry: new Registry({ url: options.registryUrl, signal: options.signal }),
    metrics: options.metrics ?? createProducerMetrics(),
    clock: options.clock ?? systemClock,
    signal: options.signal ?? new AbortController().signal,
    onFailure: options.onFailure,
  };
}

/** Creates the market topics (and their DLQs) that are missing; see ensureTopics. */
export async function ensureMarketTopics(
  context: ProducerContext,
  topics: readonly string[],
  partitions: number,
): Promise<EnsureTopicsResult> {
  const admin = context.kafka.admin();
  await admin.connect();
  try {
    return await ensureTopics(admin, marketTopicSpecs(topics, partitions));
  } finally {
    await admin.disconnect();
  }
}

/** The topics of `topics` that do not exist. */
export async function missingTopics(context: ProducerContext, topics: readonly string[]): Promise<string[]> {
  const admin = context.kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    return topics.filter((topic) => !present.has(topic));
  } finally {
    await admin.disconnect();
  }
}

/** Registers `name` as the value schema of each topic (BACKWARD) and returns the encoders by topic. */
export async function registerEncoders<N extends RecordName>(
  context: ProducerContext,
  name: N,
  topics: readonly string[],
): Promise<Map<string, RecordEncoder<N>>> {
  const schema = avroSchemaText(name);
  const encoders = new Map<string, RecordEncoder<N>>();
  for (const topic of new Set(topics)) {
    const id = await context.registry.register(valueSubject(topic), schema);
    encoders.set(topic, new RecordEncoder(name, id, schema));
  }
  return encoders;
}

/**
 * A sink for one job. It does not take the context's signal: a stopping job still delivers what it
 * has taken from its source (a second Ctrl-C in the CLI is the hard stop).
 */
export function createSink(context: ProducerContext, source: ProducerSource): KafkaSink {
  return new KafkaSink({
    kafka: context.kafka,
    source,
    metrics: context.metrics.catalogue,
    onFailure: context.onFailure,
  });
}

/**
 * Runs a file job through its own sink: rejected source rows are counted (and passed on), what the
 * job sent is flushed, the sink is closed; the job's totals come back with the sink's.
 */
export async function throughSink<T extends object>(
  context: ProducerContext,
  source: 'equities' | 'reference',
  onRejected: ((error: SourceRecordError) => void) | undefined,
  job: (sink: KafkaSink, rejected: (error: SourceRecordError) => void) => Promise<T>,
): Promise<T & { sink: SinkTotals }> {
  const sink = createSink(context, source);
  const rejected = (error: SourceRecordError) => {
    context.metrics.catalogue.sourceRejected.inc({ source, reason: error.reason });
    onRejected?.(error);
  };
  try {
    const totals = await job(sink, rejected);
    await sink.flush();
    return { ...totals, sink: sink.totals };
  } finally {
    await sink.close();
  }
}

/** The encoder of a topic registered by registerEncoders. */
export function encoderOf<N extends RecordName>(encoders: Map<string, RecordEncoder<N>>) {
  return (topic: string): RecordEncoder<N> => {
    const encoder = encoders.get(topic);
    if (!encoder) throw new TypeError(`no schema registered for topic ${topic}`);
    return encoder;
  };
}
