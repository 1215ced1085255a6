import type { QueryKind, SourceMode } from './request.js';

/**
 * A query answer: typed columns, rows of exact values, and what produced them. Values stay exact
 * until an output format renders them: decimals as unscaled bigint at the column's scale,
 * timestamps as microseconds since the epoch (UTC), longs as bigint.
 */
export type ColumnType =
  | { kind: 'string' }
  | { kind: 'long' }
  | { kind: 'int' }
  | { kind: 'double' }
  | { kind: 'boolean' }
  | { kind: 'timestamp' }
  | { kind: 'date' }
  | { kind: 'decimal'; precision: number; scale: number }
  /** Anything else DuckDB returns (lists, maps, structs, intervals): its text. */
  | { kind: 'text'; sqlType: string };

export interface ResultColumn {
  name: string;
  type: ColumnType;
}

/** string | bigint (long, decimal unscaled, timestamp micros) | number (int, double, date days) | boolean | null. */
export type Cell = string | bigint | number | boolean | null;

export interface Warning {
  code: string;
  message: string;
}

/** What one table contributed, from each side. */
export interface TableSourceMeta {
  table: string;
  snapshotId: string | null;
  iceberg: {
    /** Data files live in the snapshot, those the planner kept, and the share it pruned. */
    files: { total: number; scanned: number; pruned: number; prunedShare: number };
    bytesScanned: number;
  };
  kafka: {
    status: 'read' | 'skipped' | 'unavailable' | 'not-recorded' | 'too-large';
    group: string;
    /** Per topic-partition: [from, to) read, from the snapshot's recorded offset to the high watermark. */
    partitions: { topic: string; partition: number; from: string; to: string }[];
    /** Records fetched, rows after filtering, and rows dropped because Iceberg holds the same message_id. */
    records: number;
    rows: number;
    duplicates: number;
    decodeFailures: number;
  };
}

export interface QueryMeta {
  kind: QueryKind;
  source: SourceMode;
  /** Rows behind the answer from each side: returned rows for row queries, aggregated rows for bars and VWAP. */
  rows: { iceberg: number; kafka: number };
  /** True when a side that should have answered could not: see warnings. Never silent. */
  partial: boolean;
  warnings: Warning[];
  tables: TableSourceMeta[];
  cache: { hits: number; misses: number; bytesDownloaded: number };
  /** Milliseconds: planning, data file downloads, the Kafka tail, DuckDB views, the query itself, all. */
  timings: {
    planMs: number;
    fetchMs: number;
    tailMs: number;
    viewMs: number;
    queryMs: number;
    totalMs: number;
  };
  /** Gap reports: whether gaps came from the supervisor's table or were computed from the trades. */
  gaps?: { method: 'table' | 'computed'; table: string };
}

export interface QueryResult {
  columns: ResultColumn[];
  rows: Cell[][];
  meta: QueryMeta;
}

export function column(name: string, type: ColumnType): ResultColumn {
  return { name, type };
}

export const types = {
  string: { kind: 'string' },
  long: { kind: 'long' },
  timestamp: { kind: 'timestamp' },
  price: { kind: 'decimal', precision: 18, scale: 8 },
} as const satisfies Record<string, ColumnType>;
