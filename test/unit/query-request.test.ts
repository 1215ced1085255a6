import { describe, expect, it } from 'vitest';
import { InvalidQueryError } from '../../src/query/errors.js';
import { parseQueryRequest, type QueryParams } from '../../src/query/request.js';
import { formatIso, parseDuration, parseInstant, parseIso } from '../../src/query/time.js';

const NOW = 1_735_689_600_000_000n; // 2025-01-01T00:00:00Z
const HOUR = 3_600_000_000n;

describe('query times', () => {
  it('parses ISO-8601 to microseconds, keeping microsecond fractions and honouring offsets', () => {
    expect(parseIso('2025-01-01T00:00:00Z')).toBe(NOW);
    expect(parseIso('2025-01-01')).toBe(NOW);
    expect(parseIso('2025-01-01T00:00:00.000123Z')).toBe(NOW + 123n);
    expect(parseIso('2025-01-01T01:30:00+01:30')).toBe(NOW);
    expect(parseIso('2024-12-31T19:00:00-05:00')).toBe(NOW);
    expect(parseIso('2025-01-01T00:00:00.123456000Z')).toBe(NOW + 123_456n);
  });

  it('refuses dates that do not exist and precision it would have to drop', () => {
    expect(parseIso('2025-02-30')).toBeUndefined();
    expect(parseIso('2025-01-01T24:00:00Z')).toBeUndefined();
    expect(parseIso('2025-01-01T00:00:00.0000001Z')).toBeUndefined();
    expect(parseIso('yesterday')).toBeUndefined();
  });

  it('reads now, relative times, raw microseconds and durations', () => {
    expect(parseInstant('now', NOW)).toBe(NOW);
    expect(parseInstant('-15m', NOW)).toBe(NOW - 900_000_000n);
    expect(parseInstant('now-1h', NOW)).toBe(NOW - HOUR);
    expect(parseInstant('1735689600000123', NOW)).toBe(NOW + 123n);
    expect(parseDuration('250us')).toBe(250n);
    expect(parseDuration('7d')).toBe(7n * 24n * HOUR);
    expect(parseDuration('1.5h')).toBeUndefined();
  });

  it('formats microseconds as ISO-8601 with six fractional digits', () => {
    expect(formatIso(NOW + 123n)).toBe('2025-01-01T00:00:00.000123Z');
    expect(formatIso(NOW + 1_234_567n)).toBe('2025-01-01T00:00:01.234567Z');
    expect(parseIso(formatIso(NOW + 987_654_321n))).toBe(NOW + 987_654_321n);
  });
});

