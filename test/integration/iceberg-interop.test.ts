import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFiles } from '../../src/iceberg/append.js';
import type { DataFile } from '../../src/iceberg/datafile.js';
import { groupOffsets } from '../../src/iceberg/offsets.js';
import { marketPredicates, planScan } from '../../src/iceberg/scan.js';
import { ensureK2Table, loadTable } from '../../src/iceberg/table.js';
import { pyiceberg, pyicebergPython, writeParquetFiles } from '../support/pyiceberg.js';
import { DAY_MICROS, MARCH_1, type TradeRow, testWarehouse, trades } from './iceberg-support.js';

interface ScanAnswer {
  rows: TradeRow[];
  files: string[];
  rowCount: number;
  currentSnapshotId: string;
  snapshots: {
    snapshotId: string;
    parentSnapshotId: string | null;
    operation: string;
    summary: Record<string, string>;
  }[];
  properties: Record<string, string>;
  partitionSpec: { name: string; transform: string }[];
  sortOrder: string[];
}

const byId = (a: { message_id: string }, b: { message_id: string }) =>
  a.message_id.localeCompare(b.message_id);

describe('PyIceberg reads what K2 writes', () => {
  const env = testWarehouse();
  const namespace = `md_${env.catalogName.slice(2)}`;
  const tableId = `${namespace}.trades_v2`;
  const partitions: [number, string][] = [
    [0, 'BINANCE'],
    [0, 'COINBASE'],
    [1, 'BINANCE'],
    [1, 'COINBASE'],
  ];
  const rowsByFile = new Map<string, TradeRow[]>();
  let files: DataFile[] = [];

  beforeAll(async () => {
    await pyicebergPython();
    const table = await ensureK2Table(env.warehouse, 'trades_v2', namespace);
    const specs = partitions.map(([day, exchange], i) => {
      const path = `${table.metadata.location}/data/k2-${day}-${exchange}-${i}.parquet`;
      const rows = trades(day, exchange, 40 + i * 7, i);
      rowsByFile.set(path, rows);
      return { path, rows };
    });
    files = await writeParquetFiles(env.catalogName, tableId, specs);
  });
  afterAll(() => env.close());

  it('reads every row and value of two K2 appends, with the exact summary totals and offsets keys', async () => {
    const first = await appendFiles(env.warehouse, tableId, {
      files: files.slice(0, 3),
      commitId: 'batch-1',
      writerId: 'test-writer',
      offsets: {
        group: 'k2-ingest',
        ranges: [{ topic: 'market.crypto.trades', partition: 0, fromOffset: 0n, nextOffset: 147n }],
      },
    });
    const second = await appendFiles(env.warehouse, first.table, {
      files: files.slice(3),
      commitId: 'batch-2',
      writerId: 'test-writer',
      offsets: {
        group: 'k2-ingest',
        ranges: [
          { topic: 'market.crypto.trades', partition: 1, fromOffset: 0n, nextOffset: 9_007_199_254_740_993n },
        ],
      },
    });
    expect(second.snapshot['parent-snapshot-id']).toBe(first.snapshot['snapshot-id']);

    const answer = await pyiceberg<ScanAnswer>(env.catalogName, { command: 'scan', table: tableId });
    const expected = [...rowsByFile.values()].flat().sort(byId);
    expect(answer.rowCount).toBe(expected.length);
    expect(answer.rows.sort(byId)).toEqual(expected);

    expect(answer.currentSnapshotId).toBe(String(second.snapshot['snapshot-id']));
    const head = answer.snapshots.find((s) => s.snapshotId === answer.currentSnapshotId)!;
    expect(head.parentSnapshotId).toBe(String(first.snapshot['snapshot-id']));
    expect(head.operation).toBe('append');
    const totalSize = files.reduce((n, f) => n + f.fileSizeInBytes, 0);
    expect(head.summary).toMatchObject({
      'added-data-files': '1',
      'added-records': String(files[3]!.recordCount),
      'total-data-files': '4',
      'total-records': String(expected.length),
      'total-files-size': String(totalSize),
      'total-delete-files': '0',
      'k2.commit-id': 'batch-2',
      'k2.writer-id': 'test-writer',
    });
    expect(JSON.parse(head.summary['k2.offsets.k2-ingest']!.replace(/(\d{16,})/g, '"$1"'))).toEqual({
      'market.crypto.trades': { '0': 147, '1': '9007199254740993' },
    });
    expect(answer.partitionSpec.map((p) => `${p.transform}:${p.name}`)).toEqual([
      'day:timestamp_day',
      'identity:exchange',
    ]);
    expect(answer.properties['schema.name-mapping.default']).toContain('"message_id"');

    const table = await loadTable(env.warehouse, tableId);
    const offsets = groupOffsets(table.metadata, 'k2-ingest');
    expect(offsets.get('market.crypto.trades')).toEqual(
      new Map([
        [0, 147n],
        [1, 9_007_199_254_740_993n],
      ]),
    );
  });

  it('prunes by day and exchange in PyIceberg and in K2 scan planning alike, and DuckDB reads the same rows', async () => {
    const from = MARCH_1 + DAY_MICROS;
    const to = MARCH_1 + 2 * DAY_MICROS;
    const answer = await pyiceberg<ScanAnswer>(env.catalogName, {
      command: 'scan',
      table: tableId,
      where: [
        { column: 'timestamp', op: '>=', value: from },
        { column: 'timestamp', op: '<', value: to },
        { column: 'exchange', op: '==', value: 'BINANCE' },
      ],
    });
    const matching = [...rowsByFile].filter(([path]) => path.includes('-1-BINANCE-'));
    expect(answer.files).toEqual(matching.map(([path]) => path));
    expect(answer.rows.sort(byId)).toEqual(matching.flatMap(([, rows]) => rows).sort(byId));

    const table = await loadTable(env.warehouse, tableId);
    const plan = await planScan(
      env.warehouse,
      table,
      marketPredicates({ from: BigInt(from), to: BigInt(to), exchanges: ['BINANCE'] }),
    );
    expect(plan.files.map((f) => f.filePath).sort()).toEqual(answer.files);

    const dir = mkdtempSync(join(tmpdir(), 'k2-duckdb-'));
    try {
      const local = await Promise.all(
        plan.files.map(async (f, i) => {
          const path = join(dir, `${i}.parquet`);
          writeFileSync(path, await env.warehouse.io.read(f.filePath));
          return path;
        }),
      );
      const duck = await (await DuckDBInstance.create(':memory:')).connect();
      const list = local.map((p) => `'${p}'`).join(', ');
      const reader = await duck.runAndReadAll(
        `SELECT message_id, CAST(price AS VARCHAR) AS price, CAST(quantity AS VARCHAR) AS quantity,
                epoch_us("timestamp") AS ts, symbol, exchange
           FROM read_parquet([${list}]) ORDER BY message_id`,
      );
      const duckRows = reader.getRowObjectsJson();
      expect(duckRows).toEqual(
        answer.rows.sort(byId).map((r) => ({
          message_id: r.message_id,
          price: r.price,
          quantity: r.quantity,
          ts: String(r.timestamp),
          symbol: r.symbol,
          exchange: r.exchange,
        })),
      );
      duck.closeSync();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('K2 commits after a foreign (PyIceberg) snapshot', () => {
  const env = testWarehouse();
  const namespace = `md_${env.catalogName.slice(2)}`;
  const tableId = `${namespace}.trades_v2`;
  afterAll(() => env.close());

  it('rebases on the PyIceberg append: parent, exact totals, every row readable, offsets carried through ancestry', async () => {
    await pyicebergPython();
    const table = await ensureK2Table(env.warehouse, 'trades_v2', namespace);
    const k2Rows = [trades(0, 'BINANCE', 30, 1), trades(0, 'KRAKEN', 20, 2)];
    const [a, b] = await writeParquetFiles(
      env.catalogName,
      tableId,
      k2Rows.map((rows, i) => ({ path: `${table.metadata.location}/data/k2-${i}.parquet`, rows })),
    );
    const first = await appendFiles(env.warehouse, table, {
      files: [a!],
      commitId: 'k2-1',
      writerId: 'k2-a',
      offsets: {
        group: 'g1',
        ranges: [{ topic: 'market.crypto.trades', partition: 0, fromOffset: 0n, nextOffset: 30n }],
      },
    });

    const foreignRows = trades(1, 'COINBASE', 25, 3);
    const foreign = await pyiceberg<{ snapshotId: string }>(env.catalogName, {
      command: 'append',
      table: tableId,
      rows: foreignRows,
    });

    // `first.table` is stale now: the commit loses its compare-and-swap once, reloads and rebases.
    const second = await appendFiles(env.warehouse, first.table, {
      files: [b!],
      commitId: 'k2-2',
      writerId: 'k2-a',
      offsets: {
        group: 'g1',
        ranges: [{ topic: 'market.crypto.trades', partition: 1, fromOffset: 0n, nextOffset: 20n }],
      },
    });
    expect(second.attempts).toBe(2);
    expect(String(second.snapshot['parent-snapshot-id'])).toBe(foreign.snapshotId);

    const answer = await pyiceberg<ScanAnswer>(env.catalogName, { command: 'scan', table: tableId });
    const all = [...k2Rows.flat(), ...foreignRows].sort(byId);
    expect(answer.rows.sort(byId)).toEqual(all);
    const head = answer.snapshots.find((s) => s.snapshotId === answer.currentSnapshotId)!;
    const foreignSnapshot = answer.snapshots.find((s) => s.snapshotId === foreign.snapshotId)!;
    expect(head.summary['total-records']).toBe(String(all.length));
    expect(head.summary['total-data-files']).toBe('3');
    expect(BigInt(head.summary['total-files-size']!)).toBe(
      BigInt(foreignSnapshot.summary['total-files-size']!) + BigInt(b!.fileSizeInBytes),
    );
    expect(foreignSnapshot.summary['k2.offsets.g1']).toBeUndefined();

    const reloaded = await loadTable(env.warehouse, tableId);
    expect(groupOffsets(reloaded.metadata, 'g1').get('market.crypto.trades')).toEqual(
      new Map([
        [0, 30n],
        [1, 20n],
      ]),
    );
    const plan = await planScan(env.warehouse, reloaded, marketPredicates({ exchanges: ['COINBASE'] }));
    expect(plan.files).toHaveLength(1);
    expect(plan.files[0]!.recordCount).toBe(25);
  });
});
