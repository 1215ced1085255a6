import { createRequire } from 'node:module';
import { type Kafka, logLevel } from 'kafkajs';
import type { KafkaValue } from '../codec/batch.js';
import { createKafka } from '../kafka/client.js';
import { retry } from '../util/retry.js';
import type { TailRange, Watermarks } from './tail-ranges.js';

/** Where a query reads the Kafka tail from; tests substitute it. */
export interface TailSource {
  watermarks(topic: string): Promise<Watermarks[]>;
  /** Reads every range up to its end, handing records over in order per partition. */
  fetch(
    ranges: readonly TailRange[],
    onRecords: (range: TailRange, records: KafkaValue[]) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaTailOptions {
  brokers: string[];
  clientId?: string;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Bytes per partition per fetch. */
  partitionBytes?: number;
}

/*
 * kafkajs reads partitions only through consumer groups, and joining a group costs a rebalance per
 * query. A query needs fixed offset ranges and no group, so this reads them the way kafkajs's own
 * consumer does, through its cluster and broker objects (kafkajs 2.x internals, pinned by the lock
 * file) and its Batch class, which drops control records and aborted transactions.
 */
const require = createRequire(import.meta.url);
const Batch = require('kafkajs/src/consumer/batch.js') as new (
  topic: string,
  fetchedOffset: string,
  partitionData: unknown,
) => FetchedBatch;
const READ_COMMITTED = 1;

interface FetchedBatch {
  messages: { offset: string; value: Buffer | null; headers?: KafkaValue['headers'] }[];
  lastOffset(): string;
}

interface Broker {
  fetch(request: {
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: { partition: number }[] }[] }>;
}

interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<Broker>;
  fetchTopicsOffset(
    topics: { topic: string; partitions: { partition: number }[]; fromBeginning: boolean }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

function createCluster(kafka: Kafka): Cluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  );
  if (!symbol)
    throw new TypeError('this kafkajs version does not expose its cluster; the query tail needs kafkajs 2.x');
  const factory = (kafka as unknown as Record<symbol, (options: object) => Cluster>)[symbol]!;
  return factory({ allowAutoTopicCreation: false, isolationLevel: READ_COMMITTED, metadataMaxAge: 60_000 });
}

const shortRetry = { attempts: 3, initialDelayMs: 100, maxDelayMs: 1_000 };
/** A partition that returns nothing this many fetches in a row, below its end, is stuck. */
const MAX_STALLS = 20;

export class KafkaTailSource implements TailSource {
  readonly #kafka: Kafka;
  readonly #partitionBytes: number;
  #cluster: Promise<Cluster> | undefined;

