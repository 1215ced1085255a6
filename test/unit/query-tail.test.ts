import { afterAll, describe, expect, it } from 'vitest';
import type { KafkaValue } from '../../src/codec/batch.js';
import { stringAt, type Utf8Column } from '../../src/codec/columns.js';
import type { TailSource } from '../../src/query/kafka-source.js';
import { readTail, type TailRequest } from '../../src/query/tail.js';
import { rowBounds, selectRows } from '../../src/query/tail-filter.js';
import { type TailRange, tailRanges } from '../../src/query/tail-ranges.js';
import { CodecPool } from '../../src/workers/pool.js';
import { encode, ids, T0, trade, writers } from './codec-fixtures.js';

const pool = new CodecPool({ minThreads: 1, maxThreads: 2 });
afterAll(() => pool.destroy());

describe('tail ranges', () => {
  it('reads each partition from its recorded next offset to the high watermark, or from the low watermark when none is recorded', () => {
    const plan = tailRanges('t', new Map([[0, 40n]]), [
      { partition: 1, low: 5n, high: 9n },
      { partition: 0, low: 0n, high: 50n },
    ]);
    expect(plan.ranges).toEqual([
      { topic: 't', partition: 0, from: 40n, to: 50n },
      { topic: 't', partition: 1, from: 5n, to: 9n },
    ]);
    expect(plan.truncated).toEqual([]);
  });

  it('reports records that expired before they were committed, and offsets beyond the end, reading neither', () => {
    const plan = tailRanges(
      't',
      new Map([
        [0, 10n],
        [1, 99n],
        [2, 7n],
      ]),
      [
        { partition: 0, low: 25n, high: 30n },
        { partition: 1, low: 0n, high: 50n },
        { partition: 2, low: 0n, high: 7n },
      ],
    );
    expect(plan.ranges).toEqual([{ topic: 't', partition: 0, from: 25n, to: 30n }]);
    expect(plan.truncated).toEqual([{ topic: 't', partition: 0, recorded: 10n, low: 25n }]);
    expect(plan.ahead).toEqual([{ topic: 't', partition: 1, recorded: 99n, high: 50n }]);
  });
});

/** Trades 0..n-1 as a partition's records at offsets from `first`. */
const records = (indexes: number[], first = 0n): KafkaValue[] =>
  indexes.map((i, k) => ({ value: encode('trade_v2', trade(i)), offset: first + BigInt(k) }));

/** A tail source serving fixed records per partition, in chunks of `chunk`. */
function fakeSource(partitions: Map<number, KafkaValue[]>, chunk = 7): TailSource & { fetched: number } {
  const source = {
    fetched: 0,
    async watermarks() {
      return [...partitions].map(([partition, values]) => ({
        partition,
        low: 0n,
        high: BigInt(values.length),
      }));
    },
    async fetch(ranges: readonly TailRange[], onRecords: (r: TailRange, v: KafkaValue[]) => Promise<void>) {
      for (const range of ranges) {
        const values = partitions
          .get(range.partition)!
          .filter((v) => BigInt(v.offset) >= range.from && BigInt(v.offset) < range.to);
        for (let at = 0; at < values.length; at += chunk) {
          source.fetched += Math.min(chunk, values.length - at);
          await onRecords(range, values.slice(at, at + chunk));
        }
      }
    },
    async close() {},
  };
  return source;
}

const request = (overrides: Partial<TailRequest> = {}): TailRequest => ({
  table: 'trades_v2',
  topics: ['t'],
  recorded: new Map(),
  filter: { timeColumn: 'timestamp' },
  maxRecords: 1_000,
  signal: new AbortController().signal,
  ...overrides,
});
const schemas = { writerSchemas: async () => writers() };
const ids_ = (rows: { rowCount: number; columns: Record<string, unknown> } | undefined) =>
  rows
    ? Array.from({ length: rows.rowCount }, (_, r) => stringAt(rows.columns.message_id as Utf8Column, r))
    : [];

