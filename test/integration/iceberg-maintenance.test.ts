import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { appendFiles } from '../../src/iceberg/append.js';
import { compactTable } from '../../src/iceberg/maintenance/compact.js';
import { expireSnapshots } from '../../src/iceberg/maintenance/expire-snapshots.js';
import { removeOrphanFiles } from '../../src/iceberg/maintenance/remove-orphans.js';
import { currentSnapshot } from '../../src/iceberg/metadata.js';
import { groupOffsets } from '../../src/iceberg/offsets.js';
import { marketPredicates, planScan } from '../../src/iceberg/scan.js';
import { ensureK2Table, loadTable } from '../../src/iceberg/table.js';
import { pyiceberg, writeParquetFiles } from '../support/pyiceberg.js';
import { listUris, type TradeRow, testWarehouse, trades } from './iceberg-support.js';

const byId = (a: { message_id: string }, b: { message_id: string }) =>
  a.message_id.localeCompare(b.message_id);
const DAY0 = 19_783;

describe('maintenance: compaction, snapshot expiry, orphan removal', () => {
  const env = testWarehouse();
  const namespace = `m_${env.catalogName.slice(2)}`;
  const tableId = `${namespace}.trades_v2`;
  afterAll(() => env.close());

  it('compacts closed partitions into a replace snapshot that keeps rows, totals and offsets; expiry and orphan removal keep every live file', async () => {
    let table = await ensureK2Table(env.warehouse, 'trades_v2', namespace);
    const layout: [number, string][] = [
      [0, 'BINANCE'],
      [0, 'BINANCE'],
      [0, 'BINANCE'],
      [0, 'COINBASE'],
      [0, 'COINBASE'],
      [1, 'BINANCE'],
      [1, 'BINANCE'],
    ];
    const specs = layout.map(([day, exchange], i) => ({
      path: `${table.metadata.location}/data/small-${i}.parquet`,
      rows: trades(day, exchange, 20 + i, i),
    }));
    const all: TradeRow[] = specs.flatMap((s) => s.rows).sort(byId);
    const files = await writeParquetFiles(env.catalogName, tableId, specs);
    for (const [i, batch] of [files.slice(0, 3), files.slice(3, 5), files.slice(5)].entries()) {
      table = (
        await appendFiles(env.warehouse, table, {
          files: batch,
          commitId: `b${i}`,
          writerId: 'w',
          offsets: {
            group: 'g',
            ranges: [{ topic: 't', partition: i, fromOffset: 0n, nextOffset: BigInt(100 + i) }],
          },
        })
      ).table;
    }

    const result = await compactTable(env.warehouse, table, {
      writerId: 'maintenance',
      closedBeforeDay: DAY0 + 1,
      closedBeforeMs: 0,
    });
    expect(result).toMatchObject({ groups: 2, rewritten: 5, added: 2 });
    table = result.commit!.table;
    const replace = currentSnapshot(table.metadata)!;
    expect(replace.summary).toMatchObject({
      operation: 'replace',
      'added-data-files': '2',
      'deleted-data-files': '5',
      'total-data-files': '4',
      'total-records': String(all.length),
    });
    expect(replace.summary['k2.offsets.g']).toBeDefined();
    expect(groupOffsets(table.metadata, 'g').get('t')).toEqual(
      new Map([
        [0, 100n],
        [1, 101n],
        [2, 102n],
      ]),
    );

    const read = await pyiceberg<{ rows: TradeRow[]; files: string[]; snapshots: { operation: string }[] }>(
      env.catalogName,
      {
        command: 'scan',
        table: tableId,
      },
    );
    expect(read.rows.sort(byId)).toEqual(all);
    expect(read.files).toHaveLength(4);

    const plan = await planScan(env.warehouse, table, marketPredicates({ exchanges: ['COINBASE'] }));
    expect(plan.files).toHaveLength(1);
    expect(plan.files[0]!.filePath).toMatch(/compacted-/);
    expect(plan.files[0]!.recordCount).toBe(specs[3]!.rows.length + specs[4]!.rows.length);
    const dir = mkdtempSync(join(tmpdir(), 'k2-compacted-'));
    try {
      const local = join(dir, 'c.parquet');
      writeFileSync(local, await env.warehouse.io.read(plan.files[0]!.filePath));
      const duck = await (await DuckDBInstance.create(':memory:')).connect();
      const ids = (
        await duck.runAndReadAll(
          `SELECT name, field_id FROM parquet_schema('${local}') WHERE field_id IS NOT NULL`,
        )
      ).getRowObjectsJson();
      expect(ids).toEqual(
        expect.arrayContaining([
          { name: 'message_id', field_id: '1' },
          { name: 'price', field_id: '7' },
          { name: 'element', field_id: '16' },
          { name: 'value', field_id: '18' },
        ]),
      );
      duck.closeSync();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const stray = [
      `${table.metadata.location}/data/stray.parquet`,
      `${table.metadata.location}/metadata/99999-stray.metadata.json`,
    ];
    for (const uri of stray) await env.warehouse.io.write(uri, new Uint8Array([1, 2, 3]));

    const expired = await expireSnapshots(env.warehouse, table, {
      olderThanMs: Date.now() + 1_000,
      retainLast: 1,
    });
    expect(expired.expired).toHaveLength(3);
    table = expired.table;
    expect(table.metadata.snapshots).toHaveLength(1);
    const replacedSmallFiles = specs.slice(0, 5).map((s) => s.path);
    expect(expired.deletedFiles).toEqual(expect.arrayContaining(replacedSmallFiles));
    for (const path of replacedSmallFiles) expect(await env.warehouse.io.size(path)).toBeUndefined();

    const orphans = await removeOrphanFiles(env.warehouse, table, { olderThanMs: Date.now() + 60_000 });
    expect(orphans).toEqual(expect.arrayContaining(stray));
    const referencedData = (await planScan(env.warehouse, table, [])).files.map((f) => f.filePath);
    const left = await listUris(env.warehouse.io, `${table.metadata.location}/data/`);
    expect(left).toEqual([...referencedData].sort());

    const after = await pyiceberg<{ rows: TradeRow[] }>(env.catalogName, { command: 'scan', table: tableId });
    expect(after.rows.sort(byId)).toEqual(all);
    expect(
      groupOffsets((await loadTable(env.warehouse, tableId)).metadata, 'g')
        .get('t')
        ?.get(2),
    ).toBe(102n);
  });
});
