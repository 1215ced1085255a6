import { performance } from 'node:perf_hooks';
import { type ColumnSet, ownedBuffer } from '../codec/columns.js';
import { type EncodedFile, encodeParquet, type ParquetOptions } from '../codec/parquet.js';
import { type K2TableName, tableSchema } from '../iceberg/types.js';
import { transferring } from './transfer.js';

export interface EncodeTask {
  table: K2TableName;
  /** Decoded column sets, written in order into one file. */
  chunks: ColumnSet[];
  options?: ParquetOptions;
}

export interface EncodeTaskResult extends EncodedFile {
  taskMillis: number;
}

/** Piscina task: columns → one Parquet file (zstd, field ids) + its Iceberg data-file statistics. */
export default async function encode(task: EncodeTask): Promise<EncodeTaskResult> {
  const started = performance.now();
  const file = await encodeParquet(tableSchema(task.table), task.chunks, task.options);
  const buffer = ownedBuffer(file.bytes);
  return transferring({ ...file, taskMillis: performance.now() - started }, buffer ? [buffer] : []);
}