describe('query requests', () => {
  const parse = (params: QueryParams) => parseQueryRequest(params, NOW);
  const failure = (params: QueryParams) => {
    try {
      parse(params);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidQueryError);
      return (error as Error).message;
    }
    throw new Error('expected the request to be refused');
  };

  it('fills in defaults: the market_data namespace, the last hour, hybrid, 100k rows, a minute bar', () => {
    expect(parse({ kind: 'trades', symbols: 'BTCUSDT, ETHUSDT,BTCUSDT' })).toEqual({
      spec: {
        kind: 'trades',
        table: 'market_data.trades_v2',
        selection: { window: { from: NOW - HOUR, to: NOW }, symbols: ['BTCUSDT', 'ETHUSDT'] },
      },
      options: { source: 'hybrid', maxRows: 100_000, timeoutMs: 60_000, strict: false },
    });
    expect(parse({ kind: 'bars' }).spec).toMatchObject({
      interval: '1m',
      selection: { window: { from: NOW - 24n * HOUR } },
    });
    expect(parse({ kind: 'latest', namespace: 'md' }).spec).toMatchObject({
      table: 'md.trades_v2',
      quotesTable: 'md.quotes_v2',
    });
    expect(parse({ kind: 'gaps' }).spec).toMatchObject({ gapsTable: 'market_data.sequence_gaps' });
    expect(parse({ kind: 'stats', table: 'other.t' }).spec).toEqual({ kind: 'stats', table: 'other.t' });
  });

  it('reads raw SQL over Iceberg only unless asked, with no window unless one is given', () => {
    const sql = parse({ kind: 'sql', sql: ' SELECT 1 ' });
    expect(sql.spec).toEqual({ kind: 'sql', sql: 'SELECT 1', namespace: 'market_data', selection: {} });
    expect(sql.options.source).toBe('iceberg');
    expect(parse({ kind: 'sql', sql: 'SELECT 1', source: 'hybrid', from: '-1d' }).spec).toMatchObject({
      selection: { window: { from: NOW - 24n * HOUR, to: NOW } },
    });
    expect(failure({ kind: 'sql' })).toMatch(/sql: is required/);
  });

  it('reads options: group, topics, snapshot, strict, limits', () => {
    const { options } = parse({
      kind: 'vwap',
      group: 'g-1',
      topics: 'market.crypto.trades,market.equities.trades',
      snapshot: '9007199254740993',
      strict: 'true',
      'max-rows': '500',
      timeout: '5s',
      source: 'iceberg',
    });
    expect(options).toEqual({
      source: 'iceberg',
      group: 'g-1',
      topics: ['market.crypto.trades', 'market.equities.trades'],
      snapshotId: 9_007_199_254_740_993n,
      strict: true,
      maxRows: 500,
      timeoutMs: 5_000,
    });
  });

  it('refuses inverted, empty and huge windows with the times in the message', () => {
    expect(failure({ kind: 'trades', from: '2025-01-02', to: '2025-01-01' })).toMatch(
      /2025-01-02T00:00:00.000000Z is not before to \(2025-01-01T00:00:00.000000Z\)/,
    );
    expect(failure({ kind: 'trades', from: '2025-01-01', to: '2025-01-01' })).toMatch(/empty or inverted/);
    expect(failure({ kind: 'trades', from: '2020-01-01', to: '2025-01-01' })).toMatch(
      /spans \d+d, more than the 31d allowed/,
    );
    expect(
      parse({ kind: 'trades', from: '2020-01-01', to: '2025-01-01', 'max-window': '2000d' }).spec,
    ).toBeDefined();
    expect(failure({ kind: 'trades', from: 'soon' })).toMatch(/"soon" is not a time/);
    expect(failure({ kind: 'trades', to: '2300-01-01' })).toMatch(/outside 1970-01-01 \.\. 2200-01-01/);
  });

  it('refuses bars that would be too many per symbol, naming the count', () => {
    expect(failure({ kind: 'bars', interval: '1s', from: '2025-01-01', to: '2025-01-31' })).toMatch(
      /1s bars over 30d are up to 2,592,000 bars per symbol/,
    );
    expect(parse({ kind: 'bars', interval: '1m', from: '2025-01-01', to: '2025-01-31' }).spec).toBeDefined();
    expect(failure({ kind: 'bars', interval: '5m' })).toMatch(/"5m" is not one of 1s, 1m, 1h, 1d/);
  });

  it('refuses malformed names, symbols and numbers', () => {
    expect(failure({ kind: 'report' })).toMatch(/kind: "report" is not one of trades/);
    expect(failure({})).toMatch(/kind: is required/);
    expect(failure({ kind: 'trades', table: 'bad name' })).toMatch(/^table: invalid Iceberg name/);
    expect(failure({ kind: 'trades', symbols: 'BTC\u0000USDT' })).toMatch(/is not a symbol/);
    expect(failure({ kind: 'trades', symbols: ' , ' })).toMatch(/symbols: is empty/);
    expect(failure({ kind: 'trades', exchanges: 'BIN ANCE' })).toMatch(/is not an exchange code/);
    expect(failure({ kind: 'trades', last: '0' })).toMatch(/last: must be between 1 and 100,000/);
    expect(failure({ kind: 'trades', 'max-rows': '1e6' })).toMatch(/is not a whole number/);
    expect(failure({ kind: 'trades', 'max-rows': '20000000' })).toMatch(/between 1 and 10,000,000/);
    expect(failure({ kind: 'trades', timeout: '10ms' })).toMatch(/between 100ms and 30m/);
    expect(failure({ kind: 'trades', topics: 'a topic' })).toMatch(/is not a Kafka topic name/);
    expect(failure({ kind: 'trades', snapshot: 'latest' })).toMatch(/expected a snapshot id/);
    expect(failure({ kind: 'trades', strict: 'yes' })).toMatch(/expected true or false/);
    // Symbols are free text on some venues.
    expect(parse({ kind: 'trades', symbols: 'BRK.B,BTC/USDT,Ünïcødé-€' }).spec).toMatchObject({
      selection: { symbols: ['BRK.B', 'BTC/USDT', 'Ünïcødé-€'] },
    });
  });
});
