import { performance } from 'node:perf_hooks';
import { type ColumnSet, ownedBuffer } from '../codec/columns.js';
import { type FileLayout, partitionRows } from '../codec/layout.js';
import { type EncodedFile, encodeParquet, type ParquetOptions } from '../codec/parquet.js';
import { gatherRows } from '../codec/select.js';
import type { PartitionValue } from '../iceberg/datafile.js';
import { type K2TableName, tableSchema } from '../iceberg/types.js';
import { transferring } from './transfer.js';

export interface WriteTask {
  table: K2TableName;
  layout: FileLayout;
  /** Decoded batches of one flush, oldest first. */
  chunks: ColumnSet[];
  /** Rows of each chunk to write (after dedupe); null writes every row. */
  keep: (Int32Array | null)[];
  options?: ParquetOptions;
}

export interface WrittenFile extends EncodedFile {
  partition: Map<number, PartitionValue>;
}

export interface WriteTaskResult {
  files: WrittenFile[];
  taskMillis: number;
}

/**
 * Piscina task: a flush's batches → one sorted Parquet file per partition tuple, each with its
 * Iceberg statistics. Splitting, sorting and encoding all stay off the main thread.
 */
export default async function write(task: WriteTask): Promise<WriteTaskResult> {
  const started = performance.now();
  const schema = tableSchema(task.table);
  const files: WrittenFile[] = [];
  for (const part of partitionRows(schema, task.layout, task.chunks, task.keep)) {
    const rows = gatherRows(task.chunks, part.picks);
    const file = await encodeParquet(schema, [rows], task.options);
    files.push({ ...file, partition: part.partition });
  }
  const buffers = files.map((f) => ownedBuffer(f.bytes)).filter((b) => b !== undefined);
  return transferring({ files, taskMillis: performance.now() - started }, buffers);
}
