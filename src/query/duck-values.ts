import {
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { Cell, ColumnType } from './result.js';

/** The K2 column type of a DuckDB result column: exact kinds for what K2's tables hold, text otherwise. */
export function columnTypeOf(type: DuckDBType): ColumnType {
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.ENUM:
      return { kind: 'string' };
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return { kind: 'long' };
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
      return { kind: 'int' };
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return { kind: 'double' };
    case DuckDBTypeId.BOOLEAN:
      return { kind: 'boolean' };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return { kind: 'timestamp' };
    case DuckDBTypeId.DATE:
      return { kind: 'date' };
    case DuckDBTypeId.DECIMAL: {
      const { width, scale } = type as unknown as { width: number; scale: number };
      return { kind: 'decimal', precision: width, scale };
    }
    default:
      return { kind: 'text', sqlType: type.toString() };
  }
}

/** One DuckDB value as a K2 cell of the column's type: exact, never through a float for decimals. */
export function cellOf(value: DuckDBValue, type: DuckDBType): Cell {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.ENUM:
      return value as string;
    case DuckDBTypeId.UUID:
      return String(value);
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return value as bigint;
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return value as number;
    case DuckDBTypeId.BOOLEAN:
      return value as boolean;
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return (value as { micros: bigint }).micros;
    case DuckDBTypeId.TIMESTAMP_S:
      return (value as { seconds: bigint }).seconds * 1_000_000n;
    case DuckDBTypeId.TIMESTAMP_MS:
      return (value as { millis: bigint }).millis * 1_000n;
    case DuckDBTypeId.TIMESTAMP_NS:
      return (value as { nanos: bigint }).nanos / 1_000n;
    case DuckDBTypeId.DATE:
      return (value as DuckDBDateValue).days;
    case DuckDBTypeId.DECIMAL:
      return (value as DuckDBDecimalValue).value;
    default:
      return String(value);
  }
}

/** Iceberg primitive and nested types → the DuckDB type that reads the same Parquet column. */
export function duckTypeOf(type: unknown): string {
  if (typeof type === 'object' && type !== null) {
    const nested = type as { type: string; element?: unknown; key?: unknown; value?: unknown };
    if (nested.type === 'list') return `${duckTypeOf(nested.element)}[]`;
    if (nested.type === 'map') return `MAP(${duckTypeOf(nested.key)}, ${duckTypeOf(nested.value)})`;
    throw new TypeError(`no DuckDB type for ${JSON.stringify(type)}`);
  }
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(String(type));
  if (decimal) return `DECIMAL(${decimal[1]}, ${decimal[2]})`;
  const primitive: Record<string, string> = {
    boolean: 'BOOLEAN',
    int: 'INTEGER',
    long: 'BIGINT',
    float: 'FLOAT',
    double: 'DOUBLE',
    date: 'DATE',
    time: 'TIME',
    timestamp: 'TIMESTAMP',
    timestamptz: 'TIMESTAMPTZ',
    string: 'VARCHAR',
    uuid: 'UUID',
    binary: 'BLOB',
  };
  const duck = primitive[String(type)] ?? (/^fixed\[\d+\]$/.test(String(type)) ? 'BLOB' : undefined);
  if (!duck) throw new TypeError(`no DuckDB type for ${String(type)}`);
  return duck;
}

/** A SQL string literal (standard SQL: quotes doubled, no backslash escapes). */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A SQL identifier, always quoted (`timestamp` is a keyword). */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Microseconds since the epoch as a TIMESTAMPTZ literal expression (the session runs in UTC). */
export function sqlTimestamp(micros: bigint): string {
  return `make_timestamp(${micros}::BIGINT)::TIMESTAMPTZ`;
}
