import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Admin, Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import { createActor, fromPromise, type InspectionEvent } from 'xstate';
import { type CommitCycleOutcome, commitMachine } from '../actors/commit.machine.js';
import { packBatch } from '../codec/batch.js';
import type { DecodedBatch } from '../codec/decode.js';
import { tableForTopic } from '../codec/schemas.js';
import type { K2Config } from '../config/index.js';
import { dlqMessage } from '../dlq/index.js';
import { ConfigError } from '../errors/index.js';
import type { Warehouse } from '../iceberg/table.js';
import { ensureK2Table } from '../iceberg/table.js';
import { MARKET_DATA } from '../iceberg/tables.js';
import type { TableName } from '../iceberg/types.js';
import { PartitionIngest } from '../ingest/partition-ingest.js';
import { type FlushedPartition, TableWriter } from '../ingest/table-writer.js';
import { gapEvent, type Journal, sequenceObserved } from '../journal/index.js';
import type { MetricCatalogue } from '../metrics/index.js';
import type { Registry } from '../registry/registry.js';
import type { SequenceEvent } from '../sequence/index.js';
import { retry } from '../util/retry.js';
import type { CodecPool } from '../workers/pool.js';

type InspectionObserver = (event: InspectionEvent) => void;

export interface IngestDeps {
  config: K2Config;
  /** xstate inspection, fed into the journal (actor transitions). */
  inspect?: InspectionObserver;
  catalogue: MetricCatalogue;
  journal: Journal;
  pool: CodecPool;
  registry: Registry;
  warehouse: Warehouse;
  consumer: Consumer;
  producer: Producer;
  admin: Admin;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

const key = (topic: string, partition: number) => `${topic}/${partition}`;

/** The table a topic lands in; a topic outside K2's naming is a configuration error. */
export function landingTable(topic: string): TableName {
  const table = tableForTopic(topic);
  if (!table) {
    throw new ConfigError(
      'K2_TOPICS',
      `${topic} is not a K2 topic (market.<asset_class>.<trades|quotes|reference_data>)`,
    );
  }
  return table;
}

/**
 * The ingest loop: kafkajs batches → decode in the pool → DLQ for poison → dedupe and sequence
 * tracking → buffers per partition; CommitActors seal the buffers into files and snapshots, and
 * only then commit Kafka offsets. Iceberg's recorded offsets decide where a partition starts.
 */
export class IngestService {
  readonly writerId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  readonly partitions = new Map<string, PartitionIngest>();
  readonly #writers = new Map<TableName, TableWriter>();
  readonly #commitActors = new Map<TableName, ReturnType<typeof this.createCommitActor>>();
  /** Files written but not yet committed, retried with the same commit id until they land. */
  readonly #unsettled = new Map<TableName, { flushed: FlushedPartition[]; commitId: string }>();
  readonly #paused = new Map<string, () => void>();
  #inFlight = 0;
  #stopping = false;
  readonly #lag = new Map<string, number>();
  #lastCommitMs = 0;

