import type { QueryResult } from '../result.js';
import { cellJson, type TimestampStyle, typeName } from './cells.js';

/** `{"columns": [...], "rows": [{...}], "meta": {...}}`: rows as objects keyed by column name. */
export function toJson(result: QueryResult, style: TimestampStyle): string {
  const { columns } = result;
  const rows = result.rows.map((row) =>
    Object.fromEntries(columns.map((c, i) => [c.name, cellJson(row[i] ?? null, c.type, style)])),
  );
  return `${JSON.stringify({
    columns: columns.map((c) => ({ name: c.name, type: typeName(c.type) })),
    rows,
    meta: result.meta,
  })}\n`;
}
