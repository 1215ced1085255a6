import { afterAll, describe, expect, it } from 'vitest';
import { appendFiles } from '../../src/iceberg/append.js';
import { liveEntries } from '../../src/iceberg/entries.js';
import { ancestry, currentSnapshot } from '../../src/iceberg/metadata.js';
import { groupOffsets } from '../../src/iceberg/offsets.js';
import { ensureK2Table, loadTable, readManifestFiles, type Table } from '../../src/iceberg/table.js';
import { fakeDataFile, testWarehouse } from './iceberg-support.js';

const COMMITS = 200;

describe('two writers racing on one table', () => {
  const a = testWarehouse();
  afterAll(() => a.close());

  it(`loses no append in ${COMMITS} x 2 contended commits: exact totals, every batch once, offsets per writer`, async () => {
    const namespace = `c_${a.catalogName.slice(2)}`;
    const created = await ensureK2Table(a.warehouse, 'trades_v2', namespace);
    // The second writer has its own connection pool and S3 client, as a second process would.
    const { SqlCatalog } = await import('../../src/iceberg/catalog.js');
    const { S3FileIO } = await import('../../src/iceberg/io.js');
    const { stack } = await import('../support/stack.js');
    const b = {
      ...a.warehouse,
      catalog: new SqlCatalog({ name: a.catalogName, connection: stack().catalog }),
      io: new S3FileIO(stack().s3),
    };
    let conflicts = 0;
    const writer = async (name: 'a' | 'b', partition: number) => {
      const warehouse = name === 'a' ? a.warehouse : b;
      let table: Table = created;
      for (let i = 0; i < COMMITS; i++) {
        const result = await appendFiles(warehouse, table, {
          files: [
            fakeDataFile(
              created.metadata.location,
              `${name}-${i}`,
              i + 1,
              19_783 + (i % 3),
              name === 'a' ? 'BINANCE' : 'KRAKEN',
            ),
          ],
          commitId: `${name}-${i}`,
          writerId: name,
          offsets: {
            group: 'ingest',
            ranges: [
              {
                topic: 'market.crypto.trades',
                partition,
                fromOffset: BigInt(i * 10),
                nextOffset: BigInt((i + 1) * 10),
              },
            ],
          },
          checkFiles: false,
        });
        conflicts += result.attempts - 1;
        table = result.table;
      }
    };
    await Promise.all([writer('a', 0), writer('b', 1)]);
    await b.catalog.close();
    b.io.destroy();

    const table = await loadTable(a.warehouse, created.identifier);
    const snapshots = [...ancestry(table.metadata)];
    expect(snapshots).toHaveLength(2 * COMMITS);
    const ids = snapshots.map((s) => s.summary['k2.commit-id']);
    expect(new Set(ids).size).toBe(2 * COMMITS);
    const records = 2 * ((COMMITS * (COMMITS + 1)) / 2);
    const head = currentSnapshot(table.metadata)!;
    expect(head.summary['total-data-files']).toBe(String(2 * COMMITS));
    expect(head.summary['total-records']).toBe(String(records));

    const manifests = await readManifestFiles(a.warehouse.io, head);
    const files = (await liveEntries(a.warehouse.io, manifests)).flatMap((m) =>
      m.entries.map((e) => e.dataFile),
    );
    expect(files).toHaveLength(2 * COMMITS);
    expect(new Set(files.map((f) => f.filePath)).size).toBe(2 * COMMITS);
    expect(files.reduce((n, f) => n + f.recordCount, 0)).toBe(records);
    expect(groupOffsets(table.metadata, 'ingest').get('market.crypto.trades')).toEqual(
      new Map([
        [0, BigInt(COMMITS * 10)],
        [1, BigInt(COMMITS * 10)],
      ]),
    );
    const sequenceNumbers = snapshots.map((s) => s['sequence-number']).reverse();
    expect(sequenceNumbers).toEqual(Array.from({ length: 2 * COMMITS }, (_, i) => BigInt(i + 1)));
    console.log(`[iceberg] ${2 * COMMITS} contended commits, ${conflicts} lost compare-and-swaps rebased`);
  }, 300_000);
});
