import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, readdir, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidDataFileError } from '../errors/index.js';
import { mapLimit } from '../iceberg/entries.js';
import type { FileIO } from '../iceberg/io.js';

export interface FileCacheOptions {
  dir: string;
  /** Bound of the cached bytes (per process); least recently used files go first. */
  maxBytes: number;
  io: FileIO;
  /** Downloads in flight at once. */
  concurrency?: number;
}

/** What a query needs of a data file: where it lives and its exact size (from the manifest). */
export interface RemoteFile {
  filePath: string;
  fileSizeInBytes: number;
}

export interface CacheUse {
  /** Local paths, in the order of the files asked for. */
  paths: string[];
  hits: number;
  misses: number;
  bytesDownloaded: number;
}

/** A query's own folder: links to the cached files it reads and its tail files; removed after the query. */
export interface Scratch {
  dir: string;
  dispose(): Promise<void>;
}

/** Leftovers of a crashed process older than this are removed when a cache opens. */
const STALE_MS = 3_600_000;

/**
 * Iceberg data files are immutable, so a local copy keyed by the file's URI never goes stale. Files
 * are downloaded once (concurrent requests for one file share the download), written under a
 * temporary name and renamed into place, and hard-linked into each query's scratch folder: evicting
 * a file another query is reading only drops the cache's name for it, never the query's.
 */
export class FileCache {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #io: FileIO;
  readonly #concurrency: number;
  /** File name → size; Map order is recency (oldest first). */
  readonly #entries = new Map<string, number>();
  readonly #downloads = new Map<string, Promise<void>>();
  #bytes = 0;

  private constructor(options: FileCacheOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.#io = options.io;
    this.#concurrency = options.concurrency ?? 8;
  }

  static async open(options: FileCacheOptions): Promise<FileCache> {
    const cache = new FileCache(options);
    await cache.#load();
    return cache;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get fileCount(): number {
    return this.#entries.size;
  }

  async scratch(): Promise<Scratch> {
    const dir = join(this.dir, 'queries', randomUUID());
    await mkdir(dir, { recursive: true });
    return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
  }

  /** Makes every file available locally, linked into `scratch`; S3 errors propagate as StorageError. */
  async fetch(files: readonly RemoteFile[], scratch: Scratch, signal?: AbortSignal): Promise<CacheUse> {
    const use: CacheUse = { paths: [], hits: 0, misses: 0, bytesDownloaded: 0 };
    use.paths = await mapLimit([...files.entries()], this.#concurrency, async ([i, file]) => {
      signal?.throwIfAborted();
      const name = cacheName(file.filePath);
      if (this.#entries.get(name) === file.fileSizeInBytes) {
        use.hits++;
        this.#touch(name);
      } else {
        use.misses++;
        if (await this.#download(name, file)) use.bytesDownloaded += file.fileSizeInBytes;
      }
      return this.#linkInto(scratch, name, i);
    });
    await this.#evict();
    return use;
  }

  /** Drops every cached file (a cold-cache benchmark, an operator's request). */
  async clear(): Promise<void> {
    for (const name of [...this.#entries.keys()]) await this.#remove(name);
  }

  async #load(): Promise<void> {
    for (const sub of ['files', 'tmp', 'queries']) await mkdir(join(this.dir, sub), { recursive: true });
    const now = Date.now();
    for (const sub of ['tmp', 'queries']) {
      for (const name of await readdir(join(this.dir, sub))) {
        const path = join(this.dir, sub, name);
        const info = await stat(path).catch(() => undefined);
        if (info && now - info.mtimeMs > STALE_MS) await rm(path, { recursive: true, force: true });
      }
    }
    const found: { name: string; size: number; usedAt: number }[] = [];
    for (const name of await readdir(join(this.dir, 'files'))) {
      const info = await stat(join(this.dir, 'files', name)).catch(() => undefined);
      if (info?.isFile()) found.push({ name, size: info.size, usedAt: info.mtimeMs });
    }
    for (const entry of found.sort((a, b) => a.usedAt - b.usedAt)) {
      this.#entries.set(entry.name, entry.size);
      this.#bytes += entry.size;
    }
    await this.#evict();
  }

  /** True when this call downloaded the file, false when it joined a download already running. */
  async #download(name: string, file: RemoteFile): Promise<boolean> {
    const running = this.#downloads.get(name);
    if (running) {
      await running;
      return false;
    }
    const download = (async () => {
      const bytes = await this.#io.read(file.filePath);
      if (bytes.byteLength !== file.fileSizeInBytes) {
        throw new InvalidDataFileError(
          file.filePath,
          `the object is ${bytes.byteLength} bytes, the manifest says ${file.fileSizeInBytes}`,
        );
      }
      const temporary = join(this.dir, 'tmp', `${name}.${randomUUID()}`);
      await writeFile(temporary, bytes);
      await rename(temporary, join(this.dir, 'files', name));
      const previous = this.#entries.get(name);
      if (previous !== undefined) this.#bytes -= previous;
      this.#entries.set(name, bytes.byteLength);
      this.#bytes += bytes.byteLength;
    })();
    this.#downloads.set(name, download);
    try {
      await download;
      return true;
    } finally {
      this.#downloads.delete(name);
    }
  }

  async #linkInto(scratch: Scratch, name: string, index: number): Promise<string> {
    const source = join(this.dir, 'files', name);
    const target = join(scratch.dir, `${index}-${name}`);
    try {
      await link(source, target);
      return target;
    } catch {
      // A file system without hard links: read the cached file in place.
      return source;
    }
  }

  #touch(name: string): void {
    const size = this.#entries.get(name)!;
    this.#entries.delete(name);
    this.#entries.set(name, size);
    const now = new Date();
    utimes(join(this.dir, 'files', name), now, now).catch(() => undefined);
  }

  async #evict(): Promise<void> {
    for (const name of [...this.#entries.keys()]) {
      if (this.#bytes <= this.maxBytes) break;
      await this.#remove(name);
    }
  }

  async #remove(name: string): Promise<void> {
    const size = this.#entries.get(name);
    if (size === undefined) return;
    this.#entries.delete(name);
    this.#bytes -= size;
    await unlink(join(this.dir, 'files', name)).catch(() => undefined);
  }
}

/** A stable file name for a URI: the URI itself may hold characters no file system likes. */
export function cacheName(uri: string): string {
  return `${createHash('sha256').update(uri).digest('hex').slice(0, 40)}.parquet`;
}
