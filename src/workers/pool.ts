import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import {
  batchBuffers,
  type KafkaValue,
  type PackArea,
  packBatch,
  type RecordBatch,
  schemaIds,
} from '../codec/batch.js';
import { type ColumnSet, columnBuffers } from '../codec/columns.js';
import type { WriterSchemas } from '../codec/decode.js';
import type { ParquetOptions } from '../codec/parquet.js';
import type { TableName } from '../iceberg/types.js';
import type { DecodeTask, DecodeTaskResult } from './decode.js';
import type { EncodeTaskResult } from './encode.js';
import type { WriteTask, WriteTaskResult } from './write.js';

/** Where writer schemas come from: the registry in production, a map in tests. */
export interface WriterSchemaSource {
  writerSchemas(ids: readonly number[]): Promise<WriterSchemas>;
}

export interface CodecPoolOptions {
  minThreads: number;
  maxThreads: number;
  /** Decode limits (config limits.maxMessageBytes and the accepted timestamp range). */
  limits?: DecodeTask['limits'];
  /**
   * Bound of tasks waiting for a thread; beyond it a task is refused. Unbounded by default: callers
   * bound their own work (the supervisor runs one decode per partition consumed concurrently and
   * one write per sealed partition), and piscina's 'auto' (threads²: 1 with one thread) turned
   * ordinary queueing into errors.
   */
  maxQueue?: number;
  /**
   * Each thread's V8 young generation in MiB (undefined or 0: V8's default). The buffers of a task
   * are freed only when the objects holding them are collected: measured in bench:e2e, 6 MiB took
   * ~60 MiB off the supervisor's peak RSS with no loss of rate.
   */
  youngGenerationMb?: number;
}

/** Running from TypeScript sources (tests, benches), workers load them through tsx, as the parent does. */
const fromSource = import.meta.url.endsWith('.ts');
const extension = fromSource ? '.ts' : '.js';
const taskFile = (name: 'decode' | 'encode' | 'write') =>
  new URL(`./${name}${extension}`, import.meta.url).href;
/** Resolved once, not per task (thousands of batches a second). */
const taskFiles = { decode: taskFile('decode'), encode: taskFile('encode'), write: taskFile('write') };

/** Packed batches from this size on are not kept for reuse (a rare huge fetch must not pin its memory). */
const MAX_POOLED_BYTES = 32 * 1024 * 1024;
const MIN_AREA_BYTES = 64 * 1024;

/**
 * Shared buffers that packed batches are written into, reused task after task. A batch in a
 * SharedArrayBuffer reaches the worker without a transfer, and no fresh buffer per batch means no
 * garbage: fresh buffers were what made both threads stop for full collections every few dozen
 * batches. A buffer is given back once its task has answered, so the worker is done reading it
 * (rows and failures are copied out). At most `keep` idle buffers are kept.
 */
class PackAreas {
  readonly #free: SharedArrayBuffer[] = [];

  constructor(readonly keep: number) {}

  take(bytes: number): SharedArrayBuffer {
    const fit = this.#free.findIndex((buffer) => buffer.byteLength >= bytes);
    if (fit >= 0) return this.#free.splice(fit, 1)[0]!;
    return new SharedArrayBuffer(Math.max(MIN_AREA_BYTES, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1)))));
  }

  give(buffer: SharedArrayBuffer): void {
    if (buffer.byteLength > MAX_POOLED_BYTES) return;
    this.#free.push(buffer);
    if (this.#free.length > this.keep) {
      // Drop the smallest: the larger ones fit every batch the smaller ones do.
      this.#free.sort((a, b) => b.byteLength - a.byteLength).pop();
    }
  }
}

/**
 * The worker pool the supervisor creates once. Batches go in with their buffers transferred;
 * columns and Parquet bytes come back transferred. Writer schemas are resolved here, on the main
 * thread, because workers cannot reach the registry.
 */
export class CodecPool {
  readonly #pool: Piscina;
  readonly #limits: DecodeTask['limits'];
  readonly #areas: PackAreas;

