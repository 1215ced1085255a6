import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Admin, Consumer, EachBatchPayload, Producer } from 'kafkajs';
import { type Actor, createActor, fromPromise, type InspectionEvent } from 'xstate';
import { type CommitCycleOutcome, commitMachine } from '../actors/commit.machine.js';
import { type PartitionEvent, partitionMachine } from '../actors/partition.machine.js';
import type { PackArea, RecordBatch } from '../codec/batch.js';
import type { DecodedBatch } from '../codec/decode.js';
import { tableForTopic } from '../codec/schemas.js';
import type { K2Config } from '../config/index.js';
import { ConfigError, FileNotFoundError } from '../errors/index.js';
import type { LevelBehaviour } from '../health/behaviour.js';
import type { CircuitBreaker } from '../health/circuit-breaker.js';
import { ErrorWindow } from '../health/error-window.js';
import type { Warehouse } from '../iceberg/table.js';
import { ensureK2Table } from '../iceberg/table.js';
import { MARKET_DATA } from '../iceberg/tables.js';
import { GAPS_TABLE, type TableName } from '../iceberg/types.js';
import { type PartitionCheckpoint, readCheckpoint, writeCheckpoints } from '../ingest/checkpoint.js';
import { commitGaps, type GapPart } from '../ingest/gaps.js';
import { PartitionIngest, type SealedRows } from '../ingest/partition-ingest.js';
import { type EncodedPartition, type FlushedPartition, TableWriter } from '../ingest/table-writer.js';
import { gapEvent, type Journal, sequenceObserved } from '../journal/index.js';
import { FetchedRecords } from '../kafka/fetched.js';
import type { TailSource } from '../query/kafka-source.js';
import type { SequenceEvent } from '../sequence/index.js';
import { retry } from '../util/retry.js';
import type { CodecPool, WriterSchemaSource } from '../workers/pool.js';
import { Quarantine } from './quarantine.js';

type InspectionObserver = (event: InspectionEvent) => void;

export interface IngestDeps {
  config: K2Config;
  /** xstate inspection, fed into the journal (actor transitions). */
  inspect?: InspectionObserver;
  journal: Journal;
  pool: CodecPool;
  /** Writer schemas by id (the registry, behind its circuit breaker). */
  registry: WriterSchemaSource;
  /** Calls to the DLQ producer run under this breaker, when given. */
  dlqBreaker?: CircuitBreaker;
  warehouse: Warehouse;
  consumer: Consumer;
  producer: Producer;
  admin: Admin;
  /** Reads DLQ partitions back on assignment (what an earlier run already quarantined). */
  dlqReader: TailSource;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

const key = (topic: string, partition: number) => `${topic}/${partition}`;
/** Times a partition re-reads its recorded offset when its checkpoint was superseded meanwhile. */
const CHECKPOINT_RELOADS = 5;

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
  /** The PartitionActor of each partition with state here (its lifecycle, for the journal and /status). */
  readonly #partitionActors = new Map<string, Actor<typeof partitionMachine>>();
  readonly #writers = new Map<TableName, TableWriter>();
  readonly #commitActors = new Map<TableName, ReturnType<typeof this.createCommitActor>>();
  /** Files written but not yet committed, retried with the same commit id until they land. */
  readonly #unsettled = new Map<
    TableName,
    {
      encoded: EncodedPartition[];
      encodeMs: number;
      commitId: string;
      flushed?: FlushedPartition[];
      uploadMs?: number;
    }
  >();
  /** Gaps of committed ranges not yet in the gaps table, retried before the table's next cycle. */
  readonly #unsettledGaps = new Map<TableName, GapPart[]>();
  #gapsWriter: TableWriter | undefined;
  /** Each partition's checkpoint of its last commit by this process, deleted once a newer one commits. */
  readonly #checkpoints = new Map<string, string>();
  readonly #paused = new Map<string, () => void>();
  #inFlight = 0;
  #stopping = false;
  readonly #lag = new Map<string, number>();
  #lastCommitMs = 0;
  /** The health level's commit-interval multiplier (the size trigger stays: it bounds memory). */
  #commitMultiplier = 1;
  #lowPriorityPaused = false;
  /** Tables whose partitions were at least a commit's worth behind (see #caughtUp). */
  readonly #behind = new Set<TableName>();
  /** Errors per record over the last minute: poison, retried decodes and failed commit cycles. */
  readonly #errors = new ErrorWindow();
  readonly #quarantine: Quarantine;

