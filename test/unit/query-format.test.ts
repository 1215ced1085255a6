import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { divideDecimal } from '../../src/query/decimal-ratio.js';
import { render } from '../../src/query/format/index.js';
import { summaryLine } from '../../src/query/format/table.js';
import type { QueryResult } from '../../src/query/result.js';

const TS = 1_735_689_600_000_123n;
const meta: QueryResult['meta'] = {
  kind: 'trades',
  source: 'hybrid',
  rows: { iceberg: 2, kafka: 1 },
  partial: false,
  warnings: [],
  tables: [],
  cache: { hits: 1, misses: 0, bytesDownloaded: 0 },
  timings: { planMs: 1, fetchMs: 1, tailMs: 1, viewMs: 1, queryMs: 1, totalMs: 5 },
};
const result: QueryResult = {
  columns: [
    { name: 'timestamp', type: { kind: 'timestamp' } },
    { name: 'symbol', type: { kind: 'string' } },
    { name: 'price', type: { kind: 'decimal', precision: 18, scale: 8 } },
    { name: 'sequence', type: { kind: 'long' } },
    { name: 'day', type: { kind: 'date' } },
  ],
  rows: [
    [TS, 'BTC,"USD"', 6_000_012_345_678n, 9_007_199_254_740_993n, 20_089],
    [TS + 1n, 'ETH', -1n, 42n, null],
    [null, null, null, null, null],
  ],
  meta,
};

describe('query output formats', () => {
  it('JSON: decimals as exact strings, ISO timestamps with microseconds, unsafe longs as strings', () => {
    const json = JSON.parse(render(result, 'json', 'iso') as string);
    expect(json.columns).toEqual([
      { name: 'timestamp', type: 'timestamp' },
      { name: 'symbol', type: 'string' },
      { name: 'price', type: 'decimal(18,8)' },
      { name: 'sequence', type: 'long' },
      { name: 'day', type: 'date' },
    ]);
    expect(json.rows).toEqual([
      {
        timestamp: '2025-01-01T00:00:00.000123Z',
        symbol: 'BTC,"USD"',
        price: '60000.12345678',
        sequence: '9007199254740993',
        day: '2025-01-01',
      },
      {
        timestamp: '2025-01-01T00:00:00.000124Z',
        symbol: 'ETH',
        price: '-0.00000001',
        sequence: 42,
        day: null,
      },
      { timestamp: null, symbol: null, price: null, sequence: null, day: null },
    ]);
    expect(json.meta.rows).toEqual({ iceberg: 2, kafka: 1 });
    expect(JSON.parse(render(result, 'json', 'micros') as string).rows[0].timestamp).toBe(
      1_735_689_600_000_123,
    );
  });

  it('CSV: RFC 4180 quoting, CRLF, blanks for nulls', () => {
    expect(render(result, 'csv', 'micros')).toBe(
      'timestamp,symbol,price,sequence,day\r\n' +
        '1735689600000123,"BTC,""USD""",60000.12345678,9007199254740993,2025-01-01\r\n' +
        '1735689600000124,ETH,-0.00000001,42,\r\n' +
        ',,,,\r\n',
    );
  });

  it('table: aligned columns, numbers right-aligned', () => {
    const lines = (render(result, 'table', 'iso') as string).split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'timestamp                    symbol              price          sequence  day',
      '---------------------------  ---------  --------------  ----------------  ----------',
      '2025-01-01T00:00:00.000123Z  BTC,"USD"  60000.12345678  9007199254740993  2025-01-01',
      '2025-01-01T00:00:00.000124Z  ETH           -0.00000001                42',
    ]);
    expect(summaryLine(meta, 3)).toMatch(/^3 rows \(2 from Iceberg, 1 from Kafka\) in 5 ms/);
  });

  it('Arrow IPC: Decimal128 and timestamp[us, UTC] holding the exact values, nulls kept, meta in the schema', () => {
    const table = tableFromIPC(render(result, 'arrow', 'iso') as Uint8Array);
    expect(table.numRows).toBe(3);
    expect(table.schema.fields.map((f) => String(f.type))).toEqual([
      'Timestamp<MICROSECOND, UTC>',
      'Utf8',
      'Decimal[18e+8]',
      'Int64',
      'Date32<DAY>',
    ]);
    const words = table.getChild('price')!.data[0]!.values as Uint32Array;
    const unscaled = (row: number) =>
      BigInt.asIntN(
        128,
        [3, 2, 1, 0].reduce((v, w) => (v << 32n) | BigInt(words[row * 4 + w]!), 0n),
      );
    expect([unscaled(0), unscaled(1)]).toEqual([6_000_012_345_678n, -1n]);
    expect(table.getChild('timestamp')!.data[0]!.values.slice(0, 2)).toEqual(
      BigInt64Array.from([TS, TS + 1n]),
    );
    expect(table.getChild('sequence')!.get(0)).toBe(9_007_199_254_740_993n);
    expect(table.getChild('symbol')!.toArray()).toEqual(['BTC,"USD"', 'ETH', null]);
    expect(table.getChild('price')!.isValid(2)).toBe(false);
    expect(JSON.parse(table.schema.metadata.get('k2.meta')!)).toEqual(meta);
  });
});

describe('exact decimal ratios', () => {
  it('divides exactly at the requested scale, rounding half to even', () => {
    // 10 / 4 = 2.5 at scale 0 → 2 (even); 14 / 4 = 3.5 → 4.
    expect(divideDecimal(10n, 0, 4n, 0, 0)).toBe(2n);
    expect(divideDecimal(14n, 0, 4n, 0, 0)).toBe(4n);
    expect(divideDecimal(-10n, 0, 4n, 0, 0)).toBe(-2n);
    expect(divideDecimal(-14n, 0, 4n, 0, 0)).toBe(-4n);
    expect(divideDecimal(11n, 0, 4n, 0, 0)).toBe(3n);
    expect(divideDecimal(10n, 0, -3n, 0, 0)).toBe(-3n);
    // notional at scale 16 / volume at scale 8 → a price at scale 8: 1/3 = 0.33333333.
    expect(divideDecimal(10_000_000_000_000_000n, 16, 300_000_000n, 8, 8)).toBe(33_333_333n);
    expect(divideDecimal(2n, 16, 300_000_000n, 8, 8)).toBe(0n);
    expect(divideDecimal(1n, 0, 0n, 8, 8)).toBeUndefined();
    // A numerator at a smaller scale than the answer needs.
    expect(divideDecimal(1n, 0, 8n, 0, 3)).toBe(125n);
  });
});
