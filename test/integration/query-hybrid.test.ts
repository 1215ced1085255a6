import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeParquet } from '../../src/codec/parquet.js';
import { appendFiles } from '../../src/iceberg/append.js';
import { createTable } from '../../src/iceberg/table.js';
import type { IcebergSchema } from '../../src/iceberg/types.js';
import { divideDecimal } from '../../src/query/decimal-ratio.js';
import {
  InvalidQueryError,
  MalformedSqlError,
  SqlRejectedError,
  TooManyRowsError,
  UnknownSymbolError,
  UnknownTableError,
} from '../../src/query/errors.js';
import { formatIso } from '../../src/query/time.js';
import { bruteBars, type QueryEnv, queryEnv, records, STEP, T0, type Trade } from './query-support.js';

const COUNT = 600;
const window = { from: formatIso(T0), to: formatIso(T0 + BigInt(COUNT) * STEP) };

describe('hybrid query: committed Iceberg rows plus the Kafka tail', () => {
  let env: QueryEnv;
  let trades: Trade[];
  let committed: Trade[];
  let tail: Trade[];

  beforeAll(async () => {
    env = await queryEnv();
    trades = env.trades(COUNT);
    await env.produce(trades);
    // The first two thirds are committed with the group's offsets, in two appends; the rest is the tail.
    committed = trades.filter((t) => t.i < 400);
    await env.commit(
      committed.filter((t) => t.i < 200),
      env.group,
    );
    await env.commit(
      committed.filter((t) => t.i >= 200),
      env.group,
    );
    tail = trades.filter((t) => t.i >= 400);
  });
  afterAll(() => env?.close());

  it('rows produced after the last commit appear in hybrid results and not in Iceberg-only results', async () => {
    const hybrid = await env.query({ kind: 'trades', ...window });
    const ids = records(hybrid).map((r) => r.message_id as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(trades.map((t) => t.messageId).sort());
    expect(hybrid.meta.rows).toEqual({ iceberg: committed.length, kafka: tail.length });
    expect(hybrid.meta.partial).toBe(false);
    expect(hybrid.meta.tables[0]!.kafka).toMatchObject({
      status: 'read',
      records: tail.length,
      duplicates: 0,
    });
    const sources = new Map(records(hybrid).map((r) => [r.message_id, r.source]));
    for (const t of tail) expect(sources.get(t.messageId)).toBe('kafka');

    const iceberg = await env.query({ kind: 'trades', ...window, source: 'iceberg' });
    const icebergIds = new Set(records(iceberg).map((r) => r.message_id));
    expect(icebergIds.size).toBe(committed.length);
    for (const t of tail) expect(icebergIds.has(t.messageId)).toBe(false);
    expect(iceberg.meta.rows).toEqual({ iceberg: committed.length, kafka: 0 });
    expect(iceberg.meta.tables[0]!.kafka.status).toBe('skipped');

    const kafkaOnly = await env.query({ kind: 'trades', ...window, source: 'kafka' });
    expect(kafkaOnly.rows).toHaveLength(tail.length);
  });

  it('returns the newest N trades of a symbol exactly: unscaled decimals at scale 8, timestamps in microseconds', async () => {
    const result = await env.query({ kind: 'trades', ...window, symbols: 'AAPL', last: '3' });
    const expected = trades.filter((t) => t.symbol === 'AAPL').slice(-3);
    expect(records(result).map((r) => [r.message_id, r.timestamp, r.price, r.quantity])).toEqual(
      expected.map((t) => [t.messageId, t.timestamp, t.price, t.quantity]),
    );
    expect(result.columns.find((c) => c.name === 'price')?.type).toEqual({
      kind: 'decimal',
      precision: 18,
      scale: 8,
    });
  });

  it('answers last-N queries from the newest files first, with the same answer as reading them all', async () => {
    const newest = (source: string, n: number) =>
      env
        .query({ kind: 'trades', ...window, last: String(n), source })
        .then((r) => records(r).map((x) => x.message_id));
    const byTime = [...trades].sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1));
    expect(await newest('hybrid', 250)).toEqual(byTime.slice(-250).map((t) => t.messageId));
    expect(await newest('iceberg', 250)).toEqual(committed.slice(-250).map((t) => t.messageId));
    const few = await env.query({ kind: 'trades', ...window, last: '5', source: 'iceberg' });
    const { files } = few.meta.tables[0]!.iceberg;
    expect(files.scanned).toBeLessThan(files.total);
  });

  it('prunes data files by partition and column bounds, and filters both sides the same way', async () => {
    // BTCUSDT on COINBASE only: the BINANCE and NASDAQ partitions are pruned, and so are tail rows of other series.
    const result = await env.query({ kind: 'trades', ...window, symbols: 'BTCUSDT', exchanges: 'COINBASE' });
    const expected = trades.filter((t) => t.symbol === 'BTCUSDT' && t.exchange === 'COINBASE');
    expect(records(result).map((r) => r.message_id)).toEqual(expected.map((t) => t.messageId));
    const { files } = result.meta.tables[0]!.iceberg;
    expect(files.scanned).toBeLessThan(files.total);
    expect(files.prunedShare).toBeGreaterThan(0);
  });

  it.each([
    ['1s', 1_000_000n],
    ['1m', 60_000_000n],
    ['1h', 3_600_000_000n],
    ['1d', 86_400_000_000n],
  ] as const)('%s bars match a brute-force computation over the produced data', async (interval, width) => {
    const result = await env.query({ kind: 'bars', ...window, interval });
    const expected = bruteBars(trades, width);
    expect(result.columns.map((c) => c.name)).toEqual([
      'exchange',
      'symbol',
      'bucket_start',
      'open',
      'high',
      'low',
      'close',
      'volume',
      'vwap',
      'trades',
    ]);
    expect(records(result)).toEqual(expected);
    expect(result.meta.rows).toEqual({ iceberg: committed.length, kafka: tail.length });
  });

  it('VWAP per exchange and symbol equals the exact ratio of notional to volume', async () => {
    const result = await env.query({ kind: 'vwap', ...window, symbols: 'BTCUSDT' });
    const expected = ['BINANCE', 'COINBASE'].map((exchange) => {
      const mine = trades.filter((t) => t.symbol === 'BTCUSDT' && t.exchange === exchange);
      const volume = mine.reduce((s, t) => s + t.quantity, 0n);
      const notional = mine.reduce((s, t) => s + t.price * t.quantity, 0n);
      return {
        exchange,
        vwap: divideDecimal(notional, 16, volume, 8, 8),
        volume,
        notional,
        trades: BigInt(mine.length),
      };
    });
    expect(
      records(result).map(({ exchange, vwap, volume, notional, trades }) => ({
        exchange,
        vwap,
        volume,
        notional,
        trades,
      })),
    ).toEqual(expected);
  });

  it('reports the last trade per exchange and symbol, and says there are no quotes when the quotes table is missing', async () => {
    const result = await env.query({ kind: 'latest', ...window });
    const last = new Map<string, Trade>();
    for (const t of trades) last.set(`${t.exchange}|${t.symbol}`, t);
    expect(
      records(result).map((r) => [r.exchange, r.symbol, r.trade_time, r.trade_price, r.quote_time]),
    ).toEqual(
      [...last.values()]
        .sort((a, b) => `${a.exchange}|${a.symbol}`.localeCompare(`${b.exchange}|${b.symbol}`))
        .map((t) => [t.exchange, t.symbol, t.timestamp, t.price, null]),
    );
    expect(result.meta.warnings.map((w) => w.code)).toContain('K2_QUERY_NO_QUOTES');
  });

  it('computes sequence gaps from the trades when the gaps table does not exist, and says so', async () => {
    const result = await env.query({ kind: 'gaps', ...window });
    expect(result.meta.gaps).toEqual({ method: 'computed', table: env.tableId });
    const expected: [string, string, bigint, bigint][] = [];
    const series = new Map<string, Trade[]>();
    for (const t of trades)
      series.set(`${t.exchange}|${t.symbol}`, [...(series.get(`${t.exchange}|${t.symbol}`) ?? []), t]);
    for (const [key, list] of [...series].sort(([a], [b]) => a.localeCompare(b))) {
      const [exchange, symbol] = key.split('|') as [string, string];
      for (let k = 1; k < list.length; k++) {
        if (list[k]!.sequence > list[k - 1]!.sequence + 1n)
          expected.push([exchange, symbol, list[k - 1]!.sequence + 1n, list[k]!.sequence - 1n]);
      }
    }
    expect(expected.length).toBeGreaterThan(0);
    expect(records(result).map((r) => [r.exchange, r.symbol, r.from_sequence, r.to_sequence])).toEqual(
      expected,
    );
  });

  it("reads the supervisor's gaps table when it exists, filtered by detection time, symbols and exchanges", async () => {
    const schema: IcebergSchema = {
      type: 'struct',
      'schema-id': 0,
      fields: [
        ['exchange', 'string'],
        ['symbol', 'string'],
        ['from_sequence', 'long'],
        ['to_sequence', 'long'],
        ['size', 'long'],
        ['detected_at', 'timestamptz'],
        ['kind', 'string'],
        ['topic', 'string'],
        ['partition', 'long'],
        ['offset', 'long'],
      ].map(([name, type], i) => ({ id: i + 1, name: name!, required: false, type: type as 'string' })),
    };
    const id = `${env.namespace}.recorded_gaps`;
    const table = await createTable(env.warehouse.warehouse, id, {
      location: `${env.warehouse.warehouse.location}/${env.namespace}/recorded_gaps`,
      schema,
      spec: { fields: [] },
      sortOrder: { fields: [] },
      properties: {},
    });
    const gaps = [
      ['BINANCE', 'BTCUSDT', 1_040n, 1_040n, 1n, T0 + 1_000n, 'gap', env.topic, 0n, 40n],
      ['NASDAQ', 'AAPL', 1_080n, 1_081n, 2n, T0 + 2_000n, 'gap', env.topic, 1n, 80n],
      ['BINANCE', 'BTCUSDT', 1_120n, 1_120n, 1n, T0 - 1_000n, 'gap', env.topic, 0n, 120n],
    ] as const;
    const utf8 = (k: number) => {
      const data = Buffer.from(gaps.map((g) => g[k] as string).join(''));
      const offsets = Int32Array.from([
        0,
        ...gaps.map((_, i) =>
          gaps.slice(0, i + 1).reduce((n, x) => n + Buffer.byteLength(x[k] as string), 0),
        ),
      ]);
      return { kind: 'utf8' as const, offsets, data: new Uint8Array(data), validity: null };
    };
    const long = (k: number) => ({
      kind: 'int64' as const,
      values: BigInt64Array.from(gaps.map((g) => g[k] as bigint)),
      validity: null,
    });
    const { bytes, stats } = await encodeParquet(schema, [
      {
        rowCount: gaps.length,
        columns: Object.fromEntries(
          schema.fields.map((f, k) => [f.name, f.type === 'string' ? utf8(k) : long(k)]),
        ),
      },
    ]);
    const filePath = `${table.metadata.location}/data/gaps.parquet`;
    await env.warehouse.warehouse.io.write(filePath, bytes);
    await appendFiles(env.warehouse.warehouse, table, {
      files: [
        {
          ...stats,
          filePath,
          fileFormat: 'PARQUET',
          fileSizeInBytes: bytes.byteLength,
          partition: new Map(),
          specId: 0,
        },
      ],
      commitId: 'gaps-1',
      writerId: 'test',
    });
    const result = await env.query({
      kind: 'gaps',
      'gaps-table': 'recorded_gaps',
      ...window,
      symbols: 'BTCUSDT,AAPL',
    });
    expect(result.meta.gaps).toEqual({ method: 'table', table: id });
    expect(records(result)).toEqual([
      {
        exchange: 'BINANCE',
        symbol: 'BTCUSDT',
        from_sequence: 1_040n,
        to_sequence: 1_040n,
        size: 1n,
        detected_at: T0 + 1_000n,
        kind: 'gap',
        topic: env.topic,
        partition: 0n,
        offset: 40n,
      },
      {
        exchange: 'NASDAQ',
        symbol: 'AAPL',
        from_sequence: 1_080n,
        to_sequence: 1_081n,
        size: 2n,
        detected_at: T0 + 2_000n,
        kind: 'gap',
        topic: env.topic,
        partition: 1n,
        offset: 80n,
      },
    ]);
    const binance = await env.query({
      kind: 'gaps',
      'gaps-table': 'recorded_gaps',
      ...window,
      exchanges: 'BINANCE',
    });
    expect(binance.rows).toHaveLength(1);
  });

  it('reports table stats from metadata: files, rows, bytes per partition and the uncommitted tail per Kafka partition', async () => {
    const result = await env.query({ kind: 'stats' });
    const rows = records(result);
    const table = rows.find((r) => r.scope === 'table')!;
    expect(table).toMatchObject({ name: env.tableId, snapshots: 2n, rows: BigInt(committed.length) });
    const partitions = rows.filter((r) => r.scope === 'partition');
    expect(partitions.map((r) => r.name)).toEqual([
      'timestamp_day=2025-01-01/exchange=BINANCE',
      'timestamp_day=2025-01-01/exchange=COINBASE',
      'timestamp_day=2025-01-01/exchange=NASDAQ',
    ]);
    expect(partitions.reduce((s, r) => s + (r.rows as bigint), 0n)).toBe(BigInt(committed.length));
    expect(partitions.reduce((s, r) => s + (r.bytes as bigint), 0n)).toBe(table.bytes);
    const kafka = rows.filter((r) => r.scope === 'kafka');
    expect(kafka.reduce((s, r) => s + (r.rows as bigint), 0n)).toBe(BigInt(tail.length));
  });

  it('runs one SELECT over a view named after the table, Iceberg only unless asked for the tail', async () => {
    const count = async (source?: string) => {
      const r = await env.query({
        kind: 'sql',
        sql: 'SELECT count(*) AS n, count(DISTINCT symbol) AS s FROM trades',
        ...(source ? { source } : {}),
      });
      return records(r)[0];
    };
    expect(await count()).toEqual({ n: BigInt(committed.length), s: 3n });
    expect(await count('hybrid')).toEqual({ n: BigInt(COUNT), s: 3n });
    const bySide = await env.query({
      kind: 'sql',
      sql: 'WITH t AS (SELECT * FROM trades_v2) SELECT k2_source, count(*) AS n FROM t GROUP BY ALL ORDER BY 1',
      source: 'hybrid',
    });
    expect(bySide.rows).toEqual([
      ['iceberg', BigInt(committed.length)],
      ['kafka', BigInt(tail.length)],
    ]);
  });

  it('refuses raw SQL that is not one read-only SELECT, and names unknown tables', async () => {
    const sql = (text: string) => env.query({ kind: 'sql', sql: text });
    await expect(sql(`COPY (SELECT 1) TO '/tmp/x.csv'`)).rejects.toBeInstanceOf(SqlRejectedError);
    await expect(sql('SELECT 1; SELECT 2')).rejects.toBeInstanceOf(SqlRejectedError);
    await expect(sql('DROP TABLE trades')).rejects.toBeInstanceOf(SqlRejectedError);
    await expect(sql(`ATTACH '/tmp/x.db'`)).rejects.toBeInstanceOf(SqlRejectedError);
    await expect(sql('SELEC * FROM trades')).rejects.toBeInstanceOf(MalformedSqlError);
    await expect(sql('SELECT no_such_column FROM trades')).rejects.toBeInstanceOf(MalformedSqlError);
    await expect(sql(`SELECT * FROM read_csv('/etc/passwd')`)).rejects.toThrow(/disabled by configuration/);
    await expect(sql('SELECT * FROM nope')).rejects.toBeInstanceOf(UnknownTableError);
  });

  it('rejects bad input with messages that say what to change', async () => {
    await expect(env.query({ kind: 'trades', table: 'no_such_table', ...window })).rejects.toThrow(
      /no_such_table does not exist \(the namespace holds: .*trades_v2\)/,
    );
    await expect(env.query({ kind: 'trades', ...window, symbols: 'DOGEUSDT' })).rejects.toBeInstanceOf(
      UnknownSymbolError,
    );
    await expect(env.query({ kind: 'trades', ...window, 'max-rows': '100' })).rejects.toBeInstanceOf(
      TooManyRowsError,
    );
    await expect(env.query({ kind: 'trades', from: window.to, to: window.from })).rejects.toBeInstanceOf(
      InvalidQueryError,
    );
    await expect(env.query({ kind: 'bars', from: '2024-01-01', to: '2024-12-31' })).rejects.toThrow(
      /more than the 31d allowed/,
    );
    // A known symbol that is quiet in the window is an empty answer with a warning, not an error.
    const quiet = await env.query({ kind: 'trades', symbols: 'AAPL', from: '2024-06-01', to: '2024-06-02' });
    expect(quiet.rows).toEqual([]);
    expect(quiet.meta.warnings.map((w) => w.code)).toContain('K2_QUERY_NO_ROWS');
  });
});
