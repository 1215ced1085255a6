import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileIO } from '../../src/iceberg/io.js';
import { cacheName, FileCache } from '../../src/query/file-cache.js';

/** An in-memory object store that counts reads and can be slowed down. */
function memoryIO(objects: Record<string, Uint8Array>, delayMs = 0) {
  const reads: string[] = [];
  const io = {
    reads,
    async read(uri: string) {
      reads.push(uri);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const bytes = objects[uri];
      if (!bytes) throw new Error(`no ${uri}`);
      return bytes;
    },
  };
  return io as unknown as FileIO & { reads: string[] };
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const file = (uri: string, size: number) => ({ filePath: uri, fileSizeInBytes: size });
const dirs: string[] = [];
const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'k2-cache-test-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('query file cache', () => {
  it('downloads a file once, then serves it from disk, linked into each query folder', async () => {
    const io = memoryIO({ 's3://b/a.parquet': bytes(10, 1), 's3://b/b.parquet': bytes(20, 2) });
    const cache = await FileCache.open({ dir: newDir(), maxBytes: 1_000, io });
    const first = await cache.scratch();
    const use = await cache.fetch([file('s3://b/a.parquet', 10), file('s3://b/b.parquet', 20)], first);
    expect(use).toMatchObject({ hits: 0, misses: 2, bytesDownloaded: 30 });
    expect(readFileSync(use.paths[1]!)).toEqual(Buffer.from(bytes(20, 2)));
    expect(use.paths[0]!.startsWith(first.dir)).toBe(true);

    const second = await cache.scratch();
    const again = await cache.fetch([file('s3://b/a.parquet', 10)], second);
    expect(again).toMatchObject({ hits: 1, misses: 0, bytesDownloaded: 0 });
    expect(io.reads).toEqual(['s3://b/a.parquet', 's3://b/b.parquet']);
    await first.dispose();
    expect(existsSync(first.dir)).toBe(false);
    expect(readFileSync(again.paths[0]!)).toEqual(Buffer.from(bytes(10, 1)));
  });

  it('shares one download between queries asking for the same file at once', async () => {
    const io = memoryIO({ 's3://b/a.parquet': bytes(10, 1) }, 30);
    const cache = await FileCache.open({ dir: newDir(), maxBytes: 1_000, io });
    const [a, b] = await Promise.all([cache.scratch(), cache.scratch()]);
    const uses = await Promise.all([a, b].map((s) => cache.fetch([file('s3://b/a.parquet', 10)], s)));
    expect(io.reads).toHaveLength(1);
    expect(uses.map((u) => u.bytesDownloaded).sort()).toEqual([0, 10]);
  });

  it('stays within its bound by evicting the least recently used files; a query keeps the files it linked', async () => {
    const objects = Object.fromEntries([1, 2, 3, 4].map((i) => [`s3://b/${i}.parquet`, bytes(100, i)]));
    const io = memoryIO(objects);
    const dir = newDir();
    const cache = await FileCache.open({ dir, maxBytes: 250, io });
    const scratch = await cache.scratch();
    const first = await cache.fetch([file('s3://b/1.parquet', 100), file('s3://b/2.parquet', 100)], scratch);
    await cache.fetch([file('s3://b/1.parquet', 100)], scratch); // 1 is now more recent than 2
    await cache.fetch([file('s3://b/3.parquet', 100)], scratch);
    expect(cache.bytes).toBeLessThanOrEqual(250);
    expect(existsSync(join(dir, 'files', cacheName('s3://b/2.parquet')))).toBe(false);
    expect(existsSync(join(dir, 'files', cacheName('s3://b/1.parquet')))).toBe(true);
    // The query's link to the evicted file still reads.
    expect(readFileSync(first.paths[1]!)).toEqual(Buffer.from(bytes(100, 2)));
    await cache.fetch([file('s3://b/2.parquet', 100)], scratch);
    expect(io.reads.filter((u) => u === 's3://b/2.parquet')).toHaveLength(2);
  });

  it('refuses an object whose size differs from the manifest, and caches nothing for it', async () => {
    const io = memoryIO({ 's3://b/a.parquet': bytes(9, 1) });
    const cache = await FileCache.open({ dir: newDir(), maxBytes: 1_000, io });
    await expect(cache.fetch([file('s3://b/a.parquet', 10)], await cache.scratch())).rejects.toThrow(
      /the object is 9 bytes, the manifest says 10/,
    );
    expect(cache.fileCount).toBe(0);
  });

  it('finds what an earlier process cached, and clears leftovers of crashed ones', async () => {
    const dir = newDir();
    const io = memoryIO({ 's3://b/a.parquet': bytes(10, 1) });
    const before = await FileCache.open({ dir, maxBytes: 1_000, io });
    await before.fetch([file('s3://b/a.parquet', 10)], await before.scratch());
    writeFileSync(join(dir, 'tmp', 'half-written'), 'x');
    const after = await FileCache.open({ dir, maxBytes: 1_000, io });
    expect(after.fileCount).toBe(1);
    expect((await after.fetch([file('s3://b/a.parquet', 10)], await after.scratch())).hits).toBe(1);
    await after.clear();
    expect(after.bytes).toBe(0);
  });
});
