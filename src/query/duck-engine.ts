import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  type DuckDBResultReader,
} from '@duckdb/node-api';
import { cellOf, columnTypeOf, sqlString } from './duck-values.js';
import { MalformedSqlError, QueryEngineError, QueryTimeoutError } from './errors.js';
import type { Cell, ResultColumn } from './result.js';
import { duckMessage } from './sql-guard.js';

export interface DuckEngineOptions {
  /** The only directories SQL may read (the file cache): everything else on disk is off limits. */
  allowedDirectories: readonly string[];
  threads?: number;
  /** e.g. '1GB': DuckDB spills or fails beyond it instead of growing the process without bound. */
  memoryLimit?: string;
}

export interface Rows {
  columns: ResultColumn[];
  rows: Cell[][];
  /** More rows exist than were asked for. */
  more: boolean;
}

/**
 * The embedded engine: one in-memory DuckDB per process, configured once and locked, so no query
 * (raw SQL included) can read files outside the cache, install or load extensions, attach databases
 * or change settings. Each query gets its own connection with connection-local temp views.
 */
export class DuckEngine {
  private constructor(private readonly instance: DuckDBInstance) {}

  static async create(options: DuckEngineOptions): Promise<DuckEngine> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads ?? 2),
      memory_limit: options.memoryLimit ?? '1GB',
    });
    const connection = await instance.connect();
    try {
      const directories = options.allowedDirectories.map((d) => sqlString(d.endsWith('/') ? d : `${d}/`));
      for (const statement of [
        `SET TimeZone = 'UTC'`,
        `SET allowed_directories = [${directories.join(', ')}]`,
        'SET enable_external_access = false',
        'SET autoinstall_known_extensions = false',
        'SET autoload_known_extensions = false',
        'SET enable_progress_bar = false',
        'SET parquet_metadata_cache = true',
        'SET lock_configuration = true',
      ]) {
        await connection.run(statement);
      }
    } finally {
      connection.closeSync();
    }
    return new DuckEngine(instance);
  }

  async session(signal: AbortSignal, timeoutMs: number): Promise<DuckSession> {
    return new DuckSession(await this.instance.connect(), signal, timeoutMs);
  }

  close(): void {
    this.instance.closeSync();
  }
}

/** One query's connection: its temp views, its deadline (interrupting DuckDB mid-statement). */
export class DuckSession {
  readonly #onAbort: () => void;

  constructor(
    readonly connection: DuckDBConnection,
    private readonly signal: AbortSignal,
    private readonly timeoutMs: number,
  ) {
    this.#onAbort = () => connection.interrupt();
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Runs K2's own statements (views, temp tables). */
  async exec(sql: string): Promise<void> {
    await this.guard(() => this.connection.run(sql));
  }

  /** Reads at most `maxRows` rows of K2's own SELECT; `more` says whether the answer went on. */
  async select(sql: string, maxRows: number): Promise<Rows> {
    const reader = await this.guard(() => this.connection.streamAndReadUntil(sql, maxRows + 1));
    return rowsOf(reader, maxRows);
  }

  /** The same for a user's prepared SELECT: DuckDB's errors are the user's to fix. */
  async selectPrepared(prepared: DuckDBPreparedStatement, maxRows: number): Promise<Rows> {
    const reader = await this.guard(
      () => prepared.streamAndReadUntil(maxRows + 1),
      (message, cause) => new MalformedSqlError(message, { cause }),
    );
    return rowsOf(reader, maxRows);
  }

  close(): void {
    this.signal.removeEventListener('abort', this.#onAbort);
    this.connection.closeSync();
  }

  /** Maps an interrupt to a timeout (or the caller's abort reason) and DuckDB's errors to K2 errors. */
  private async guard<T>(
    run: () => Promise<T>,
    wrap: (message: string, cause: unknown) => Error = (message, cause) =>
      new QueryEngineError(message, { cause }),
  ): Promise<T> {
    throwIfAborted(this.signal, this.timeoutMs);
    try {
      return await run();
    } catch (error) {
      throwIfAborted(this.signal, this.timeoutMs);
      if (error instanceof TypeError || error instanceof RangeError) throw error;
      throw wrap(duckMessage(error), error);
    }
  }
}

/** An aborted query fails with its deadline's timeout, or with whatever else aborted it (a client gone). */
export function throwIfAborted(signal: AbortSignal, timeoutMs: number): void {
  if (!signal.aborted) return;
  const reason = signal.reason;
  if (reason instanceof Error && reason.name !== 'TimeoutError') throw reason;
  throw new QueryTimeoutError(timeoutMs);
}

function rowsOf(reader: DuckDBResultReader, maxRows: number): Rows {
  const types = reader.columnTypes();
  const columns = reader.columnNames().map((name, i) => ({ name, type: columnTypeOf(types[i]!) }));
  const all = reader.getRows();
  const rows = all.slice(0, maxRows).map((row) => row.map((value, i) => cellOf(value, types[i]!)));
  return { columns, rows, more: all.length > maxRows };
}
