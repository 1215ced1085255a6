import { afterAll, describe, expect, it } from 'vitest';
import {
  BucketNotFoundError,
  CatalogUnavailableError,
  CommitStateUnknownError,
  CorruptMetadataError,
  FileNotFoundError,
  InvalidDataFileError,
  InvalidNameError,
  OffsetConflictError,
  StorageError,
} from '../../src/errors/index.js';
import { appendFiles } from '../../src/iceberg/append.js';
import { type Catalog, SqlCatalog } from '../../src/iceberg/catalog.js';
import { S3FileIO } from '../../src/iceberg/io.js';
import { ancestry } from '../../src/iceberg/metadata.js';
import { ensureK2Table, loadTable, type Warehouse } from '../../src/iceberg/table.js';
import { faultyS3Proxy } from '../support/faults.js';
import { stack } from '../support/stack.js';
import { fakeDataFile, listUris, testWarehouse } from './iceberg-support.js';

const fastIo = { retry: { attempts: 3, initialDelayMs: 10, maxDelayMs: 50 }, requestTimeoutMs: 3_000 };

/** A catalog whose swap misbehaves the way a dropped connection does, around the real one. */
function faultyCatalog(real: Catalog, fault: 'after-update' | 'before-update', times = 1): Catalog {
  let left = times;
  return new Proxy(real, {
    get(target, property, receiver) {
      if (property !== 'swapMetadataLocation') return Reflect.get(target, property, receiver);
      return async (id: string, expected: string, next: string) => {
        if (left-- <= 0) return target.swapMetadataLocation(id, expected, next);
        if (fault === 'after-update') await target.swapMetadataLocation(id, expected, next);
        throw new CommitStateUnknownError(String(id), next, {
          cause: new Error('Connection terminated unexpectedly'),
        });
      };
    },
  });
}

function commitsOf(table: Awaited<ReturnType<typeof loadTable>>, commitId: string) {
  return [...ancestry(table.metadata)].filter((s) => s.summary['k2.commit-id'] === commitId);
}

