import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { stringAt, type Utf8Column } from '../../src/codec/columns.js';
import type { FileLayout } from '../../src/codec/layout.js';
import { takeRows } from '../../src/codec/select.js';
import { k2TableDefinition } from '../../src/iceberg/tables.js';
import { CodecPool } from '../../src/workers/pool.js';
import { T0, tradeBatch, writers } from './codec-fixtures.js';

const pool = new CodecPool({ minThreads: 1, maxThreads: 2 });
afterAll(() => pool.destroy());

const definition = k2TableDefinition('trades_v2', 's3://bucket/t');
const layout: FileLayout = {
  specId: 0,
  partitionFields: definition.spec.fields,
  sortColumns: ['symbol', 'timestamp'],
};
const DAY = 86_400_000_000;

async function rowsOf(bytes: Uint8Array): Promise<Record<string, unknown>[]> {
  const path = join(mkdtempSync(join(tmpdir(), 'k2-write-')), 'f.parquet');
  writeFileSync(path, bytes);
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  const reader = await connection.runAndReadAll(
    `SELECT message_id, symbol, exchange, timestamp::VARCHAR AS ts FROM read_parquet('${path}')`,
  );
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

describe('write task: a flush becomes one sorted file per partition tuple', () => {
  it('splits by day and exchange, sorts by symbol then time, and writes only the kept rows', async () => {
    // 400 trades one second apart, then 400 more a day later: two days x two exchanges.
    const first = await pool.decodeResolved('trades_v2', tradeBatch(400, 0), writers());
    const second = await pool.decodeResolved('trades_v2', tradeBatch(400, DAY / 1_000), writers());
    const dropped = new Set([0, 1, 2, 3, 10]);
    const keep = Int32Array.from({ length: 400 }, (_, i) => i).filter((i) => !dropped.has(i));
    const { files } = await pool.write({
      table: 'trades_v2',
      layout,
      chunks: [first, second],
      keep: [keep, null],
    });

    expect(files).toHaveLength(4);
    const partitions = files
      .map((f) => [...f.partition.entries()])
      .sort((a, b) => String(a).localeCompare(String(b)));
    const day0 = Math.floor(T0 / DAY);
    expect(partitions).toEqual(
      [
        [
          [1000, day0],
          [1001, 'BINANCE'],
        ],
        [
          [1000, day0],
          [1001, 'NASDAQ'],
        ],
        [
          [1000, day0 + 1],
          [1001, 'BINANCE'],
        ],
        [
          [1000, day0 + 1],
          [1001, 'NASDAQ'],
        ],
      ].sort((a, b) => String(a).localeCompare(String(b))),
    );
    expect(files.reduce((n, f) => n + f.stats.recordCount, 0)).toBe(800 - dropped.size);

    for (const file of files) {
      const rows = await rowsOf(file.bytes);
      expect(rows).toHaveLength(file.stats.recordCount);
      const keys = rows.map((r) => `${r.symbol}|${r.ts}`);
      expect(keys).toEqual([...keys].sort());
      expect(new Set(rows.map((r) => r.exchange)).size).toBe(1);
      for (const id of rows.map((r) => r.message_id as string)) {
        const n = Number.parseInt(id.slice(-12), 16);
        expect(dropped.has(n)).toBe(false);
      }
    }
  });

  it('cuts a large part into consecutive files of at most maxRowsPerFile rows, the sort order continuing', async () => {
    const batch = await pool.decodeResolved('trades_v2', tradeBatch(400, 0), writers());
    const { files } = await pool.write({
      table: 'trades_v2',
      layout,
      chunks: [batch],
      keep: [null],
      maxRowsPerFile: 64,
    });
    const binance = files.filter((f) => f.partition.get(1001) === 'BINANCE');
    const total = binance.reduce((n, f) => n + f.stats.recordCount, 0);
    expect(binance.length).toBe(Math.ceil(total / 64));
    expect(binance.every((f) => f.stats.recordCount <= 64)).toBe(true);
    const keys: string[] = [];
    for (const file of binance) keys.push(...(await rowsOf(file.bytes)).map((r) => `${r.symbol}|${r.ts}`));
    expect(keys).toEqual([...keys].sort());
  });

  it('takeRows gathers strings, lists and maps of the picked rows in order', async () => {
    const decoded = await pool.decodeResolved('trades_v2', tradeBatch(12, 0), writers());
    const picked = takeRows(decoded, Int32Array.from([7, 1, 11]));
    expect(picked.rowCount).toBe(3);
    expect([0, 1, 2].map((r) => stringAt(picked.columns.message_id as Utf8Column, r))).toEqual(
      [7, 1, 11].map((i) => stringAt(decoded.columns.message_id as Utf8Column, i)),
    );
  });
});
