import {
  type ICustomPartitioner,
  type Kafka,
  Partitioners,
  type Producer,
  type ProducerBatch,
  type TopicMessages,
} from 'kafkajs';
import { isProgrammingError } from '../errors/index.js';
import { type RetryPolicy, retry } from '../util/retry.js';
import { DeliveryError } from './errors.js';
import type { ProducerMetricCatalogue } from './metrics.js';

/** What a producer feeds: `k2 produce <source>`. A metric label, so a closed set. */
export type ProducerSource = 'binance' | 'equities' | 'reference' | 'synthetic';

export interface OutboundMessage {
  /** The symbol (exchange+symbol for reference data): per-key order holds inside a partition. */
  key: Buffer | string;
  value: Buffer;
}

export interface TopicBatch {
  topic: string;
  messages: OutboundMessage[];
}

export interface SinkOptions {
  kafka: Kafka;
  source: ProducerSource;
  metrics: ProducerMetricCatalogue;
  /** Re-sends of a batch after kafkajs's own retries gave up; then the batch is reported failed. */
  retry?: Partial<RetryPolicy>;
  /**
   * Each undelivered batch, with its topics and the reason, and how many batches in a row have
   * failed (a caller may stop its source on that). Default: one JSON line on stderr.
   */
  onFailure?: (failure: DeliveryError, consecutive: number) => void;
  /** Aborting stops retrying: the batch in hand, and every later one, is reported failed at once. */
  signal?: AbortSignal;
}

export interface SinkTotals {
  delivered: number;
  failed: number;
  batches: number;
}

/**
 * K2's producer side of Kafka: an idempotent kafkajs producer (acks=all), keyed messages with the
 * Java-compatible partitioner, one batch in flight at a time.
 *
 * One in flight because kafkajs's idempotence is only safe that way: it serialises produce
 * requests per broker anyway (maxInFlightRequests > 1 gains nothing, measured), and after a failed
 * request it hands the same sequence numbers to the next one, so a batch that actually landed
 * would make a different next batch look like a duplicate to the broker and vanish. So a failed
 * batch is re-sent as it was, on the same producer; a batch given up on is reported and the
 * producer replaced (a new producer id starts fresh sequences).
 */
export class KafkaSink {
  readonly #options: SinkOptions;
  readonly #labels: { source: ProducerSource };
  #producer: Producer;
  #connected = false;
  #inFlight: Promise<void> = Promise.resolve();
  #consecutiveFailures = 0;
  readonly totals: SinkTotals = { delivered: 0, failed: 0, batches: 0 };

  constructor(options: SinkOptions) {
    this.#options = options;
    this.#labels = { source: options.source };
    this.#producer = this.#createProducer();
  }

  /**
   * Starts sending `batches` once the batch before has been acknowledged (or given up on) and
   * returns then, without waiting for this one: the caller prepares the next batch meanwhile.
   */
  async enqueue(batches: readonly TopicBatch[]): Promise<void> {
    const nonEmpty = batches.filter((batch) => batch.messages.length > 0);
    if (nonEmpty.length === 0) return;
    // Chained, so that concurrent callers still send one batch at a time, in call order.
    const previous = this.#inFlight;
    this.#inFlight = previous.then(() => this.#deliver(nonEmpty));
    await previous;
  }

  /** Sends and waits for the acknowledgement; true when delivered, false when reported failed. */
  async send(batches: readonly TopicBatch[]): Promise<boolean> {
    const failedBefore = this.totals.failed;
    await this.enqueue(batches);
    await this.flush();
    return this.totals.failed === failedBefore;
  }

  /** Waits for the batch in flight. */
  flush(): Promise<void> {
    return this.#inFlight;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#producer.disconnect().catch(() => undefined);
    this.#connected = false;
  }

