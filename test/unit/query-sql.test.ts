import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableSchema } from '../../src/iceberg/types.js';
import { DuckEngine, type DuckSession } from '../../src/query/duck-engine.js';
import { MalformedSqlError, QueryEngineError, SqlRejectedError } from '../../src/query/errors.js';
import { emptyRelation } from '../../src/query/relations.js';
import { sqlCondition } from '../../src/query/selection.js';
import { inspectSelect, prepareSelect } from '../../src/query/sql-guard.js';

const dir = mkdtempSync(join(tmpdir(), 'k2-duck-test-'));
let engine: DuckEngine;
let session: DuckSession;
beforeAll(async () => {
  engine = await DuckEngine.create({ allowedDirectories: [dir] });
  session = await engine.session(new AbortController().signal, 10_000);
});
afterAll(() => {
  session.close();
  engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('raw SQL guard', () => {
  it('names the tables a SELECT reads, leaving out CTEs', async () => {
    const refs = await inspectSelect(
      session.connection,
      `WITH recent AS (SELECT * FROM trades WHERE symbol IN (SELECT symbol FROM quotes))
       SELECT * FROM recent JOIN market_data.reference_data_v2 USING (symbol) UNION SELECT * FROM Recent`,
    );
    expect(refs).toEqual([
      { schema: '', name: 'trades' },
      { schema: '', name: 'quotes' },
      { schema: 'market_data', name: 'reference_data_v2' },
    ]);
  });

  it.each([
    [`COPY (SELECT 1) TO '/tmp/out.csv'`],
    [`ATTACH '/tmp/x.db'`],
    ['INSTALL httpfs'],
    ['PRAGMA version'],
    ['SET threads = 1'],
    ['CREATE TABLE t (a INT)'],
    ['DELETE FROM trades'],
    ['SELECT 1; SELECT 2'],
    ['SELECT 1; DROP TABLE trades'],
    ['EXPLAIN SELECT 1'],
  ])('refuses %s', async (sql) => {
    await expect(inspectSelect(session.connection, sql)).rejects.toBeInstanceOf(SqlRejectedError);
  });

  it('reports malformed SQL with the parser message', async () => {
    await expect(inspectSelect(session.connection, 'SELEC 1')).rejects.toThrow(
      /malformed SQL: syntax error at or near "SELEC"/,
    );
    await expect(
      prepareSelect(session.connection, 'SELECT missing FROM (SELECT 1 AS a)'),
    ).rejects.toBeInstanceOf(MalformedSqlError);
    const prepared = await prepareSelect(session.connection, 'SELECT 41 + 1 AS answer');
    expect((await session.selectPrepared(prepared, 10)).rows).toEqual([[42]]);
  });
});

describe('the embedded engine', () => {
  it('is locked: no files outside the cache, no extensions, no settings', async () => {
    await expect(session.select(`SELECT * FROM read_csv('/etc/passwd')`, 1)).rejects.toThrow(
      /disabled by configuration/,
    );
    await expect(session.select(`SELECT * FROM read_parquet('${dir}/../x.parquet')`, 1)).rejects.toThrow(
      /disabled by configuration/,
    );
    await expect(session.exec('SET threads = 1')).rejects.toThrow(/configuration has been locked/);
    await expect(session.exec('LOAD httpfs')).rejects.toBeInstanceOf(QueryEngineError);
  });

  it('reads an empty relation with the exact types of the Parquet files for every K2 table', async () => {
    for (const table of ['trades_v2', 'quotes_v2', 'reference_data_v2'] as const) {
      const { columns, rows } = await session.select(
        `SELECT * FROM (${emptyRelation(tableSchema(table))})`,
        1,
      );
      expect(rows).toEqual([]);
      expect(columns.map((c) => c.name)).toEqual(tableSchema(table).fields.map((f) => f.name));
    }
    const { columns } = await session.select(`SELECT * FROM (${emptyRelation(tableSchema('trades_v2'))})`, 1);
    expect(columns.find((c) => c.name === 'price')?.type).toEqual({
      kind: 'decimal',
      precision: 18,
      scale: 8,
    });
    expect(columns.find((c) => c.name === 'timestamp')?.type).toEqual({ kind: 'timestamp' });
  });

  it('returns exact values: decimals unscaled, timestamps in microseconds, hugeint sums as bigint', async () => {
    const { rows, columns } = await session.select(
      `SELECT 60000.12345678::DECIMAL(18, 8) AS p, make_timestamp(1735689600000123)::TIMESTAMPTZ AS t,
              sum(x)::HUGEINT AS h, 'x' AS s, NULL::BIGINT AS n
         FROM (VALUES (9223372036854775807::HUGEINT), (1::HUGEINT)) v(x)`,
      10,
    );
    expect(columns.map((c) => c.type.kind)).toEqual(['decimal', 'timestamp', 'long', 'string', 'long']);
    expect(rows).toEqual([
      [6_000_012_345_678n, 1_735_689_600_000_123n, 9_223_372_036_854_775_808n, 'x', null],
    ]);
  });

  it('says when an answer has more rows than asked for', async () => {
    const { rows, more } = await session.select('SELECT * FROM range(5000)', 4_000);
    expect(rows).toHaveLength(4_000);
    expect(more).toBe(true);
    expect((await session.select('SELECT * FROM range(4000)', 4_000)).more).toBe(false);
  });

  it('filters the same selection in SQL as the planner does, skipping columns a table lacks', async () => {
    const selection = {
      timeColumn: 'timestamp',
      window: { from: 1n, to: 2n },
      symbols: ["O'HARE"],
      exchanges: ['X'],
    };
    expect(sqlCondition(tableSchema('trades_v2'), selection)).toBe(
      `"timestamp" >= make_timestamp(1::BIGINT)::TIMESTAMPTZ AND "timestamp" < make_timestamp(2::BIGINT)::TIMESTAMPTZ AND symbol IN ('O''HARE') AND exchange IN ('X')`,
    );
    expect(sqlCondition(tableSchema('reference_data_v2'), selection)).toBe(
      `symbol IN ('O''HARE') AND exchange IN ('X')`,
    );
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    await db.run(
      `SELECT * FROM (${emptyRelation(tableSchema('trades_v2'))}) WHERE ${sqlCondition(tableSchema('trades_v2'), selection)}`,
    );
    db.closeSync();
  });
});