  constructor(options: KafkaTailOptions) {
    this.#kafka = createKafka({
      brokers: options.brokers,
      clientId: options.clientId ?? 'k2-query',
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
      // A broker that cannot be reached becomes the answer's warning, not log lines per attempt.
      logLevel: logLevel.NOTHING,
    });
    this.#partitionBytes = options.partitionBytes ?? 4 * 1024 * 1024;
  }

  async watermarks(topic: string): Promise<Watermarks[]> {
    return this.#withCluster(async (cluster) => {
      await cluster.addMultipleTargetTopics([topic]);
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
      const [low, high] = await Promise.all(
        [true, false].map((fromBeginning) =>
          cluster.fetchTopicsOffset([{ topic, partitions, fromBeginning }]),
        ),
      );
      const lows = new Map(low![0]?.partitions.map((p) => [p.partition, BigInt(p.offset)]));
      return (high![0]?.partitions ?? []).map((p) => ({
        partition: p.partition,
        low: lows.get(p.partition) ?? 0n,
        high: BigInt(p.offset),
      }));
    });
  }

  async fetch(
    ranges: readonly TailRange[],
    onRecords: (range: TailRange, records: KafkaValue[]) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const next = new Map(ranges.map((r) => [key(r), r.from]));
    const stalls = new Map<string, number>();
    let pending = ranges.filter((r) => r.from < r.to);
    while (pending.length > 0) {
      signal.throwIfAborted();
      const byLeader = await this.#withCluster(async (cluster) => {
        await cluster.addMultipleTargetTopics([...new Set(pending.map((r) => r.topic))]);
        const groups = new Map<string, TailRange[]>();
        for (const topic of new Set(pending.map((r) => r.topic))) {
          const mine = pending.filter((r) => r.topic === topic);
          const leaders = cluster.findLeaderForPartitions(
            topic,
            mine.map((r) => r.partition),
          );
          for (const [nodeId, partitions] of Object.entries(leaders)) {
            const list = groups.get(nodeId) ?? [];
            list.push(...mine.filter((r) => partitions.includes(r.partition)));
            groups.set(nodeId, list);
          }
        }
        return groups;
      });
      await Promise.all(
        [...byLeader].map(([nodeId, leaderRanges]) =>
          this.#fetchFromLeader(nodeId, leaderRanges, next, stalls, onRecords),
        ),
      );
      pending = pending.filter((r) => next.get(key(r))! < r.to);
      for (const range of pending) {
        if ((stalls.get(key(range)) ?? 0) >= MAX_STALLS) {
          throw new Error(
            `${range.topic}/${range.partition}: no records between offset ${next.get(key(range))} and ${range.to} after ${MAX_STALLS} fetches`,
          );
        }
      }
    }
  }

  async close(): Promise<void> {
    const cluster = this.#cluster;
    this.#cluster = undefined;
    if (cluster) await (await cluster.catch(() => undefined))?.disconnect();
  }

  async #fetchFromLeader(
    nodeId: string,
    ranges: TailRange[],
    next: Map<string, bigint>,
    stalls: Map<string, number>,
    onRecords: (range: TailRange, records: KafkaValue[]) => Promise<void>,
  ): Promise<void> {
    const requested = new Map(ranges.map((r) => [key(r), next.get(key(r))!]));
    const { responses } = await this.#withCluster(async (cluster) => {
      const broker = await cluster.findBroker({ nodeId });
      const topics = [...new Set(ranges.map((r) => r.topic))].map((topic) => ({
        topic,
        partitions: ranges
          .filter((r) => r.topic === topic)
          .map((r) => ({
            partition: r.partition,
            fetchOffset: String(requested.get(key(r))),
            maxBytes: this.#partitionBytes,
          })),
      }));
      return broker.fetch({
        isolationLevel: READ_COMMITTED,
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: this.#partitionBytes * 4,
        topics,
      });
    });
    for (const { topicName, partitions } of responses) {
      for (const data of partitions) {
        const range = ranges.find((r) => r.topic === topicName && r.partition === data.partition);
        if (!range) continue;
        const from = requested.get(key(range))!;
        const batch = new Batch(topicName, String(from), data);
        const records: KafkaValue[] = [];
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (offset >= range.to) break;
          records.push({ value: message.value, offset, headers: message.headers });
        }
        if (records.length > 0) await onRecords(range, records);
        const after = BigInt(batch.lastOffset()) + 1n;
        const advanced = after > from ? (after < range.to ? after : range.to) : from;
        next.set(key(range), advanced);
        stalls.set(key(range), advanced === from ? (stalls.get(key(range)) ?? 0) + 1 : 0);
      }
    }
  }

  /** Runs against a connected cluster; a failure drops the connection so the next call starts afresh. */
  async #withCluster<T>(task: (cluster: Cluster) => Promise<T>): Promise<T> {
    return retry(
      async () => {
        this.#cluster ??= (async () => {
          const cluster = createCluster(this.#kafka);
          await cluster.connect();
          return cluster;
        })();
        const cluster = await this.#cluster.catch((error) => {
          this.#cluster = undefined;
          throw error;
        });
        try {
          return await task(cluster);
        } catch (error) {
          if ((error as { retriable?: unknown }).retriable === true)
            await cluster.refreshMetadata().catch(() => undefined);
          throw error;
        }
      },
      { policy: shortRetry },
    );
  }
}

function key(range: { topic: string; partition: number }): string {
  return `${range.topic}\u0000${range.partition}`;
}