describe('Iceberg writer under faults: typed errors, nothing half-committed', () => {
  const env = testWarehouse({ io: fastIo });
  const ns = `f_${env.catalogName.slice(2)}`;
  afterAll(() => env.close());

  it('resolves a connection lost after the UPDATE by finding its own commit: one snapshot, and a replay commits nothing', async () => {
    const table = await ensureK2Table(env.warehouse, 'trades_v2', `${ns}_a`);
    const warehouse: Warehouse = {
      ...env.warehouse,
      catalog: faultyCatalog(env.warehouse.catalog, 'after-update'),
    };
    const file = fakeDataFile(table.metadata.location, 'a', 10);
    const result = await appendFiles(warehouse, table, {
      files: [file],
      commitId: 'batch-7',
      writerId: 'w',
      checkFiles: false,
    });
    expect(result.alreadyCommitted).toBe(false);
    const replay = await appendFiles(env.warehouse, table, {
      files: [file],
      commitId: 'batch-7',
      writerId: 'w',
      checkFiles: false,
    });
    expect(replay.alreadyCommitted).toBe(true);
    const after = await loadTable(env.warehouse, table.identifier);
    expect(after.metadata.snapshots).toHaveLength(1);
    expect(commitsOf(after, 'batch-7')).toHaveLength(1);
    expect(after.metadata.snapshots[0]!.summary['total-records']).toBe('10');
  });

  it('retries a connection lost before the UPDATE and commits exactly once', async () => {
    const table = await ensureK2Table(env.warehouse, 'trades_v2', `${ns}_b`);
    const warehouse: Warehouse = {
      ...env.warehouse,
      catalog: faultyCatalog(env.warehouse.catalog, 'before-update', 2),
    };
    const file = fakeDataFile(table.metadata.location, 'b', 5);
    const result = await appendFiles(warehouse, table, {
      files: [file],
      commitId: 'batch-8',
      writerId: 'w',
      checkFiles: false,
    });
    expect(result.attempts).toBe(3);
    const after = await loadTable(env.warehouse, table.identifier);
    expect(commitsOf(after, 'batch-8')).toHaveLength(1);
    expect(after.metadata.snapshots).toHaveLength(1);
  });

  it('refuses a batch whose offsets overlap the recorded ones (a zombie writer), leaving the table unchanged', async () => {
    const table = await ensureK2Table(env.warehouse, 'trades_v2', `${ns}_c`);
    const loc = table.metadata.location;
    const offsets = (from: bigint, next: bigint) => ({
      group: 'g',
      ranges: [{ topic: 'market.crypto.trades', partition: 3, fromOffset: from, nextOffset: next }],
    });
    const first = await appendFiles(env.warehouse, table, {
      files: [fakeDataFile(loc, 'c1', 100)],
      commitId: 'c1',
      writerId: 'w1',
      offsets: offsets(0n, 100n),
      checkFiles: false,
    });
    const before = await listUris(env.warehouse.io, `${loc}/metadata/`);
    const zombie = appendFiles(env.warehouse, table, {
      files: [fakeDataFile(loc, 'c2', 50)],
      commitId: 'c2',
      writerId: 'w2',
      offsets: offsets(50n, 100n),
      checkFiles: false,
    });
    await expect(zombie).rejects.toBeInstanceOf(OffsetConflictError);
    await expect(zombie).rejects.toMatchObject({ code: 'K2_ICEBERG_OFFSET_CONFLICT', retriable: false });
    const after = await loadTable(env.warehouse, table.identifier);
    expect(after.metadataLocation).toBe(first.table.metadataLocation);
    expect(await listUris(env.warehouse.io, `${loc}/metadata/`)).toEqual(before);
  });

  it('fails with CatalogUnavailableError when the catalog is down, and removes the files of the attempt', async () => {
    const table = await ensureK2Table(env.warehouse, 'trades_v2', `${ns}_d`);
    const dead = new SqlCatalog({
      name: env.catalogName,
      connection: { ...stack().catalog, port: 1, connectionTimeoutMillis: 1_000 },
    });
    await expect(dead.loadTable(table.identifier)).rejects.toMatchObject({
      code: 'K2_ICEBERG_CATALOG_UNAVAILABLE',
      retriable: true,
    });
    const warehouse: Warehouse = {
      ...env.warehouse,
      catalog: new Proxy(env.warehouse.catalog, {
        get: (target, property, receiver) =>
          property === 'swapMetadataLocation'
            ? dead.swapMetadataLocation.bind(dead)
            : Reflect.get(target, property, receiver),
      }),
    };
    const before = await listUris(env.warehouse.io, `${table.metadata.location}/metadata/`);
    await expect(
      appendFiles(warehouse, table, {
        files: [fakeDataFile(table.metadata.location, 'd', 1)],
        commitId: 'd',
        writerId: 'w',
        checkFiles: false,
      }),
    ).rejects.toBeInstanceOf(CatalogUnavailableError);
    expect(await listUris(env.warehouse.io, `${table.metadata.location}/metadata/`)).toEqual(before);
    expect((await loadTable(env.warehouse, table.identifier)).metadataLocation).toBe(table.metadataLocation);
    await dead.close();
  });

  it('rides out S3 answering 503 (through a faulty proxy) and commits once; S3 down is a retriable StorageError', async () => {
    const table = await ensureK2Table(env.warehouse, 'trades_v2', `${ns}_e`);
    const proxy = await faultyS3Proxy(stack().s3.endpoint, 4);
    const io = new S3FileIO(
      { ...stack().s3, endpoint: proxy.endpoint },
      { ...fastIo, retry: { ...fastIo.retry, attempts: 6 } },
    );
    try {
      const warehouse: Warehouse = { ...env.warehouse, io };
      const result = await appendFiles(warehouse, table, {
        files: [fakeDataFile(table.metadata.location, 'e', 3)],
        commitId: 'e',
        writerId: 'w',
        checkFiles: false,
      });
      expect(proxy.failed()).toBe(4);
      expect(commitsOf(await loadTable(env.warehouse, table.identifier), 'e')).toHaveLength(1);
      expect(result.snapshot.summary['total-records']).toBe('3');
    } finally {
      io.destroy();
      await proxy.close();
    }

    const down = new S3FileIO({ ...stack().s3, endpoint: 'http://127.0.0.1:1' }, fastIo);
    const error = await down.read(table.metadataLocation).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ retriable: true });
    down.destroy();
  });

  it('reports a missing bucket, a missing or corrupt metadata file and a missing data file with typed errors', async () => {
    const noBucket: Warehouse = { ...env.warehouse, location: 's3://k2-no-such-bucket-x/w' };
    await expect(ensureK2Table(noBucket, 'trades_v2', `${ns}_f`)).rejects.toBeInstanceOf(BucketNotFoundError);

    const table = await ensureK2Table(env.warehouse, 'trades_v2', `${ns}_g`);
    const missing = `${table.metadata.location}/metadata/00009-missing.metadata.json`;
    await env.warehouse.catalog.registerTable(`${ns}_g.missing_meta`, missing);
    await expect(loadTable(env.warehouse, `${ns}_g.missing_meta`)).rejects.toBeInstanceOf(FileNotFoundError);

    const corrupt = `${table.metadata.location}/metadata/00009-corrupt.metadata.json`;
    await env.warehouse.io.write(corrupt, new TextEncoder().encode('{"format-version": 2, "table-uu'));
    await env.warehouse.catalog.registerTable(`${ns}_g.corrupt_meta`, corrupt);
    await expect(loadTable(env.warehouse, `${ns}_g.corrupt_meta`)).rejects.toBeInstanceOf(
      CorruptMetadataError,
    );

    const notUploaded = fakeDataFile(table.metadata.location, 'never-uploaded', 1);
    await expect(
      appendFiles(env.warehouse, table, { files: [notUploaded], commitId: 'x', writerId: 'w' }),
    ).rejects.toBeInstanceOf(InvalidDataFileError);
    expect((await loadTable(env.warehouse, table.identifier)).metadata.snapshots).toHaveLength(0);
  });

  it('rejects names with quotes, dots or SQL and keeps the catalog tables intact; nested namespaces work', async () => {
    for (const bad of [
      `${ns}.it's`,
      `${ns}.a"b`,
      `${ns}.x; DROP TABLE iceberg_tables; --`,
      `${ns}.`,
      'notable',
    ]) {
      await expect(env.warehouse.catalog.loadTable(bad)).rejects.toBeInstanceOf(InvalidNameError);
    }
    await expect(env.warehouse.catalog.createNamespace(`${ns}.o'k`)).rejects.toBeInstanceOf(InvalidNameError);
    const nested = `${ns}_h.level2`;
    const table = await ensureK2Table(env.warehouse, 'quotes_v2', nested);
    expect(table.identifier.namespace).toEqual([`${ns}_h`, 'level2']);
    expect(await env.warehouse.catalog.listTables(nested)).toEqual([
      { namespace: [`${ns}_h`, 'level2'], name: 'quotes_v2' },
    ]);
    expect(await env.warehouse.catalog.namespaceExists(`${ns}_h`)).toBe(true);
    expect(table.metadata.location).toMatch(new RegExp(`/${ns}_h/level2/quotes_v2$`));
  });
});
