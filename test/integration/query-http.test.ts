import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tableFromIPC } from 'apache-arrow';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerQueryCommands } from '../../src/cli/query.js';
import { createQueryHandler } from '../../src/query/http.js';
import { formatIso } from '../../src/query/time.js';
import { price, type QueryEnv, queryEnv, STEP, T0, type Trade } from './query-support.js';

const COUNT = 120;
const from = formatIso(T0);
const to = formatIso(T0 + BigInt(COUNT) * STEP);

describe('GET /query and k2 query', () => {
  let env: QueryEnv;
  let trades: Trade[];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    env = await queryEnv();
    trades = env.trades(COUNT);
    await env.produce(trades);
    await env.commit(
      trades.filter((t) => t.i < 80),
      env.group,
    );
    const handle = createQueryHandler({ service: env.service, path: '/query' });
    server = createServer((req, res) => {
      if (!handle(req, res)) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/query?namespace=${env.namespace}&from=${from}&to=${to}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await env?.close();
  });

  const aapl = () => trades.filter((t) => t.symbol === 'AAPL');

  it('answers JSON with decimals as strings, ISO-8601 microsecond timestamps and the count from each side', async () => {
    const response = await fetch(`${base}&kind=trades&symbol=AAPL`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as {
      rows: Record<string, unknown>[];
      meta: { rows: unknown; partial: boolean };
    };
    expect(body.rows.map((r) => [r.message_id, r.price, r.timestamp])).toEqual(
      aapl().map((t) => [t.messageId, price(t.price), formatIso(t.timestamp)]),
    );
    expect(body.rows[0]!.price).toMatch(/^\d+\.\d{8}$/);
    expect(body.rows[0]!.timestamp).toMatch(/^2025-01-01T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    const expected = {
      iceberg: aapl().filter((t) => t.i < 80).length,
      kafka: aapl().filter((t) => t.i >= 80).length,
    };
    expect(body.meta.rows).toEqual(expected);
    expect(response.headers.get('x-k2-rows-kafka')).toBe(String(expected.kafka));
    expect(response.headers.get('x-k2-partial')).toBe('false');
  });

  it('answers CSV and Arrow IPC with the same exact values', async () => {
    const csv = await (await fetch(`${base}&kind=trades&symbols=AAPL&timestamps=micros&format=csv`)).text();
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'timestamp,exchange,symbol,price,quantity,currency,side,trade_id,source_sequence,message_id,source',
    );
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4))).toEqual(
      aapl().map((t) => [String(t.timestamp), 'NASDAQ', 'AAPL', price(t.price)]),
    );

    const arrow = tableFromIPC(
      new Uint8Array(await (await fetch(`${base}&kind=bars&interval=1h&format=arrow`)).arrayBuffer()),
    );
    expect(arrow.numRows).toBeGreaterThan(0);
    expect(String(arrow.schema.fields.find((f) => f.name === 'bucket_start')!.type)).toBe(
      'Timestamp<MICROSECOND, UTC>',
    );
    const open = arrow.getChild('open')!;
    expect(open.type).toMatchObject({ precision: 18, scale: 8, bitWidth: 128 });
    // Row 0 is BINANCE BTCUSDT's first hour: its open is trade 0's price, exact in the 128-bit words.
    const words = open.data[0]!.values as Uint32Array;
    const unscaled = [3, 2, 1, 0].reduce((v, w) => (v << 32n) | BigInt(words[w]!), 0n);
    expect(unscaled).toBe(trades[0]!.price);
    expect(JSON.parse(arrow.schema.metadata.get('k2.meta')!).rows).toEqual({
      iceberg: 80,
      kafka: COUNT - 80,
    });
    const counts = arrow.getChild('trades')!.toArray() as BigInt64Array;
    expect(counts.reduce((s, n) => s + n, 0n)).toBe(BigInt(COUNT));
  });

  it('maps bad input to 400, unknown names to 404 and other methods to 405, with the error code in JSON', async () => {
    const status = async (query: string, init?: RequestInit) => {
      const response = await fetch(`${base}&${query}`, init);
      return [response.status, ((await response.json()) as { error: { code: string } }).error.code];
    };
    expect(await status('kind=bars&interval=2m')).toEqual([400, 'K2_QUERY_INVALID']);
    expect(await status('kind=trades&bogus=1')).toEqual([400, 'K2_QUERY_INVALID']);
    expect(await status('kind=sql&q=DELETE FROM trades')).toEqual([400, 'K2_QUERY_SQL_REJECTED']);
    expect(await status('kind=trades&table=nope')).toEqual([404, 'K2_QUERY_UNKNOWN_TABLE']);
    expect(await status('kind=trades', { method: 'POST' })).toEqual([405, 'K2_QUERY_METHOD']);
    expect((await fetch(base.replace('/query', '/other'))).status).toBe(404);
  });

  it('k2 query prints the same answer from the command line', async () => {
    const written: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    process.env.K2_CATALOG_NAME = env.warehouse.catalogName;
    process.env.K2_KAFKA_GROUP_ID = env.group;
    try {
      const program = new Command().exitOverride();
      registerQueryCommands(program);
      await program.parseAsync(
        [
          'query',
          'vwap',
          '--namespace',
          env.namespace,
          '--symbols',
          'AAPL',
          '--from',
          from,
          '--to',
          to,
          '--format',
          'csv',
          '--cache-dir',
          env.cacheDir,
        ],
        { from: 'user' },
      );
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      delete process.env.K2_CATALOG_NAME;
      delete process.env.K2_KAFKA_GROUP_ID;
    }
    const [header, row] = written.join('').trimEnd().split('\r\n');
    expect(header).toBe('exchange,symbol,vwap,volume,notional,trades,first_trade,last_trade');
    expect(row!.split(',').slice(0, 2)).toEqual(['NASDAQ', 'AAPL']);
    expect(row!.split(',')[5]).toBe(String(aapl().length));
  });
});
