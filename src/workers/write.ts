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
  /**
   * Rows per file at most (default 65,536): bounds the encoder's memory, which never shrinks.
   * Measured in bench:e2e: 131,072 → 65,536 rows per file took ~50 MiB off the peak RSS.
   */
  maxRowsPerFile?: number;
}

export const defaultMaxRowsPerFile = 65_536;

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
  const limit = task.maxRowsPerFile ?? defaultMaxRowsPerFile;
  for (const part of partitionRows(schema, task.layout, task.chunks, task.keep)) {
    // A large part becomes consecutive files of the same sort order (each one row group).
    for (let from = 0; from < part.picks.rows.length; from += limit) {
      const picks = {
        sources: part.picks.sources.subarray(from, from + limit),
        rows: part.picks.rows.subarray(from, from + limit),
      };
      const file = await encodeParquet(schema, [gatherRows(task.chunks, picks)], task.options);
      files.push({ ...file, partition: part.partition });
    }
  }
  const buffers = files.map((f) => ownedBuffer(f.bytes)).filter((b) => b !== undefined);
  return transferring({ files, taskMillis: performance.now() - started }, buffers);
}
