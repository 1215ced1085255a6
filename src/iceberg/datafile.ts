/**
 * What the encoder learns about a Parquet file and the manifest needs (spec "Manifests": data_file).
 * Maps are keyed by Iceberg field id; bounds use Iceberg's single-value binary serialisation.
 * Everything here survives structured clone, so it crosses the worker boundary as is.
 */
export interface DataFileStats {
  recordCount: number;
  columnSizes: Map<number, number>;
  valueCounts: Map<number, number>;
  nullValueCounts: Map<number, number>;
  nanValueCounts: Map<number, number>;
  lowerBounds: Map<number, Uint8Array>;
  upperBounds: Map<number, Uint8Array>;
  /** Byte offsets of the row groups, for split planning. */
  splitOffsets: number[];
}

/** A Parquet data file already uploaded, ready to be added to a table by a commit. */
export interface DataFile extends DataFileStats {
  /** Absolute URI, e.g. s3://bucket/warehouse/market_data/trades_v2/data/... */
  filePath: string;
  fileFormat: 'PARQUET';
  /** Exact object size in bytes. */
  fileSizeInBytes: number;
  /** Partition tuple by partition field id (1000, 1001, ...), values in their Iceberg type (date as days, etc.). */
  partition: Map<number, PartitionValue>;
  specId: number;
  sortOrderId?: number;
}

export type PartitionValue = string | number | bigint | boolean | Uint8Array | null;
