import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import type { RecordBatch } from '../codec/batch.js';
import { columnBuffers, ownedBuffer } from '../codec/columns.js';
import {
  type DecodedBatch,
  type DecodeLimits,
  defaultDecodeLimits,
  TableDecoder,
  type WriterSchemas,
} from '../codec/decode.js';
import type { TableName } from '../iceberg/types.js';
import { transferring } from './transfer.js';

export interface DecodeTask {
  table: TableName;
  batch: RecordBatch;
  writers: WriterSchemas;
  limits?: Partial<Pick<DecodeLimits, 'maxMessageBytes' | 'minTimestampMicros' | 'maxTimestampMicros'>>;
}

export interface DecodeTaskResult extends DecodedBatch {
  /** Time spent inside the task, for the pool's overhead figures. */
  taskMillis: number;
  /** When the task began and ended (performance.timeOrigin + now(), ms) and on which thread: the bench's idle-gap figures. */
  startedAt: number;
  endedAt: number;
  thread: number;
  /** Time the main thread spent packing the batch (CodecPool.decodePacked), for the same figures. */
  packMillis?: number;
}

/** One decoder per table and limits in each worker: it keeps the compiled writer schemas warm. */
const decoders = new Map<string, TableDecoder>();

function decoderFor(task: DecodeTask): TableDecoder {
  const limits = { ...defaultDecodeLimits, ...task.limits };
  const key = `${task.table}:${limits.maxMessageBytes}:${limits.minTimestampMicros}:${limits.maxTimestampMicros}`;
  let decoder = decoders.get(key);
  if (!decoder) {
    decoder = new TableDecoder(task.table, limits);
    decoders.set(key, decoder);
  }
  return decoder;
}

/** Piscina task: a packed batch of Confluent-framed Avro values → columns for the table + failures. */
export default function decode(task: DecodeTask): DecodeTaskResult {
  const started = performance.now();
  const decoded = decoderFor(task).decode(task.batch, task.writers);
  const ended = performance.now();
  const result: DecodeTaskResult = {
    ...decoded,
    taskMillis: ended - started,
    startedAt: performance.timeOrigin + started,
    endedAt: performance.timeOrigin + ended,
    thread: threadId,
  };
  // The columns and row offsets share one arena; each failure keeps its own copy of its bytes.
  const failed = decoded.failures.map((failure) => ownedBuffer(failure.value));
  return transferring(result, [...columnBuffers(decoded), ...failed.filter((b) => b !== undefined)]);
}
