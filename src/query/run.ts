import type { DataFile } from '../iceberg/datafile.js';
import type { Warehouse } from '../iceberg/table.js';
import type { CodecPool } from '../workers/pool.js';
import type { DuckSession, Rows } from './duck-engine.js';
import { PartialAnswerError, TooManyRowsError, UnknownTableError } from './errors.js';
import type { CacheUse, FileCache, Scratch } from './file-cache.js';
import type { QueryOptions } from './request.js';
import type { Cell, QueryMeta, TableSourceMeta, Warning } from './result.js';
import type { TableSelection } from './selection.js';
import {
  materialize,
  type OpenedTable,
  openTable,
  type PreparedTable,
  prepareTable,
  type SourceRun,
} from './table-source.js';
import type { TailDeps } from './tail.js';

/** What a run is given: a SourceRun's dependencies; the run supplies the callbacks itself. */
export type RunDeps = Omit<SourceRun, 'warn' | 'markPartial' | 'recordCache' | 'time'>;

/** Rows from each side behind an answer. */
export interface Sides {
  iceberg: number;
  kafka: number;
}

/**
 * The state of one query while it runs: its DuckDB session and scratch folder, the tables it opened,
 * and what the answer's metadata will say (warnings, partiality, cache use, time per phase).
 */
export class QueryRun implements SourceRun {
  readonly warehouse: Warehouse;
  readonly cache: FileCache;
  readonly pool: CodecPool;
  readonly tail: TailDeps | undefined;
  readonly session: DuckSession;
  readonly scratch: Scratch;
  readonly signal: AbortSignal;
  readonly group: string;
  readonly options: QueryOptions;
  readonly maxTailRecords: number;
  readonly warnings: Warning[] = [];
  readonly tables: TableSourceMeta[] = [];
  readonly cacheUse = { hits: 0, misses: 0, bytesDownloaded: 0 };
  readonly timings: QueryMeta['timings'] = {
    planMs: 0,
    fetchMs: 0,
    tailMs: 0,
    viewMs: 0,
    queryMs: 0,
    totalMs: 0,
  };
  partial = false;

  constructor(deps: RunDeps) {
    this.warehouse = deps.warehouse;
    this.cache = deps.cache;
    this.pool = deps.pool;
    this.tail = deps.tail;
    this.session = deps.session;
    this.scratch = deps.scratch;
    this.signal = deps.signal;
    this.group = deps.group;
    this.options = deps.options;
    this.maxTailRecords = deps.maxTailRecords;
  }

  warn(warning: Warning): void {
    this.warnings.push(warning);
  }

  /** Strict queries stop here: the rest of the work would only produce an answer they refuse. */
  markPartial(): void {
    this.partial = true;
    if (this.options.strict) throw new PartialAnswerError(this.warnings.map((w) => w.message).join('; '));
  }

  recordCache(use: CacheUse): void {
    this.cacheUse.hits += use.hits;
    this.cacheUse.misses += use.misses;
    this.cacheUse.bytesDownloaded += use.bytesDownloaded;
  }

  time(phase: keyof QueryMeta['timings'], ms: number): void {
    this.timings[phase] += ms;
  }

  /** Opens a table as the view `view` (both sides, deduplicated, filtered by `selection`). */
  async open(identifier: string, view: string, selection: TableSelection): Promise<OpenedTable> {
    const opened = await openTable(this, identifier, view, selection);
    this.tables.push(opened.meta);
    return opened;
  }

  /** Plans a table and reads its tail without fetching data files: `materialize` then picks the files. */
  async prepare(identifier: string, view: string, selection: TableSelection): Promise<PreparedTable> {
    const prepared = await prepareTable(this, identifier, view, selection);
    this.tables.push(prepared.meta);
    return prepared;
  }

  materialize(prepared: PreparedTable, files: DataFile[]): Promise<OpenedTable> {
    return materialize(this, prepared, files);
  }

  /** The same, or undefined when the table does not exist (optional inputs: quotes, the gaps table). */
  async openIfExists(
    identifier: string,
    view: string,
    selection: TableSelection,
  ): Promise<OpenedTable | undefined> {
    try {
      return await this.open(identifier, view, selection);
    } catch (error) {
      if (error instanceof UnknownTableError) return undefined;
      throw error;
    }
  }

  /** Runs K2's SQL; more rows than the query's limit is an error naming the way out. */
  async select(sql: string, hint: string): Promise<Rows> {
    const started = performance.now();
    try {
      const rows = await this.session.select(sql, this.options.maxRows);
      if (rows.more) throw new TooManyRowsError(this.options.maxRows, hint);
      return rows;
    } finally {
      this.time('queryMs', performance.now() - started);
    }
  }
}

/** Counts rows per side from a column holding 'iceberg' or 'kafka'. */
export function countSides(
  rows: readonly Cell[][],
  index: number,
  into: Sides = { iceberg: 0, kafka: 0 },
): Sides {
  for (const row of rows) {
    if (row[index] === 'kafka') into.kafka++;
    else if (row[index] === 'iceberg') into.iceberg++;
  }
  return into;
}

/** The rows without the given columns (helper columns the SQL computes for the metadata). */
export function dropColumns<T extends { columns: { name: string }[]; rows: Cell[][] }>(
  answer: T,
  names: readonly string[],
): T {
  const keep = answer.columns.map((c, i) => (names.includes(c.name) ? -1 : i)).filter((i) => i >= 0);
  return {
    ...answer,
    columns: keep.map((i) => answer.columns[i]!),
    rows: answer.rows.map((row) => keep.map((i) => row[i]!)),
  };
}
