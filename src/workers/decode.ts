import { performance } from 'node:perf_hooks';
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
  const result = { ...decoded, taskMillis: performance.now() - started };
  const buffers = [decoded.offsets, ...decoded.failures.map((failure) => failure.value)].map(ownedBuffer);
  return transferring(result, [...columnBuffers(decoded), ...buffers.filter((b) => b !== undefined)]);
}
