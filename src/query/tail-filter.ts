import { type ColumnSet, type Int64Column, isPresent, stringAt, type Utf8Column } from '../codec/columns.js';

/** The query's selection as it applies to decoded rows: the same conditions the SQL applies to files. */
export interface RowFilter {
  /** [from, to) on `timeColumn`, microseconds. */
  from?: bigint;
  to?: bigint;
  symbols?: ReadonlySet<string>;
  exchanges?: ReadonlySet<string>;
  timeColumn: string;
}

/**
 * Rows of a decoded tail batch that match the filter and whose message_id has not been seen yet
 * (the first copy in offset order wins; `seen` carries across batches). Pure apart from `seen`.
 */
export function selectRows(set: ColumnSet, filter: RowFilter, seen: Set<string>): Int32Array {
  const time = set.columns[filter.timeColumn] as Int64Column | undefined;
  const symbol = set.columns.symbol as Utf8Column | undefined;
  const exchange = set.columns.exchange as Utf8Column | undefined;
  const messageId = set.columns.message_id as Utf8Column | undefined;
  const keep: number[] = [];
  for (let row = 0; row < set.rowCount; row++) {
    if (filter.from !== undefined || filter.to !== undefined) {
      if (!time || !isPresent(time.validity, row)) continue;
      const t = time.values[row]!;
      if ((filter.from !== undefined && t < filter.from) || (filter.to !== undefined && t >= filter.to))
        continue;
    }
    if (filter.symbols && !(symbol && filter.symbols.has(stringAt(symbol, row) ?? ''))) continue;
    if (filter.exchanges && !(exchange && filter.exchanges.has(stringAt(exchange, row) ?? ''))) continue;
    if (messageId) {
      const id = stringAt(messageId, row);
      if (id !== null) {
        if (seen.has(id)) continue;
        seen.add(id);
      }
    }
    keep.push(row);
  }
  return Int32Array.from(keep);
}

/** The extent of the tail's rows: only Iceberg files overlapping it can hold a copy of one of them. */
export interface RowBounds {
  from: bigint;
  /** Exclusive. */
  to: bigint;
  symbols: string[];
  exchanges: string[];
}

export function rowBounds(set: ColumnSet, timeColumn: string): RowBounds | undefined {
  const time = set.columns[timeColumn] as Int64Column | undefined;
  if (!time || set.rowCount === 0) return undefined;
  let min: bigint | undefined;
  let max: bigint | undefined;
  const symbols = new Set<string>();
  const exchanges = new Set<string>();
  for (let row = 0; row < set.rowCount; row++) {
    if (isPresent(time.validity, row)) {
      const t = time.values[row]!;
      if (min === undefined || t < min) min = t;
      if (max === undefined || t > max) max = t;
    }
    const symbol = set.columns.symbol && stringAt(set.columns.symbol as Utf8Column, row);
    if (symbol) symbols.add(symbol);
    const exchange = set.columns.exchange && stringAt(set.columns.exchange as Utf8Column, row);
    if (exchange) exchanges.add(exchange);
  }
  if (min === undefined || max === undefined) return undefined;
  return { from: min, to: max + 1n, symbols: [...symbols].sort(), exchanges: [...exchanges].sort() };
}
