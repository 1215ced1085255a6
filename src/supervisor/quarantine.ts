import type { KafkaMessage, Producer } from 'kafkajs';
import type { DecodedBatch } from '../codec/decode.js';
import { dlqHeader, dlqMessage } from '../dlq/index.js';
import type { CircuitBreaker } from '../health/circuit-breaker.js';
import type { PartitionIngest } from '../ingest/partition-ingest.js';
import type { Journal } from '../journal/index.js';
import type { FetchedRecord } from '../kafka/fetched.js';
import type { TailSource } from '../query/kafka-source.js';
import { retry } from '../util/retry.js';

export interface QuarantineDeps {
  producer: Producer;
  /** Reads DLQ partitions back on assignment. */
  dlqReader: TailSource;
  journal: Journal;
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** The consumer group: its k2.consumer.group header marks this pipeline's quarantines. */
  group: string;
  /** DLQ sends run under this breaker, when given. */
  breaker?: CircuitBreaker;
}

/**
 * The DLQ side of ingestion (the DlqActor's work): poison to the source's partition of
 * `<topic>.dlq`, acknowledged before the batch may commit, and on assignment a scan of that DLQ
 * partition so a replay after a crash does not quarantine the same record twice.
 */
export class Quarantine {
  constructor(private readonly deps: QuarantineDeps) {}

  /**
   * Source offsets this group already quarantined past the partition's start (a run that died
   * before its commit): they are not written to the DLQ again. Reads the DLQ partition from where
   * the checkpoint left it (from its start when there is none) to its end.
   */
  async scan(state: PartitionIngest): Promise<void> {
    const dlqTopic = `${state.topic}.dlq`;
    const group = this.deps.group;
    const marks = await retry(() => this.deps.dlqReader.watermarks(dlqTopic), {
      policy: { attempts: 1_000, initialDelayMs: 200, maxDelayMs: 10_000 },
    });
    const mark = marks.find((m) => m.partition === state.partition);
    if (!mark) return;
    const from =
      state.dlqNextOffset !== null && state.dlqNextOffset > mark.low ? state.dlqNextOffset : mark.low;
    if (from < mark.high) {
      const header = (headers: KafkaMessage['headers'], name: string) => {
        const value = headers?.[name];
        return (Array.isArray(value) ? value.at(-1) : value)?.toString();
      };
      await retry(() =>
        this.deps.dlqReader.fetch(
          [{ topic: dlqTopic, partition: state.partition, from, to: mark.high }],
          async (_range, records) => {
            for (const record of records) {
              const h = record.headers;
              if (
                header(h, dlqHeader.group) === group &&
                header(h, dlqHeader.sourceTopic) === state.topic &&
                header(h, dlqHeader.sourcePartition) === String(state.partition)
              ) {
                const offset = header(h, dlqHeader.sourceOffset);
                if (
                  offset !== undefined &&
                  BigInt(offset) >= state.nextOffset &&
                  !state.quarantined.has(offset)
                )
                  state.quarantined.set(offset, BigInt(record.offset));
              }
            }
          },
          AbortSignal.timeout(60_000),
        ),
      );
    }
    state.dlqNextOffset = mark.high;
  }

  /** Poison records go to `<topic>.dlq` with their original bytes; acknowledged before the offsets can commit. */
  async write(
    state: PartitionIngest,
    recordAt: (offset: bigint) => FetchedRecord | undefined,
    decoded: DecodedBatch,
    onRetry: () => void = () => undefined,
  ): Promise<void> {
    const { topic, partition } = state;
    // Found by the scan: skipped here, forgotten once the batch is accepted (a failed batch is retried).
    const failures = decoded.failures.filter((f) => !state.quarantined.has(String(f.offset)));
    if (failures.length < decoded.failures.length) {
      this.deps.log('poison already in the DLQ from an earlier run; not written again', {
        topic,
        partition,
        records: decoded.failures.length - failures.length,
      });
    }
    if (failures.length === 0) return;
    const at = new Date();
    const { group } = this.deps;
    const out = failures.map((failure) => {
      const message = recordAt(failure.offset);
      if (!message)
        throw new RangeError(`${topic}/${partition}: no record at ${failure.offset} to quarantine`);
      return dlqMessage(
        {
          topic,
          partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          headers: message.headers,
          timestamp: message.timestamp,
        },
        {
          name: 'PoisonRecordError',
          code: failure.code,
          retriable: false,
          message: failure.reason,
          stage: 'decode',
        },
        at,
        { group },
      );
    });
    const send = () =>
      this.deps.producer.send({ topic: `${topic}.dlq`, acks: -1, messages: out.map((o) => o.message) });
    const { breaker } = this.deps;
    const sent = await retry(() => (breaker ? breaker.run(send) : send()), {
      policy: { attempts: 1_000, initialDelayMs: 200, maxDelayMs: 10_000 },
      shouldRetry: () => true,
      onRetry,
    });
    const written = sent.find((m) => m.partition === partition);
    if (written?.baseOffset !== undefined)
      state.dlqNextOffset = BigInt(written.baseOffset) + BigInt(out.length);
    for (const failure of failures) {
      this.deps.journal.append({
        type: 'dlq.written',
        topic,
        partition,
        offset: String(failure.offset),
        dlqTopic: `${topic}.dlq`,
        errorClass: 'PoisonRecordError',
        code: failure.code,
        stage: 'decode',
      });
    }
  }
}
