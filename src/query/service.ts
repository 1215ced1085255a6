import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { K2Config } from '../config/index.js';
import {
  BucketNotFoundError,
  CatalogUnavailableError,
  FileNotFoundError,
  StorageError,
} from '../errors/index.js';
import { SqlCatalog } from '../iceberg/catalog.js';
import { S3FileIO } from '../iceberg/io.js';
import type { Warehouse } from '../iceberg/table.js';
import { Registry } from '../registry/registry.js';
import { CodecPool, type WriterSchemaSource } from '../workers/pool.js';
import { DuckEngine, type DuckSession } from './duck-engine.js';
import { QueryBusyError, QueryTimeoutError, WarehouseUnavailableError } from './errors.js';
import { FileCache, type Scratch } from './file-cache.js';
import { KafkaTailSource, type TailSource } from './kafka-source.js';
import { answer } from './kinds/index.js';
import type { QueryRequest } from './request.js';
import type { QueryResult } from './result.js';
import { QueryRun } from './run.js';

export interface QueryServiceDeps {
  warehouse: Warehouse;
  pool: CodecPool;
  schemas: WriterSchemaSource;
  /** Undefined: no Kafka, every answer comes from Iceberg and says so. */
  tailSource: TailSource | undefined;
  cache: FileCache;
  engine: DuckEngine;
  /** The consumer group whose recorded offsets split committed rows from the tail (kafka.groupId). */
  group: string;
  /** A tail longer than this is not read (the answer is flagged partial). */
  maxTailRecords?: number;
  /** Queries at once; more are refused with QueryBusyError (HTTP 429). */
  maxConcurrent?: number;
  /** Releases what the service created for itself. */
  release?: () => Promise<void>;
}

export const queryDefaults = {
  cacheDir: join(tmpdir(), 'k2-query-cache'),
  cacheMaxBytes: 2 * 1024 ** 3,
  maxTailRecords: 2_000_000,
  maxConcurrent: 4,
};

/**
 * The hybrid query (DESIGN §6): one instance per process, shared by `k2 query`, `k2 serve` and the
 * supervisor's GET /query. Each query runs in its own DuckDB connection and scratch folder.
 */
export class QueryService {
  readonly #deps: QueryServiceDeps;
  #running = 0;

  constructor(deps: QueryServiceDeps) {
    this.#deps = deps;
  }

  get cache(): FileCache {
    return this.#deps.cache;
  }

  async run(request: QueryRequest, signal?: AbortSignal): Promise<QueryResult> {
    const limit = this.#deps.maxConcurrent ?? queryDefaults.maxConcurrent;
    if (this.#running >= limit) throw new QueryBusyError(limit);
    this.#running++;
    const started = performance.now();
    const deadline = AbortSignal.timeout(request.options.timeoutMs);
    const aborted = signal ? AbortSignal.any([signal, deadline]) : deadline;
    let session: DuckSession | undefined;
    let scratch: Scratch | undefined;
    try {
      session = await this.#deps.engine.session(aborted, request.options.timeoutMs);
      scratch = await this.#deps.cache.scratch();
      const run = new QueryRun({
        warehouse: this.#deps.warehouse,
        cache: this.#deps.cache,
        pool: this.#deps.pool,
        tail: this.#deps.tailSource && {
          source: this.#deps.tailSource,
          pool: this.#deps.pool,
          schemas: this.#deps.schemas,
        },
        session,
        scratch,
        signal: aborted,
        group: request.options.group ?? this.#deps.group,
        options: request.options,
        maxTailRecords: this.#deps.maxTailRecords ?? queryDefaults.maxTailRecords,
      });
      const computed = await answer(run, request.spec);
      run.time('totalMs', performance.now() - started);
      return {
        columns: computed.columns,
        rows: computed.rows,
        meta: {
          kind: request.spec.kind,
          source: request.options.source,
          rows: computed.sides,
          partial: run.partial,
          warnings: run.warnings,
          tables: run.tables,
          cache: run.cacheUse,
          timings: run.timings,
          ...(computed.gaps ? { gaps: computed.gaps } : {}),
        },
      };
    } catch (error) {
      if (deadline.aborted) throw new QueryTimeoutError(request.options.timeoutMs);
      signal?.throwIfAborted();
      throw unavailable(error);
    } finally {
      session?.close();
      await scratch?.dispose();
      this.#running--;
    }
  }