  async #deliver(batches: readonly TopicBatch[]): Promise<void> {
    const { metrics } = this.#options;
    const count = batches.reduce((n, batch) => n + batch.messages.length, 0);
    const started = performance.now();
    try {
      await retry(() => this.#sendOnce(batches), {
        policy: { attempts: 4, initialDelayMs: 1_000, maxDelayMs: 10_000, ...this.#options.retry },
        shouldRetry: kafkaRetriable,
        signal: this.#options.signal,
        onRetry: () => {
          for (const batch of batches) metrics.produceRetries.inc({ ...this.#labels, topic: batch.topic });
        },
      });
    } catch (error) {
      if (isProgrammingError(error)) throw error;
      this.totals.failed += count;
      this.#consecutiveFailures++;
      this.#report(batches, count, error);
      await this.#replaceProducer();
      return;
    }
    this.totals.delivered += count;
    this.totals.batches++;
    this.#consecutiveFailures = 0;
    metrics.sendDuration.observe(this.#labels, (performance.now() - started) / 1000);
    metrics.batchMessages.observe(this.#labels, count);
    for (const batch of batches) {
      const labels = { ...this.#labels, topic: batch.topic };
      metrics.messagesProduced.inc(labels, batch.messages.length);
      let bytes = 0;
      for (const message of batch.messages) bytes += message.value.length;
      metrics.bytesProduced.inc(labels, bytes);
    }
  }

  async #sendOnce(batches: readonly TopicBatch[]): Promise<void> {
    if (!this.#connected) {
      await this.#producer.connect();
      this.#connected = true;
    }
    const request: ProducerBatch = { acks: -1, topicMessages: batches as TopicMessages[] };
    await this.#producer.sendBatch(request);
  }

  #report(batches: readonly TopicBatch[], count: number, error: unknown): void {
    const cause = rootCause(error);
    const errorClass = classify(cause);
    const failure = new DeliveryError(
      batches.map((batch) => batch.topic),
      count,
      errorClass,
      this.#options.signal?.aborted ? `aborted: ${messageOf(cause)}` : messageOf(cause),
      { retriable: kafkaRetriable(error), cause: error },
    );
    for (const batch of batches)
      this.#options.metrics.produceErrors.inc({
        ...this.#labels,
        topic: batch.topic,
        error_class: errorClass,
      });
    (this.#options.onFailure ?? logDeliveryFailure)(failure, this.#consecutiveFailures);
  }

  async #replaceProducer(): Promise<void> {
    const old = this.#producer;
    this.#producer = this.#createProducer();
    this.#connected = false;
    await old.disconnect().catch(() => undefined);
  }

  #createProducer(): Producer {
    return this.#options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: cachingDefaultPartitioner,
      // Bounded, so that a dead cluster becomes a reported failure instead of a send that never ends.
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
  }
}

/**
 * kafkajs's Java-compatible DefaultPartitioner (murmur2 of the key over all partitions), memoised
 * per topic and key: producers send the same few symbol keys millions of times.
 */
export const cachingDefaultPartitioner: ICustomPartitioner = () => {
  const partition = Partitioners.DefaultPartitioner();
  const topics = new Map<string, { partitions: number; byKey: Map<unknown, number> }>();
  return (args) => {
    const key = args.message.key;
    if (key === null || key === undefined || args.message.partition !== undefined) return partition(args);
    let topic = topics.get(args.topic);
    if (topic?.partitions !== args.partitionMetadata.length) {
      topic = { partitions: args.partitionMetadata.length, byKey: new Map() };
      topics.set(args.topic, topic);
    }
    let chosen = topic.byKey.get(key);
    if (chosen === undefined) {
      chosen = partition(args);
      if (topic.byKey.size < 10_000) topic.byKey.set(key, chosen);
    }
    return chosen;
  };
};

interface KafkaJsError extends Error {
  retriable?: boolean;
  type?: string;
  cause?: unknown;
}

/** kafkajs wraps the last error of its retries in KafkaJSNumberOfRetriesExceeded. */
function rootCause(error: unknown): unknown {
  let current = error as KafkaJsError;
  while (current?.name === 'KafkaJSNumberOfRetriesExceeded' && current.cause)
    current = current.cause as KafkaJsError;
  return current;
}

/** Worth another send of the same batch: a connection, timeout or leadership problem, not a refused batch. */
function kafkaRetriable(error: unknown): boolean {
  const cause = rootCause(error) as KafkaJsError;
  return cause instanceof Error && cause.retriable === true;
}

/** The `error_class` label: the broker's error code name, else the client error's class. */
function classify(error: unknown): string {
  const e = error as KafkaJsError;
  if (typeof e?.type === 'string' && e.type !== '') return e.type;
  return e instanceof Error ? e.name : 'Unknown';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One JSON line on stderr: what was not delivered, where, and why. */
export function logDeliveryFailure(failure: DeliveryError): void {
  console.error(
    JSON.stringify({
      level: 'ERROR',
      logger: 'k2-producer',
      message: failure.message,
      code: failure.code,
      topics: failure.topics,
      messages: failure.messages,
      error_class: failure.errorClass,
    }),
  );
}
