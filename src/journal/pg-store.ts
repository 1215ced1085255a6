import pg from 'pg';
import type { MetricCatalogue } from '../metrics/catalogue.js';
import { backoffDelay, type RetryPolicy } from '../util/retry.js';
import type { JournalEntry } from './events.js';

/** pg.Pool and pg.Client both fit. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

export interface PgJournalStoreOptions {
  db: Queryable;
  /** This process; with `seq` the primary key, so a retried insert is harmless. */
  instance: string;
  table?: string;
  /** Entries held while PostgreSQL is slow or down; beyond it new entries are dropped and counted. */
  capacity?: number;
  /** Rows per INSERT. */
  batchSize?: number;
  flushIntervalMs?: number;
  /** Backoff between failed flushes (attempts are unlimited; the buffer bound is what gives). */
  backoff?: Partial<RetryPolicy>;
  /** Which entries are audit facts worth a row; by default all but periodic samples. */
  persist?: (entry: JournalEntry) => boolean;
  metrics?: Pick<MetricCatalogue, 'journalPersisted' | 'journalDropped' | 'journalBacklog'>;
  onError?: (error: unknown) => void;
}

const samples = new Set(['lag.observed', 'sequence.observed']);
/** The default audit filter: every event type but the periodic samples. */
export const persistedByDefault = (type: string): boolean => !samples.has(type);
const defaultPersist = (entry: JournalEntry) => persistedByDefault(entry.event.type);

/**
 * Persists journal entries to a PostgreSQL table in batches. Ingestion never waits for it: `listener`
 * only queues, a background loop inserts, and while PostgreSQL is unreachable the queue holds up to
 * `capacity` entries, then drops new ones (k2_journal_dropped_total; the hole also shows as missing
 * `seq` values). The durable record of what landed is the Iceberg snapshot log, not this table.
 */
export class PgJournalStore {
  private readonly queue: JournalEntry[] = [];
  private droppedCount = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<number> | undefined;
  private closed = false;
  private readonly table: string;
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly persist: (entry: JournalEntry) => boolean;

  constructor(private readonly options: PgJournalStoreOptions) {
    this.table = quoteIdentifier(options.table ?? 'k2_journal');
    this.capacity = options.capacity ?? 10_000;
    this.batchSize = options.batchSize ?? 500;
    this.persist = options.persist ?? defaultPersist;
  }

  /** Subscribe this to the journal. Never blocks, never throws. */
  readonly listener = (entry: JournalEntry): void => {
    if (this.closed || !this.persist(entry)) return;
    if (this.queue.length >= this.capacity) {
      this.droppedCount++;
      this.options.metrics?.journalDropped.inc();
      return;
    }
    this.queue.push(entry);
    this.options.metrics?.journalBacklog.set(this.queue.length);
  };

  get backlog(): number {
    return this.queue.length;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /** Creates the table and its index when missing; safe to race with another process doing the same. */
  async ensureTable(): Promise<void> {
    const index = quoteIdentifier(`${(this.options.table ?? 'k2_journal').slice(0, 50)}_type_at`);
    for (const statement of [
      `CREATE TABLE IF NOT EXISTS ${this.table} (
        instance text NOT NULL,
        seq bigint NOT NULL,
        at timestamptz NOT NULL,
        type text NOT NULL,
        event jsonb NOT NULL,
        PRIMARY KEY (instance, seq)
      )`,
      `CREATE INDEX IF NOT EXISTS ${index} ON ${this.table} (type, at)`,
    ]) {
      try {
        await this.options.db.query(statement);
      } catch (error) {
        // Two processes creating at once: one wins, the other sees a duplicate catalog row (23505),
        // the relation (42P07) or its row type (42710, 'type … already exists': seen in CI).
        if (!['23505', '42P07', '42710'].includes((error as { code?: string }).code ?? '')) throw error;
      }
    }
  }

  /** Starts the background loop. */
  start(): void {
    this.schedule(this.options.flushIntervalMs ?? 1_000);
  }

  /**
   * Writes everything queued now, `batchSize` rows per INSERT. Resolves with the rows written; rejects
   * on a database error, leaving the unwritten entries queued.
   */
  flush(): Promise<number> {
    this.inFlight ??= this.drain().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Stops the loop and makes one last attempt to write what is queued, bounded by `timeoutMs`. */
  async close(timeoutMs = 5_000): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    let timeout: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, timeoutMs);
    });
    try {
      await Promise.race([this.flush().then(() => undefined, this.options.onError), deadline]);
    } finally {
      clearTimeout(timeout);
    }
  }

  private async drain(): Promise<number> {
    let written = 0;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.batchSize);
      await this.options.db.query(
        `INSERT INTO ${this.table} (instance, seq, at, type, event)
         SELECT $1, * FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::jsonb[])
         ON CONFLICT (instance, seq) DO NOTHING`,
        [
          this.options.instance,
          batch.map((e) => e.seq),
          batch.map((e) => e.at),
          batch.map((e) => e.event.type),
          batch.map((e) => JSON.stringify(e.event)),
        ],
      );
      this.queue.splice(0, batch.length);
      written += batch.length;
      this.options.metrics?.journalPersisted.inc(batch.length);
      this.options.metrics?.journalBacklog.set(this.queue.length);
    }
    return written;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.flush().then(
        () => {
          this.failures = 0;
          this.schedule(this.options.flushIntervalMs ?? 1_000);
        },
        (error) => {
          this.failures++;
          this.options.onError?.(error);
          this.schedule(backoffDelay({ ...journalBackoff, ...this.options.backoff }, this.failures));
        },
      );
    }, delayMs);
    this.timer.unref();
  }
}

const journalBackoff: RetryPolicy = {
  attempts: Number.POSITIVE_INFINITY,
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.2,
};

/** Lower-case SQL identifier, quoted; anything else is refused rather than escaped. */
function quoteIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name))
    throw new RangeError(`journal table name ${JSON.stringify(name)} is not a plain identifier`);
  return `"${name}"`;
}

export interface JournalPoolConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/**
 * A small pool for the journal with the timeouts every network call needs. Idle-client errors (a
 * PostgreSQL restart) are reported, not thrown: an unhandled pool 'error' would kill the process.
 */
export function journalPool(config: JournalPoolConfig, onError?: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    ...config,
    max: 2,
    connectionTimeoutMillis: 2_000,
    query_timeout: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'k2-journal',
  });
  pool.on('error', (error) => onError?.(error));
  return pool;
}