  constructor(options: CodecPoolOptions) {
    this.#limits = options.limits;
    this.#areas = new PackAreas(2 * options.maxThreads + 2);
    this.#pool = new Piscina({
      minThreads: options.minThreads,
      maxThreads: options.maxThreads,
      maxQueue: options.maxQueue ?? Number.POSITIVE_INFINITY,
      idleTimeout: 60_000,
      // A second task waits inside each worker, so a thread never idles while the main thread
      // handles the previous result (tasks are synchronous: they still run one at a time).
      concurrentTasksPerWorker: 2,
      // With Atomics, piscina's worker starts every queued task before posting the finished one's
      // result (measured: results arrived one whole task late, and threads then idled in pairs);
      // with plain messages each task's result is posted as soon as it is done.
      atomics: 'disabled',
      execArgv: fromSource ? ['--import', 'tsx'] : [],
      ...(options.youngGenerationMb
        ? { resourceLimits: { maxYoungGenerationSizeMb: options.youngGenerationMb } }
        : {}),
    });
  }

  get threads(): number {
    return this.#pool.threads.length;
  }

  /**
   * Decodes a batch: every record comes back as a row or a failure. The batch's buffers are
   * transferred: the caller must not touch it afterwards.
   */
  async decode(table: TableName, batch: RecordBatch, schemas: WriterSchemaSource): Promise<DecodeTaskResult> {
    const writers = await schemas.writerSchemas(batch.schemaIds ?? schemaIds(batch));
    return this.decodeResolved(table, batch, writers);
  }

  /**
   * Packs Kafka records into one of the pool's reusable shared areas and decodes them: the path
   * for kafkajs messages (the query's tail). The records themselves are only read.
   */
  decodeRecords(
    table: TableName,
    records: readonly KafkaValue[],
    schemas: WriterSchemaSource,
  ): Promise<DecodeTaskResult> {
    return this.decodePacked(table, (area) => packBatch(records, area), schemas);
  }

  /**
   * Decodes what `pack` writes into one of the pool's reusable shared areas (the ingest path packs
   * whole record batches, see FetchedRecords.pack); the area is reused once the task has answered.
   */
  async decodePacked(
    table: TableName,
    pack: (area: PackArea) => RecordBatch,
    schemas: WriterSchemaSource,
  ): Promise<DecodeTaskResult> {
    let taken: SharedArrayBuffer | undefined;
    const area: PackArea = {
      take: (bytes) => {
        taken = this.#areas.take(bytes);
        return taken;
      },
    };
    const started = performance.now();
    const batch = pack(area);
    const packMillis = performance.now() - started;
    try {
      const result = await this.decode(table, batch, schemas);
      result.packMillis = packMillis;
      return result;
    } finally {
      if (taken !== undefined) this.#areas.give(taken);
    }
  }

  decodeResolved(table: TableName, batch: RecordBatch, writers: WriterSchemas): Promise<DecodeTaskResult> {
    const { values, ends, offsets } = batch;
    const task: DecodeTask = { table, batch: { values, ends, offsets }, writers, limits: this.#limits };
    return this.#pool.run(task, { filename: taskFiles.decode, transferList: batchBuffers(batch) });
  }

  /** Writes column sets into one Parquet file; their buffers are transferred. */
  encode(table: TableName, chunks: ColumnSet[], options?: ParquetOptions): Promise<EncodeTaskResult> {
    const transferList = [...new Set(chunks.flatMap(columnBuffers))];
    return this.#pool.run({ table, chunks, options }, { filename: taskFiles.encode, transferList });
  }

  /** Splits a flush's batches by partition, sorts and writes one Parquet file per partition tuple. */
  write(task: WriteTask): Promise<WriteTaskResult> {
    const transferList = [
      ...new Set([
        ...task.chunks.flatMap(columnBuffers),
        ...task.keep.flatMap((k) => (k ? [k.buffer as ArrayBuffer] : [])),
      ]),
    ];
    return this.#pool.run(task, { filename: taskFiles.write, transferList });
  }

  destroy(): Promise<void> {
    return this.#pool.destroy();
  }
}