  /** Signals for the HealthActor: lag summed over this process's partitions, last commit latency. */
  observations(): { consumerLag: number; commitLatencyMs: number; errorRatio?: number } {
    let consumerLag = 0;
    for (const lag of this.#lag.values()) consumerLag += lag;
    return { consumerLag, commitLatencyMs: this.#lastCommitMs, errorRatio: this.#errors.ratio() };
  }

  constructor(private readonly deps: IngestDeps) {
    this.#quarantine = new Quarantine({
      producer: deps.producer,
      dlqReader: deps.dlqReader,
      journal: deps.journal,
      log: deps.log,
      group: deps.config.kafka.groupId,
      breaker: deps.dlqBreaker,
    });
  }

  get tables(): TableName[] {
    return [...new Set(this.deps.config.supervisor.topics.map(landingTable))];
  }

  async start(): Promise<void> {
    const { config, consumer, warehouse } = this.deps;
    if (this.tables.some((t) => t !== 'reference_data_v2')) {
      await ensureK2Table(warehouse, GAPS_TABLE);
      this.#gapsWriter = this.#writer(GAPS_TABLE);
    }
    for (const table of this.tables) {
      await ensureK2Table(warehouse, table);
      this.#writers.set(table, this.#writer(table));
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

  #writer(table: TableName | typeof GAPS_TABLE): TableWriter {
    const { warehouse, pool, config } = this.deps;
    return new TableWriter(
      table,
      `${MARKET_DATA}.${table}`,
      warehouse,
      pool,
      config.kafka.groupId,
      this.writerId,
    );
  }

  /** What the health level asks of ingestion: commit spacing and whether low-priority topics wait. */
  applyBehaviour(behaviour: LevelBehaviour): void {
    const { config, consumer } = this.deps;
    if (behaviour.commitIntervalMultiplier !== this.#commitMultiplier) {
      this.#commitMultiplier = behaviour.commitIntervalMultiplier;
      const intervalMs = config.supervisor.commitIntervalMs * this.#commitMultiplier;
      for (const actor of this.#commitActors.values()) actor.send({ type: 'configure', intervalMs });
    }
    const low = config.supervisor.lowPriorityTopics.map((topic) => ({ topic }));
    if (low.length > 0 && behaviour.pauseLowPriority !== this.#lowPriorityPaused && !this.#stopping) {
      this.#lowPriorityPaused = behaviour.pauseLowPriority;
      if (behaviour.pauseLowPriority) consumer.pause(low);
      else consumer.resume(low);
      this.deps.log(
        behaviour.pauseLowPriority ? 'low-priority topics paused' : 'low-priority topics resumed',
        { topics: config.supervisor.lowPriorityTopics },
      );
    }
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
        this.#partitionEvent(k, { type: 'revoked' });
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
    const k = key(topic, partition);
    this.#partitionEvent(k, { type: 'revoked' }); // an earlier actor of this partition, if any
    const actor = createActor(partitionMachine, {
      id: `partition-${topic}-${partition}`,
      input: { topic, partition },
      inspect: this.deps.inspect,
    });
    this.#partitionActors.set(k, actor);
    actor.start();
    const { state, recorded, checkpoint } = await this.#resume(topic, partition, table, firstOffset);
    const start = state.nextOffset;
    await this.#quarantine.scan(state);
    this.partitions.set(k, state);
    actor.send({
      type: 'restored',
      nextOffset: String(start),
      checkpoint: checkpoint !== undefined,
      alreadyQuarantined: state.quarantined.size,
    });
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
      from: recorded.nextOffset === undefined ? 'kafka' : 'iceberg',
      checkpoint: checkpoint ? 'restored' : 'none',
      alreadyQuarantined: state.quarantined.size,
    });
    return state;
  }

