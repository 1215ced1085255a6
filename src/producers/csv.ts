import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'csv-parse';
import { parseDecimal } from '../codec/decimal.js';
import { SourceRecordError } from './errors.js';
import { DECIMAL_SCALE } from './records.js';

/** One data row of a CSV file with a header: values by column name, and where it came from. */
export interface CsvRow {
  values: Record<string, string>;
  /** `file.csv:12` (1-based line of the row). */
  where: string;
}

/**
 * Streams the rows of a CSV file with a header row (RFC 4180 quoting, blank lines skipped). A row
 * with missing or extra columns still comes through: the row's converter decides.
 */
export async function* readCsv(path: string): AsyncGenerator<CsvRow> {
  const name = basename(path);
  const parser = createReadStream(path).pipe(
    parse({
      columns: true,
      info: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      bom: true,
    }),
  );
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    yield { values: record, where: `${name}:${info.lines}` };
  }
}

/** Column access for converters: required, optional, typed, each failure naming the column and row. */
export class RowReader {
  constructor(readonly row: CsvRow) {}

  required(column: string): string {
    const value = this.row.values[column];
    if (value === undefined || value === '')
      throw new SourceRecordError('missing-column', this.row.where, `column ${column} is empty or missing`);
    return value;
  }

  optional(column: string): string | undefined {
    const value = this.row.values[column];
    return value === undefined || value === '' ? undefined : value;
  }

  /** An exact decimal as an unscaled integer at scale 8. */
  decimal(column: string, options: { positive?: boolean; nonNegative?: boolean } = {}): bigint {
    const text = this.required(column);
    let value: bigint;
    try {
      value = parseDecimal(text, DECIMAL_SCALE);
    } catch (error) {
      throw new SourceRecordError('bad-decimal', this.row.where, `${column}: ${(error as Error).message}`);
    }
    if ((options.positive && value <= 0n) || (options.nonNegative && value < 0n))
      throw new SourceRecordError('bad-decimal', this.row.where, `${column}: ${text} is out of range`);
    return value;
  }

  timestamp(column: string): number | bigint {
    const text = this.required(column);
    const micros = parseTimestampMicros(text);
    if (micros === undefined)
      throw new SourceRecordError(
        'bad-timestamp',
        this.row.where,
        `${column}: ${JSON.stringify(text)} is not a timestamp`,
      );
    return micros;
  }

  /** A non-negative integer (a sequence number), exact beyond 2^53. */
  long(column: string): number | bigint | undefined {
    const text = this.optional(column);
    if (text === undefined) return undefined;
    if (!/^\d{1,19}$/.test(text) || BigInt(text) >= 2n ** 63n)
      throw new SourceRecordError(
        'bad-integer',
        this.row.where,
        `${column}: ${JSON.stringify(text)} is not a sequence number`,
      );
    const value = BigInt(text);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  oneOf<const T extends string>(column: string, choices: readonly T[], fallback?: T): T {
    const text = this.optional(column)?.toUpperCase();
    if (text === undefined && fallback !== undefined) return fallback;
    if (text !== undefined && (choices as readonly string[]).includes(text)) return text as T;
    throw new SourceRecordError(
      'bad-enum',
      this.row.where,
      `${column}: ${JSON.stringify(text ?? '')} is not one of ${choices.join(', ')}`,
    );
  }

  /** Non-empty values of the columns not in `known`, for vendor_data; null when there are none. */
  extras(known: ReadonlySet<string>): Record<string, string> | null {
    let extras: Record<string, string> | null = null;
    for (const [column, value] of Object.entries(this.row.values)) {
      if (known.has(column) || value === '' || value === undefined) continue;
      extras ??= {};
      extras[column] = value;
    }
    return extras;
  }
}

const isoTimestamp =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * `2025-01-02T14:30:00.123456Z` (or with an offset, `+01:00`), a date (`2025-01-02`, midnight UTC),
 * or integer epoch microseconds, to
 * epoch microseconds, exactly (Date.parse would stop at milliseconds). Undefined when invalid.
 */
export function parseTimestampMicros(text: string): number | bigint | undefined {
  if (/^\d{1,19}$/.test(text)) {
    const value = BigInt(text);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
  }
  const match = isoTimestamp.exec(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', zone] = match;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // Date.UTC rolls 2025-02-30 over to March: a value that does not come back the same is invalid.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== `${y}-${mo}-${d}T${h}:${mi}:${s}`)
    return undefined;
  const offsetMinutes =
    zone === 'Z'
      ? 0
      : (zone!.startsWith('-') ? -1 : 1) * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4)));
  return (ms - offsetMinutes * 60_000) * 1000 + Number(fraction.padEnd(6, '0'));
}
