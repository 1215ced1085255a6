import { Table as ArrowTable, tableFromIPC, tableToIPC } from 'apache-arrow';
import {
  Compression,
  EnabledStatistics,
  ParquetFile,
  readParquet,
  Table as WasmTable,
  WriterPropertiesBuilder,
  writeParquet,
} from 'parquet-wasm';
import { UnsupportedTableError } from '../../errors/index.js';
import { leafFieldIds } from '../arrow-schema.js';
import type { DataFileStats } from '../datafile.js';
import type { IcebergSchema } from '../types.js';

/**
 * Concatenates Parquet files of one schema into one (through Arrow; field ids travel in the Arrow
 * field metadata both ways) and reads the new footer for column sizes and row-group offsets.
 */
export async function concatParquet(
  schema: IcebergSchema,
  inputs: readonly Uint8Array[],
): Promise<{ bytes: Uint8Array; columnSizes: DataFileStats['columnSizes']; splitOffsets: number[] }> {
  const batches = inputs.flatMap((bytes) => tableFromIPC(readParquet(bytes).intoIPCStream()).batches);
  const shape = (i: number) => batches[i]!.schema.fields.map((f) => `${f.name}:${f.type}`).join(',');
  if (batches.some((_, i) => shape(i) !== shape(0))) {
    throw new UnsupportedTableError('compaction', 'input files have different Arrow schemas; not merged');
  }
  const merged = new ArrowTable(batches[0]!.schema, batches);
  const properties = new WriterPropertiesBuilder()
    .setCompression(Compression.ZSTD)
    .setStatisticsEnabled(EnabledStatistics.Chunk)
    .setCreatedBy('k2 compaction')
    .build();
  const bytes = writeParquet(WasmTable.fromIPCStream(tableToIPC(merged, 'stream')), properties);
  const file = await ParquetFile.fromFile(new Blob([bytes]));
  try {
    const ids = leafFieldIds(schema);
    const columnSizes = new Map<number, number>();
    const splitOffsets: number[] = [];
    let offset = 4;
    for (const rowGroup of file.metadata().rowGroups()) {
      splitOffsets.push(offset);
      offset += rowGroup.compressedSize();
      rowGroup.columns().forEach((column, i) => {
        const id = ids[i];
        if (id !== undefined) columnSizes.set(id, (columnSizes.get(id) ?? 0) + column.compressedSize());
      });
    }
    return { bytes, columnSizes, splitOffsets };
  } finally {
    file.free();
  }
}