  /**
   * The partition's state at the offset the table records, with its checkpoint restored. The
   * previous owner may still land a commit it had in flight and then delete the checkpoint read
   * here (it deletes a checkpoint only once a newer one is committed): a checkpoint gone missing
   * means the table has moved on, so the recorded offset is read again.
   */
  async #resume(
    topic: string,
    partition: number,
    table: TableName,
    firstOffset: bigint,
  ): Promise<{
    state: PartitionIngest;
    recorded: { nextOffset: bigint | undefined };
    checkpoint: PartitionCheckpoint | undefined;
  }> {
    for (let attempt = 1; ; attempt++) {
      const recorded = await this.#writers.get(table)!.recorded(topic, partition);
      const state = new PartitionIngest(topic, partition, table, recorded.nextOffset ?? firstOffset);
      try {
        return { state, recorded, checkpoint: await this.#restore(state, recorded.checkpoint) };
      } catch (error) {
        if (!(error instanceof FileNotFoundError) || attempt >= CHECKPOINT_RELOADS) throw error;
        this.deps.log('checkpoint superseded while resuming; reading the recorded offset again', {
          topic,
          partition,
          checkpoint: recorded.checkpoint,
        });
      }
    }
  }

  /**
   * Restores the tracker and message_id window from the checkpoint recorded with the partition's
   * offset, and writes its gaps if a crash came between the table's commit and the gaps table's.
   */
  async #restore(
    state: PartitionIngest,
    location: string | undefined,
  ): Promise<PartitionCheckpoint | undefined> {
    if (!location) return undefined;
    const checkpoint = await retry(() => readCheckpoint(this.deps.warehouse.io, location), {
      policy: { attempts: 1_000, initialDelayMs: 200, maxDelayMs: 10_000 },
    });
    state.restore(checkpoint);
    if (checkpoint.gaps.length > 0 && this.#gapsWriter) {
      const written = await this.#gapsWriter.recordedOffset(state.topic, state.partition);
      if (written === undefined || written < checkpoint.nextOffset) {
        await retry(() =>
          this.#commitGaps(
            [
              {
                topic: state.topic,
                partition: state.partition,
                fromOffset: checkpoint.fromOffset,
                nextOffset: checkpoint.nextOffset,
                gaps: checkpoint.gaps,
              },
            ],
            randomUUID(),
          ),
        );
      }
    }
    return checkpoint;
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
      const fetched = await FetchedRecords.of(batch.messages);
      // A whole record batch may start before kafkajs's fetch position; with nothing recorded in
      // the table for the group, the partition starts at that batch's first offset.
      const first = fetched.firstOffset!;
      const state = await this.#partition(topic, partition, first);
      if (first > state.nextOffset && state.nextOffset >= 0n) {
        // Kafka is ahead of what the table holds: go back (Iceberg wins).
        this.deps.consumer.seek({ topic, partition, offset: String(state.nextOffset) });
        return;
      }
      // Resolving moves kafkajs's fetch position only (commits are ours); unresolved, it fetches the batch again.
      if (BigInt(batch.lastOffset()) < state.nextOffset) {
        resolveOffset(batch.lastOffset());
        return;
      }
      const next = BigInt(batch.lastOffset()) + 1n;
      // While a dependency is down the batch waits in retries; heartbeats keep the partition ours.
      const keepAlive = () => void heartbeat().catch(() => undefined);
      const fromOffset = state.nextOffset;
      let bytes = 0;
      const decoded = await this.#decode(
        topic,
        partition,
        state.table,
        (area) => {
          const packed = fetched.pack(fromOffset, area);
          bytes = packed.values.length;
          return packed;
        },
        keepAlive,
      );
      await this.#quarantine.write(state, (offset) => fetched.record(offset), decoded.decoded, keepAlive);
      const accepted = state.accept(decoded.decoded, fromOffset, next, bytes);
      this.#encodeAhead(state);
      resolveOffset(batch.lastOffset());
      this.#observe(
        { topic, partition, fromOffset, nextOffset: next, bytes },
        decoded.decoded.rowCount + decoded.decoded.failures.length,
        decoded,
        accepted.events,
        BigInt(batch.highWatermark),
      );
      await heartbeat();
      const { maxBufferedRows, commitRows } = this.deps.config.supervisor;
      // Buffers are bounded by rows, bytes and age: backpressure, the size triggers, the interval.
      if (this.#heldRows() >= maxBufferedRows) {
        if (!this.#paused.has(key(topic, partition))) {
          this.#paused.set(key(topic, partition), pause());
          this.#partitionEvent(key(topic, partition), { type: 'paused' });
        }
        this.#commitActors.get(state.table)?.send({ type: 'flush.now' });
      } else if (this.#overCommitSize(state.table)) {
        this.#commitActors.get(state.table)?.send({ type: 'flush.now' });
      } else if (this.#caughtUp(state.table, commitRows)) {
        // A backlog just drained: commit its tail now rather than at the end of the interval.
        this.#commitActors.get(state.table)?.send({ type: 'flush.now' });
      }
    } finally {
      this.#inFlight--;
    }
  }

  /** A partition's buffered rows past K2_ENCODE_ROWS go to the pool as Parquet files now, not at the commit. */
  #encodeAhead(state: PartitionIngest): void {
    const { encodeRows } = this.deps.config.supervisor;
    if (encodeRows === 0 || state.buffered.unencodedRows < encodeRows) return;
    const writer = this.#writers.get(state.table)!;
    state.encodeAhead((chunks, keep) => writer.encodeFiles(chunks, keep));
  }

  /** True once per catch-up: the table's partitions were a commit's worth behind and now are at the end. */
  #caughtUp(table: TableName, commitRows: number): boolean {
    let lag = 0;
    for (const [k, value] of this.#lag) if (this.partitions.get(k)?.table === table) lag += value;
    if (lag >= commitRows) this.#behind.add(table);
    else if (lag === 0 && this.#behind.delete(table)) return true;
    return false;
  }

  /** Rows this process holds: buffered in partitions, plus sealed ones waiting in encoded files. */
  #heldRows(): number {
    let rows = 0;
    for (const state of this.partitions.values()) rows += state.buffered.rows;
    for (const unsettled of this.#unsettled.values())
      for (const part of unsettled.encoded) rows += part.sealed.rows;
    return rows;
  }

  /** The size triggers of a commit: the table's buffered rows (K2_COMMIT_ROWS) or source bytes (K2_COMMIT_BYTES). */
  #overCommitSize(table: TableName): boolean {
    const { commitRows, commitBytes } = this.deps.config.supervisor;
    let rows = 0;
    let bytes = 0;
    for (const state of this.partitions.values()) {
      if (state.table !== table) continue;
      rows += state.buffered.rows;
      bytes += state.buffered.bytes;
    }
    return rows >= commitRows || bytes >= commitBytes;
  }

  /** Decodes in the pool; records the registry could not be asked about are retried, never dropped. */
  async #decode(
    topic: string,
    partition: number,
    table: TableName,
    pack: (area: PackArea) => RecordBatch,
    onRetry: () => void,
  ): Promise<{ decoded: DecodedBatch; durationMs: number }> {
    return retry(
      async () => {
        const started = performance.now();
        const decoded = await this.deps.pool.decodePacked(table, pack, this.deps.registry);
        const retriable = decoded.failures.find((f) => f.retriable);
        if (retriable) {
          this.#errors.record(0, 1);
          this.deps.journal.append({
            type: 'error.raised',
            stage: 'decode',
            topic,
            partition,
            errorClass:
              retriable.code === 'K2_REGISTRY_UNAVAILABLE' ? 'RegistryUnavailableError' : 'DecodeError',
            code: retriable.code,
            retriable: true,
            message: retriable.reason,
          });
          throw Object.assign(new Error(`${retriable.code}: ${retriable.reason}`), { retriable: true });
        }
        return { decoded, durationMs: performance.now() - started };
      },
      { policy: { attempts: 1_000, initialDelayMs: 200, maxDelayMs: 10_000 }, onRetry },
    );
  }

  #observe(
    batch: { topic: string; partition: number; fromOffset: bigint; nextOffset: bigint; bytes: number },
    records: number,
    decoded: { decoded: DecodedBatch; durationMs: number },
    events: readonly SequenceEvent[],
    highWatermark: bigint,
  ): void {
    const { topic, partition } = batch;
    const { journal } = this.deps;
    const lag = Number(highWatermark - batch.nextOffset);
    this.#lag.set(key(topic, partition), lag);
    this.#errors.record(records, decoded.decoded.failures.length);
    journal.append({
      type: 'batch.received',
      topic,
      partition,
      fromOffset: String(batch.fromOffset),
      nextOffset: String(batch.nextOffset),
      records,
      bytes: batch.bytes,
    });
    journal.append({ type: 'lag.observed', topic, partition, lag, highWatermark: String(highWatermark) });
    journal.append({
      type: 'batch.decoded',
      topic,
      partition,
      records,
      failed: decoded.decoded.failures.length,
      durationMs: decoded.durationMs,
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
      this.#errors.record(0, 1);
      this.deps.journal.append({
        type: 'commit.failed',
        table,
        errorClass: e.name,
        code: e.code ?? 'K2_COMMIT_FAILED',
        retriable: e.retriable ?? true,
        message: e.message,
      });
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
    const gaps = this.#unsettledGaps.get(table);
    if (gaps) {
      await this.#commitGaps(gaps, randomUUID());
      this.#unsettledGaps.delete(table);
    }
    let unsettled = this.#unsettled.get(table);
    if (!unsettled) {
      const sealed = [...this.partitions.values()]
        .filter((p) => p.table === table)
        .flatMap((p) => p.seal() ?? []);
      if (sealed.length === 0) return { committed: 0, records: 0 };
      // From here the rows live in the encoded files: kept (with the commit id) until committed.
      const started = performance.now();
      let encoded: EncodedPartition[];
      try {
        encoded = await Promise.all(sealed.map((s) => writer.encode(s)));
      } catch (error) {
        // The rows went to a worker that failed: read them again from Kafka.
        this.#replay(sealed);
        throw error;
      }
      unsettled = { encoded, encodeMs: performance.now() - started, commitId: randomUUID() };
      this.#unsettled.set(table, unsettled);
    }
    if (!unsettled.flushed) {
      const { encodeMs } = unsettled;
      const uploadStarted = performance.now();
      const flushed = await Promise.all(
        unsettled.encoded.map(async (part) => {
          const started = performance.now();
          const uploaded = await writer.upload(part);
          // One encode task per partition: its time and the upload's are shared among its files.
          const durationMs = (encodeMs + performance.now() - started) / Math.max(1, part.files.length);
          for (const file of uploaded.files) {
            this.deps.journal.append({
              type: 'file.written',
              table,
              filePath: file.filePath,
              records: Number(file.recordCount),
              bytes: file.fileSizeInBytes,
              durationMs,
            });
          }
          return uploaded;
        }),
      );
      await writeCheckpoints(
        this.deps.warehouse.io,
        await writer.location(),
        this.deps.config.kafka.groupId,
        flushed,
        unsettled.commitId,
      );
      unsettled.flushed = flushed;
      unsettled.uploadMs = performance.now() - uploadStarted;
    }
    const started = performance.now();
    const outcome = await writer.commit(unsettled.flushed, unsettled.commitId);
    this.#unsettled.delete(table);
    // Someone else committed these ranges: start over from the table (offsets and checkpoint).
    for (const conflict of outcome.conflicts)
      this.#restartAt(conflict.topic, conflict.partition, conflict.recordedNextOffset);
    const records = outcome.partitions.reduce((n, p) => n + p.sealed.rows, 0);
    if (outcome.result) {
      const seconds = (performance.now() - started) / 1000;
      this.#lastCommitMs = seconds * 1000;
      this.deps.log('snapshot committed', {
        table,
        snapshotId: String(outcome.result.snapshot['snapshot-id']),
        records,
        files: outcome.partitions.reduce((n, p) => n + p.files.length, 0),
        encodeMs: Math.round(unsettled.encodeMs),
        uploadMs: Math.round(unsettled.uploadMs ?? 0),
        commitMs: Math.round(seconds * 1000),
      });
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
      await this.#forgetOldCheckpoints(outcome.partitions);
      const gapParts = outcome.partitions
        .filter((p) => p.sealed.gaps.length > 0)
        .map(({ topic, partition, fromOffset, nextOffset, sealed }) => ({
          topic,
          partition,
          fromOffset,
          nextOffset,
          gaps: sealed.gaps,
        }));
      if (gapParts.length > 0) {
        this.#unsettledGaps.set(table, gapParts);
        await this.#commitGaps(gapParts, unsettled.commitId);
        this.#unsettledGaps.delete(table);
      }
    }
    // Rows left memory: every paused partition may fetch again (it pauses again if still over).
    if (this.#heldRows() < this.deps.config.supervisor.maxBufferedRows) {
      for (const [k, resume] of this.#paused) {
        resume();
        this.#partitionEvent(k, { type: 'resumed' });
      }
      this.#paused.clear();
    }
    return { committed: outcome.partitions.length, records };
  }

  /** Forgets a partition's state and reads it again from `offset`; its state is rebuilt from the table. */
  #restartAt(topic: string, partition: number, offset: bigint): void {
    const k = key(topic, partition);
    if (this.partitions.delete(k)) this.deps.consumer.seek({ topic, partition, offset: String(offset) });
    this.#partitionEvent(k, { type: 'replay', fromOffset: String(offset) });
    this.#checkpoints.delete(k);
    const resume = this.#paused.get(k);
    if (resume) {
      this.#paused.delete(k);
      resume();
    }
  }

  /** Sends an event to a partition's actor; a final state ends it (a later batch starts a new one). */
  #partitionEvent(k: string, event: PartitionEvent): void {
    const actor = this.#partitionActors.get(k);
    if (!actor) return;
    actor.send(event);
    if (actor.getSnapshot().status === 'done') {
      actor.stop();
      this.#partitionActors.delete(k);
    }
  }

  /** Sealed rows that can no longer be written: their partitions read them again. */
  #replay(sealed: SealedRows[]): void {
    for (const s of sealed) this.#restartAt(s.topic, s.partition, s.fromOffset);
  }

  /** A committed checkpoint replaces the partition's previous one, which nothing will read again. */
  async #forgetOldCheckpoints(parts: FlushedPartition[]): Promise<void> {
    const old: string[] = [];
    for (const part of parts) {
      const k = key(part.topic, part.partition);
      const previous = this.#checkpoints.get(k);
      if (previous && previous !== part.checkpoint) old.push(previous);
      if (part.checkpoint) this.#checkpoints.set(k, part.checkpoint);
    }
    if (old.length > 0) await this.deps.warehouse.io.delete(old).catch(() => undefined);
  }

  /** Commits ranges' gaps to the gaps table (see commitGaps) and journals the snapshot. */
  async #commitGaps(parts: GapPart[], commitId: string): Promise<void> {
    if (!this.#gapsWriter) return;
    const outcome = await commitGaps(this.#gapsWriter, parts, commitId);
    if (outcome.result) {
      this.deps.journal.append({
        type: 'snapshot.committed',
        table: GAPS_TABLE,
        snapshotId: String(outcome.result.snapshot['snapshot-id']),
        records: outcome.partitions.reduce((n, p) => n + p.gaps.length, 0),
        files: outcome.partitions.reduce((n, p) => n + p.files.length, 0),
        durationMs: 0,
        offsets: outcome.partitions.map((p) => ({
          topic: p.topic,
          partition: p.partition,
          nextOffset: String(p.nextOffset),
        })),
      });
    }
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
      this.deps.journal.append({ type: 'offsets.committed', group, offsets });
    } catch (error) {
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
    try {
      this.deps.consumer.pause(this.deps.config.supervisor.topics.map((topic) => ({ topic })));
    } catch {
      // A stop during start-up, before the consumer runs: nothing is being fetched.
    }
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
    for (const k of [...this.#partitionActors.keys()]) this.#partitionEvent(k, { type: 'revoked' });
    return !timedOut;
  }
}
