import { marketPredicates, type Predicate } from '../iceberg/scan.js';
import type { IcebergSchema } from '../iceberg/types.js';
import { sqlIdentifier, sqlString, sqlTimestamp } from './duck-values.js';
import type { Selection } from './request.js';
import type { RowFilter } from './tail-filter.js';

/**
 * One selection (window, symbols, exchanges), three forms: predicates for the scan planner (which
 * files), a SQL condition for DuckDB (which rows of those files), and a row filter for the decoded
 * Kafka tail. Both sides are filtered by the same conditions; columns a table lacks are not filtered.
 */
export interface TableSelection extends Selection {
  /** The event-time column the window applies to: `timestamp`, `detected_at` for gaps. */
  timeColumn: string;
  /**
   * Which topics feed the tail: those the query names (its `topics` option, else the recorded ones;
   * the default), or always the recorded ones (a second table in one query, such as quotes).
   */
  tailTopics?: 'requested' | 'recorded';
}

function has(schema: IcebergSchema, column: string): boolean {
  return schema.fields.some((f) => f.name === column && typeof f.type === 'string');
}

export function planPredicates(schema: IcebergSchema, selection: TableSelection): Predicate[] {
  return marketPredicates({
    from: selection.window?.from,
    to: selection.window?.to,
    symbols: selection.symbols,
    exchanges: selection.exchanges,
    timeColumn: selection.timeColumn,
  }).filter((p) => has(schema, p.column));
}

export function sqlCondition(schema: IcebergSchema, selection: TableSelection): string {
  const terms: string[] = [];
  const time = sqlIdentifier(selection.timeColumn);
  if (selection.window && has(schema, selection.timeColumn)) {
    terms.push(
      `${time} >= ${sqlTimestamp(selection.window.from)}`,
      `${time} < ${sqlTimestamp(selection.window.to)}`,
    );
  }
  if (selection.symbols && has(schema, 'symbol'))
    terms.push(`symbol IN (${selection.symbols.map(sqlString).join(', ')})`);
  if (selection.exchanges && has(schema, 'exchange'))
    terms.push(`exchange IN (${selection.exchanges.map(sqlString).join(', ')})`);
  return terms.length === 0 ? 'true' : terms.join(' AND ');
}

export function rowFilter(selection: TableSelection): RowFilter {
  return {
    timeColumn: selection.timeColumn,
    ...(selection.window ? { from: selection.window.from, to: selection.window.to } : {}),
    ...(selection.symbols ? { symbols: new Set(selection.symbols) } : {}),
    ...(selection.exchanges ? { exchanges: new Set(selection.exchanges) } : {}),
  };
}
