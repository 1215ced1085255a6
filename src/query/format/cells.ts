import { formatDecimal } from '../../codec/decimal.js';
import type { Cell, ColumnType } from '../result.js';
import { formatIso } from '../time.js';

/** How timestamps are rendered in text formats: ISO-8601 (microseconds kept) or microseconds since the epoch. */
export type TimestampStyle = 'iso' | 'micros';

/** A cell as text: exact decimals with their full scale, timestamps per `style`, dates as YYYY-MM-DD. */
export function cellText(cell: Cell, type: ColumnType, style: TimestampStyle): string | null {
  if (cell === null) return null;
  switch (type.kind) {
    case 'decimal':
      return formatDecimal(cell as bigint, type.scale);
    case 'timestamp':
      return style === 'iso' ? formatIso(cell as bigint) : String(cell);
    case 'date':
      return new Date(Number(cell) * 86_400_000).toISOString().slice(0, 10);
    default:
      return String(cell);
  }
}

/**
 * A cell as a JSON value: decimals as strings (exact), timestamps as ISO strings or microsecond
 * numbers, longs as numbers while they are safe integers and strings beyond (JSON parsers read
 * numbers as doubles).
 */
export function cellJson(
  cell: Cell,
  type: ColumnType,
  style: TimestampStyle,
): string | number | boolean | null {
  if (cell === null) return null;
  switch (type.kind) {
    case 'long':
      return safe(cell as bigint);
    case 'timestamp':
      return style === 'iso' ? formatIso(cell as bigint) : safe(cell as bigint);
    case 'int':
    case 'double':
      return Number.isFinite(cell as number) ? (cell as number) : String(cell);
    case 'boolean':
      return cell as boolean;
    default:
      return cellText(cell, type, style);
  }
}

function safe(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : String(value);
}

export function typeName(type: ColumnType): string {
  if (type.kind === 'decimal') return `decimal(${type.precision},${type.scale})`;
  if (type.kind === 'text') return type.sqlType.toLowerCase();
  return type.kind;
}

/** Numbers read best right-aligned. */
export function isNumeric(type: ColumnType): boolean {
  return ['decimal', 'long', 'int', 'double'].includes(type.kind);
}
