import type { QueryResult } from '../result.js';
import { cellText, type TimestampStyle } from './cells.js';

/** RFC 4180: a header line, CRLF line ends, fields quoted when they hold a comma, quote or line break. */
export function toCsv(result: QueryResult, style: TimestampStyle): string {
  const lines = [result.columns.map((c) => field(c.name))];
  for (const row of result.rows) {
    lines.push(result.columns.map((c, i) => field(cellText(row[i] ?? null, c.type, style) ?? '')));
  }
  return lines.map((line) => `${line.join(',')}\r\n`).join('');
}

function field(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