  /** Signals for the HealthActor: lag summed over this process's partitions, last commit latency. */
  observations(): { consumerLag: number; commitLatencyMs: number } {
    let consumerLag = 0;
    for (const lag of this.#lag.values()) consumerLag += lag;
    return { consumerLag, commitLatencyMs: this.#lastCommitMs };
  }

  constructor(private readonly deps: IngestDeps) {}

  get tables(): TableName[] {
    return [...new Set(this.deps.config.supervisor.topics.map(landingTable))];
  }

  async start(): Promise<void> {
    const { config, consumer, warehouse } = this.deps;
    for (const table of this.tables) {
      await ensureK2Table(warehouse, table);
      this.#writers.set(
        table,
        new TableWriter(
          table,
          `${MARKET_DATA}.${table}`,
          warehouse,
          this.deps.pool,
          config.kafka.groupId,
          this.writerId,
        ),
      );
      const actor = this.createCommitActor(table);
      this.#commitActors.set(table, actor);
      actor.start();
    }
    await consumer.connect();
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.#onAssignment(event.payload.memberAssignment));
    await consumer.subscribe({ topics: config.supervisor.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => this.#onBatch(payload),
    });
  }

  createCommitActor(table: TableName) {
    const machine = commitMachine.provide({
      actors: { cycle: fromPromise<CommitCycleOutcome, { table: string }>(() => this.commitCycle(table)) },
    });
    return createActor(machine, {
      id: `commit-${table}`,
      input: { table, intervalMs: this.deps.config.supervisor.commitIntervalMs, retryDelayMs: 500 },
      inspect: this.deps.inspect,
    });
  }

  /** Partitions no longer assigned are forgotten: their new owner resumes from the table's offsets. */
  #onAssignment(assignment: Record<string, number[]>): void {
    const assigned = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => key(t, p))));
    for (const [k, state] of this.partitions) {
      if (!assigned.has(k)) {
        this.partitions.delete(k);
        this.#paused.delete(k);
        this.#lag.delete(k);
        this.deps.journal.append({
          type: 'partition.revoked',
          topic: state.topic,
          partition: state.partition,
        });
      }
    }
  }

  /** The partition's state, created from the table's recorded offset the first time a batch arrives. */
  async #partition(topic: string, partition: number, firstOffset: bigint): Promise<PartitionIngest> {
    const existing = this.partitions.get(key(topic, partition));
    if (existing) return existing;
    const table = landingTable(topic);
    const recorded = await this.#writers.get(table)!.recordedOffset(topic, partition);
    const start = recorded ?? firstOffset;
    const state = new PartitionIngest(topic, partition, table, start);
    this.partitions.set(key(topic, partition), state);
    this.deps.journal.append({
      type: 'partition.assigned',
      topic,
      partition,
      actorId: `partition-${topic}-${partition}`,
      nextOffset: String(start),
    });
    this.deps.log('partition assigned', {
      topic,
      partition,
      nextOffset: String(start),
      from: recorded === undefined ? 'kafka' : 'iceberg',
    });
    return state;
  }

  async #onBatch({
    batch,
    heartbeat,
    pause,
    isRunning,
    isStale,
    resolveOffset,
  }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || this.#stopping || batch.messages.length === 0) return;
    const { topic, partition } = batch;
    this.#inFlight++;
    try {
      const first = BigInt(batch.firstOffset() ?? batch.messages[0]!.offset);
      const state = await this.#partition(topic, partition, first);
      if (first > state.nextOffset && state.nextOffset >= 0n) {
        // Kafka is ahead of what the table holds: go back (Iceberg wins).
        this.deps.consumer.seek({ topic, partition, offset: String(state.nextOffset) });
        return;
      }
      // Resolving moves kafkajs's fetch position only (commits are ours); unresolved, it fetches the batch again.
      const messages = batch.messages.filter((m) => BigInt(m.offset) >= state.nextOffset);
      if (messages.length === 0) {
        resolveOffset(batch.lastOffset());
        return;
      }
      const next = BigInt(batch.lastOffset()) + 1n;
      const decoded = await this.#decode(state.table, messages);
      await this.#quarantine(topic, partition, messages, decoded);
      const bytes = messages.reduce((n, m) => n + (m.value?.length ?? 0), 0);
      const accepted = state.accept(decoded, state.nextOffset, next, bytes);
      resolveOffset(batch.lastOffset());
      this.#observe(
        topic,
        partition,
        messages.length,
        decoded,
        accepted.events,
        BigInt(batch.highWatermark) - next,
      );
      await heartbeat();
      const { maxBufferedRows, commitRows } = this.deps.config.supervisor;
      if (state.buffered.rows >= maxBufferedRows) {
        this.#paused.set(key(topic, partition), pause());
        this.#commitActors.get(state.table)?.send({ type: 'flush.now' });
      } else if (this.#tableRows(state.table) >= commitRows) {
        this.#commitActors.get(state.table)?.send({ type: 'flush.now' });
      }
    } finally {
      this.#inFlight--;
    }
  }

  #tableRows(table: TableName): number {
    let rows = 0;
    for (const state of this.partitions.values()) if (state.table === table) rows += state.buffered.rows;
    return rows;
  }

  /** Decodes in the pool; records the registry could not be asked about are retried, never dropped. */
  async #decode(table: TableName, messages: KafkaMessage[]): Promise<DecodedBatch> {
    return retry(
      async () => {
        const batch = packBatch(messages.map((m) => ({ value: m.value, offset: BigInt(m.offset) })));
        const decoded = await this.deps.pool.decode(table, batch, this.deps.registry);
        const retriable = decoded.failures.find((f) => f.retriable);
        if (retriable) {
          this.deps.catalogue.errors.inc({ stage: 'decode', error_class: retriable.code });
          throw Object.assign(new Error(`${retriable.code}: ${retriable.reason}`), { retriable: true });
        }
        return decoded;
      },
      { policy: { attempts: 1_000, initialDelayMs: 200, maxDelayMs: 10_000 } },
    );
  }

  /** Poison records go to `<topic>.dlq` with their original bytes; acknowledged before the offsets can commit. */
  async #quarantine(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    decoded: DecodedBatch,
  ): Promise<void> {
    if (decoded.failures.length === 0) return;
    const at = new Date();
    const byOffset = new Map(messages.map((m) => [m.offset, m]));
    const out = decoded.failures.map((failure) => {
      const message = byOffset.get(String(failure.offset))!;
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
      );
    });
    await retry(
      () => this.deps.producer.send({ topic: `${topic}.dlq`, acks: -1, messages: out.map((o) => o.message) }),
      {
        policy: { attempts: 1_000, initialDelayMs: 200, maxDelayMs: 10_000 },
        shouldRetry: () => true,
      },
    );
    for (const failure of decoded.failures) {
      this.deps.catalogue.dlqMessages.inc({ topic, error_class: failure.code });
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

  #observe(
    topic: string,
    partition: number,
    records: number,
    decoded: DecodedBatch,
    events: readonly SequenceEvent[],
    lag: bigint,
  ): void {
    const { catalogue } = this.deps;
    catalogue.messagesConsumed.inc({ topic, partition }, records);
    catalogue.batchRecords.observe({ topic }, records);
    catalogue.consumerLag.set({ topic, partition }, Number(lag));
    this.#lag.set(key(topic, partition), Number(lag));
    this.deps.journal.append({
      type: 'batch.decoded',
      topic,
      partition,
      records,
      failed: decoded.failures.length,
      durationMs: 0,
    });
    for (const event of events) this.deps.journal.append(gapEvent(event));
    const state = this.partitions.get(key(topic, partition));
    if (state) this.deps.journal.append(sequenceObserved({ topic, partition }, state.tracker.takeProgress()));
  }

  /**
   * One commit cycle of a table: settle what an earlier cycle left (same commit id), else seal
   * every partition, write the files and commit them with the offsets; then Kafka offsets.
   */
  async commitCycle(table: TableName): Promise<CommitCycleOutcome> {
    try {
      return await this.#commitCycle(table);
    } catch (error) {
      const e = error as Error & { code?: string; retriable?: boolean };
      this.deps.catalogue.errors.inc({ stage: 'commit', error_class: e.name });
      this.deps.log('commit cycle failed; retrying with the same data', {
        table,
        error: e.message,
        code: e.code,
      });
      throw error;
    }
  }

  async #commitCycle(table: TableName): Promise<CommitCycleOutcome> {
    const writer = this.#writers.get(table)!;
    let unsettled = this.#unsettled.get(table);
    if (!unsettled) {
      const sealed = [...this.partitions.values()]
        .filter((p) => p.table === table)
        .flatMap((p) => p.seal() ?? []);
      if (sealed.length === 0) return { committed: 0, records: 0 };
      const started = performance.now();
      const flushed = await Promise.all(sealed.map((s) => writer.flush(s)));
      for (const f of flushed) {
        for (const file of f.files) {
          this.deps.catalogue.filesWritten.inc({ table });
          this.deps.catalogue.fileBytesWritten.inc({ table }, file.fileSizeInBytes);
        }
      }
      this.deps.catalogue.encodeDuration.observe({ table }, (performance.now() - started) / 1000);
      unsettled = { flushed, commitId: randomUUID() };
      this.#unsettled.set(table, unsettled);
    }
    const started = performance.now();
    const outcome = await writer.commit(unsettled.flushed, unsettled.commitId);
    this.#unsettled.delete(table);
    for (const conflict of outcome.conflicts) {
      const state = this.partitions.get(key(conflict.topic, conflict.partition));
      state?.resetTo(conflict.recordedNextOffset);
      if (state)
        this.deps.consumer.seek({
          topic: conflict.topic,
          partition: conflict.partition,
          offset: String(conflict.recordedNextOffset),
        });
    }
    const records = outcome.partitions.reduce((n, p) => n + p.sealed.rows, 0);
    if (outcome.result) {
      const seconds = (performance.now() - started) / 1000;
      this.#lastCommitMs = seconds * 1000;
      this.deps.catalogue.commitDuration.observe({ table }, seconds);
      this.deps.catalogue.snapshotsCommitted.inc({ table });
      this.deps.catalogue.messagesWritten.inc({ table }, records);
      const offsets = outcome.partitions.map(({ sealed }) => ({
        topic: sealed.topic,
        partition: sealed.partition,
        nextOffset: String(sealed.nextOffset),
      }));
      this.deps.journal.append({
        type: 'snapshot.committed',
        table,
        snapshotId: String(outcome.result.snapshot['snapshot-id']),
        records,
        files: outcome.partitions.reduce((n, p) => n + p.files.length, 0),
        durationMs: seconds * 1000,
        offsets,
      });
      await this.#commitKafkaOffsets(offsets);
    }
    for (const { sealed } of outcome.partitions) {
      const resume = this.#paused.get(key(sealed.topic, sealed.partition));
      if (resume) {
        this.#paused.delete(key(sealed.topic, sealed.partition));
        resume();
      }
    }
    return { committed: outcome.partitions.length, records };
  }

  /** Kafka's committed offsets follow the table's (for lag tooling); a failure here loses nothing. */
  async #commitKafkaOffsets(
    offsets: { topic: string; partition: number; nextOffset: string }[],
  ): Promise<void> {
    const group = this.deps.config.kafka.groupId;
    try {
      await this.deps.consumer.commitOffsets(
        offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.nextOffset })),
      );
      for (const o of offsets) this.deps.catalogue.offsetCommits.inc({ topic: o.topic, result: 'success' });
      this.deps.journal.append({ type: 'offsets.committed', group, offsets });
    } catch (error) {
      for (const o of offsets) this.deps.catalogue.offsetCommits.inc({ topic: o.topic, result: 'failure' });
      const e = error as Error;
      this.deps.journal.append({
        type: 'offsets.commit_failed',
        group,
        offsets,
        errorClass: e.name,
        code: 'K2_KAFKA_OFFSET_COMMIT',
        retriable: true,
        message: e.message,
      });
    }
  }

  /**
   * Graceful drain: stop fetching, let in-flight batches finish, commit everything buffered
   * (snapshot, then Kafka offsets) and leave the group. Bounded by `deadlineMs`.
   */
  async drain(deadlineMs: number): Promise<boolean> {
    this.#stopping = true;
    const deadline = Date.now() + deadlineMs;
    this.deps.consumer.pause(this.deps.config.supervisor.topics.map((topic) => ({ topic })));
    while (this.#inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const drained = Promise.all(
      [...this.#commitActors.values()].map(
        (actor) =>
          new Promise<void>((resolve) => {
            actor.subscribe({ complete: () => resolve() });
            actor.send({ type: 'drain' });
          }),
      ),
    );
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), Math.max(0, deadline - Date.now()))),
    ]);
    await this.deps.consumer.disconnect();
    return !timedOut;
  }
}