  async close(): Promise<void> {
    this.#deps.engine.close();
    await this.#deps.tailSource?.close();
    await this.#deps.release?.();
  }
}

/** S3 or the catalog down is a clear error of its own: nothing partial is answered. */
function unavailable(error: unknown): unknown {
  if (
    error instanceof StorageError &&
    !(error instanceof FileNotFoundError) &&
    !(error instanceof BucketNotFoundError)
  ) {
    return new WarehouseUnavailableError(`S3 is unavailable, no data file can be read: ${error.message}`, {
      cause: error,
    });
  }
  if (error instanceof CatalogUnavailableError) {
    return new WarehouseUnavailableError(`the Iceberg catalog is unavailable: ${error.message}`, {
      cause: error,
    });
  }
  return error;
}

export interface OpenQueryServiceOptions {
  cacheDir?: string;
  cacheMaxBytes?: number;
  /** Share the supervisor's pool instead of starting one. */
  pool?: CodecPool;
  /** Share a warehouse instead of connecting one. */
  warehouse?: Warehouse;
  /** Read the Kafka tail (default true). */
  kafka?: boolean;
  maxConcurrent?: number;
  maxTailRecords?: number;
  duckThreads?: number;
  duckMemoryLimit?: string;
}

type QueryConfig = Pick<K2Config, 'kafka' | 'registry' | 'catalog' | 's3' | 'pool' | 'limits'>;

/** A service on a K2 configuration; what it creates (pool, connections) it closes, what it is given it leaves. */
export async function openQueryService(
  config: QueryConfig,
  options: OpenQueryServiceOptions = {},
): Promise<QueryService> {
  const releases: (() => Promise<void> | void)[] = [];
  try {
    let warehouse = options.warehouse;
    if (!warehouse) {
      const { name, ...connection } = config.catalog;
      const catalog = new SqlCatalog({ name, connection });
      // A query fails fast on a dead S3 instead of retrying for half a minute.
      const io = new S3FileIO(
        { ...config.s3 },
        { retry: { attempts: 3, maxDelayMs: 500 }, requestTimeoutMs: 15_000 },
      );
      warehouse = { catalog, io, location: `s3://${config.s3.bucket}/warehouse/${name}` };
      releases.push(
        () => catalog.close(),
        () => io.destroy(),
      );
    }
    let pool = options.pool;
    if (!pool) {
      const created = new CodecPool({
        minThreads: 1,
        maxThreads: config.pool.maxThreads,
        youngGenerationMb: config.pool.youngGenerationMb,
        limits: { maxMessageBytes: config.limits.maxMessageBytes },
      });
      releases.push(() => created.destroy());
      pool = created;
    }
    const cache = await FileCache.open({
      dir: options.cacheDir ?? queryDefaults.cacheDir,
      maxBytes: options.cacheMaxBytes ?? queryDefaults.cacheMaxBytes,
      io: warehouse.io,
    });
    const engine = await DuckEngine.create({
      allowedDirectories: [cache.dir],
      threads: options.duckThreads,
      memoryLimit: options.duckMemoryLimit,
    });
    return new QueryService({
      warehouse,
      pool,
      schemas: new Registry({ url: config.registry.url, timeoutMs: 3_000, retry: { attempts: 2 } }),
      tailSource:
        options.kafka === false ? undefined : new KafkaTailSource({ brokers: [...config.kafka.brokers] }),
      cache,
      engine,
      group: config.kafka.groupId,
      maxConcurrent: options.maxConcurrent,
      maxTailRecords: options.maxTailRecords,
      release: async () => {
        for (const release of releases.reverse()) await release();
      },
    });
  } catch (error) {
    for (const release of releases.reverse()) await release();
    throw error;
  }
}