describe('reading the tail', () => {
  it('decodes in the pool, filters like the SQL, and keeps the first copy of a message', async () => {
    // Partition 0 repeats trade 3 at a later offset (a producer retry); trades are 1 ms apart.
    const source = fakeSource(
      new Map([
        [0, records([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 3])],
        [1, records([20, 21, 22, 23])],
      ]),
    );
    const read = await readTail(
      { source, pool, schemas },
      request({
        recorded: new Map([['t', new Map([[1, 2n]])]]),
        filter: { timeColumn: 'timestamp', from: BigInt(T0 + 2_000), symbols: new Set(['BTCUSDT', 'AAPL']) },
      }),
    );
    expect(read.status).toBe('read');
    expect(read.records).toBe(13 + 2);
    expect(read.ranges).toEqual([
      { topic: 't', partition: 0, from: 0n, to: 13n },
      { topic: 't', partition: 1, from: 2n, to: 4n },
    ]);
    // From trade 2 on, BTCUSDT (i % 4 = 0) and AAPL (i % 4 = 3); trade 3 once; partition 1 from offset 2.
    expect(ids_(read.rows)).toEqual([3, 4, 7, 8, 11, 23].map((i) => trade(i).message_id));
    expect(read.partial).toBe(false);
  });

  it('does not read a tail longer than the limit, and says the answer is partial', async () => {
    const source = fakeSource(new Map([[0, records([0, 1, 2, 3, 4])]]));
    const read = await readTail({ source, pool, schemas }, request({ maxRecords: 4 }));
    expect(read).toMatchObject({ status: 'too-large', partial: true, rows: undefined });
    expect(source.fetched).toBe(0);
    expect(read.warnings[0]!.message).toMatch(/holds 5 records, more than the 4 a query reads/);
  });

  it('reports Kafka failures and registry outages as an unavailable tail, never as an error', async () => {
    const down: TailSource = {
      ...fakeSource(new Map()),
      watermarks: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const kafka = await readTail({ source: down, pool, schemas }, request());
    expect(kafka).toMatchObject({ status: 'unavailable', partial: true });
    expect(kafka.warnings[0]!.message).toMatch(/Kafka: ECONNREFUSED/);

    const registryDown = {
      writerSchemas: async () => ({
        [ids.trade_v2]: {
          error: {
            name: 'RegistryUnavailableError',
            code: 'K2_REGISTRY_UNAVAILABLE',
            retriable: true,
            message: 'HTTP 503',
          },
        },
      }),
    };
    const read = await readTail(
      { source: fakeSource(new Map([[0, records([0, 1])]])), pool, schemas: registryDown },
      request(),
    );
    expect(read).toMatchObject({ status: 'unavailable', partial: true, rows: undefined });
    expect(read.warnings[0]!.message).toMatch(/the schema registry: HTTP 503/);
  });

  it('counts poison records and keeps the rest, without flagging the answer partial', async () => {
    const values = records([0, 1, 2]);
    values.splice(1, 0, { value: Buffer.from('garbage'), offset: 99n });
    const read = await readTail(
      {
        source: fakeSource(new Map([[0, values.map((v, k) => ({ ...v, offset: BigInt(k) }))]])),
        pool,
        schemas,
      },
      request(),
    );
    expect(read.decodeFailures).toBe(1);
    expect(read.partial).toBe(false);
    expect(ids_(read.rows)).toHaveLength(3);
    expect(read.warnings.map((w) => w.code)).toEqual(['K2_QUERY_TAIL_POISON']);
  });
});

describe('tail row filter', () => {
  it('selects by time window, symbols and exchanges, dedupes across calls, and gives the rows extent', async () => {
    const decoded = await pool.decodeResolved(
      'trades_v2',
      { ...(await import('../../src/codec/batch.js')).packBatch(records([0, 1, 2, 3, 4, 5, 6, 7])) },
      writers(),
    );
    const seen = new Set<string>([trade(4).message_id as string]);
    const rows = selectRows(
      decoded,
      {
        timeColumn: 'timestamp',
        from: BigInt(T0 + 1_000),
        to: BigInt(T0 + 7_000),
        exchanges: new Set(['BINANCE']),
      },
      seen,
    );
    expect([...rows]).toEqual([1, 2, 5, 6]);
    expect(selectRows(decoded, { timeColumn: 'timestamp' }, seen)).toEqual(Int32Array.from([0, 3, 7]));
    expect(rowBounds(decoded, 'timestamp')).toEqual({
      from: BigInt(T0),
      to: BigInt(T0 + 7_000 + 1),
      symbols: ['AAPL', 'BTCUSDT', 'ETHUSDT', 'SOLUSDT'],
      exchanges: ['BINANCE', 'NASDAQ'],
    });
  });
});
