import type { QueryResult } from '../result.js';
import { toArrow } from './arrow.js';
import type { TimestampStyle } from './cells.js';
import { toCsv } from './csv.js';
import { toJson } from './json.js';
import { toTable } from './table.js';

export const outputFormats = ['table', 'json', 'csv', 'arrow'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export const contentTypes: Record<OutputFormat, string> = {
  table: 'text/plain; charset=utf-8',
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  arrow: 'application/vnd.apache.arrow.stream',
};

export function render(
  result: QueryResult,
  format: OutputFormat,
  style: TimestampStyle,
): Uint8Array | string {
  switch (format) {
    case 'table':
      return toTable(result, style);
    case 'json':
      return toJson(result, style);
    case 'csv':
      return toCsv(result, style);
    case 'arrow':
      return toArrow(result);
  }
}

export type { TimestampStyle } from './cells.js';
export { summaryLine } from './table.js';
