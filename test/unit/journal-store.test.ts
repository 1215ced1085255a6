import { afterEach, describe, expect, it, vi } from 'vitest';
import { Journal, type JournalEvent, PgJournalStore, type Queryable } from '../../src/journal/index.js';
import { createMetrics, parseExposition } from '../../src/metrics/index.js';

/** A database double: records statements, fails while `down`, or never answers while `hang`. */
function fakeDb() {
  const db = {
    down: false,
    hang: false,
    calls: [] as { text: string; values: unknown[] }[],
    query(text: string, values: unknown[] = []) {
      if (db.hang) return new Promise<never>(() => {});
      if (db.down)
        return Promise.reject(
          Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:15432'), { code: 'ECONNREFUSED' }),
        );
      db.calls.push({ text, values });
      return Promise.resolve({ rowCount: 0 });
    },
  };
  return db;
}

const inserts = (db: ReturnType<typeof fakeDb>) => db.calls.filter((c) => c.text.startsWith('INSERT'));
const batch = (n: number): JournalEvent => ({
  type: 'batch.received',
  topic: 't',
  partition: 0,
  fromOffset: '0',
  nextOffset: String(n),
  records: n,
  bytes: 1,
});

function setup(options: { capacity?: number; batchSize?: number; db?: Queryable } = {}) {
  const db = fakeDb();
  const metrics = createMetrics({ defaultMetrics: false });
  const store = new PgJournalStore({
    db: options.db ?? db,
    instance: 'k2-test-1',
    metrics: metrics.catalogue,
    ...options,
    flushIntervalMs: 100,
  });
  const journal = new Journal({ now: () => Date.UTC(2026, 0, 1) });
  journal.subscribe(store.listener);
  const metric = async (name: string) =>
    Number(parseExposition(await metrics.registry.metrics()).find((s) => s.name === name)?.value);
  return { db, store, journal, metric };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('journal store (PostgreSQL adapter) without a database', () => {
  it('queues on append and writes in batches with one INSERT each, idempotent by instance and seq', async () => {
    const { db, store, journal, metric } = setup({ batchSize: 2 });
    for (let i = 1; i <= 5; i++) journal.append(batch(i));
    expect(db.calls).toEqual([]);
    expect(store.backlog).toBe(5);
    expect(await store.flush()).toBe(5);
    const rows = inserts(db);
    expect(rows.map((r) => (r.values[1] as number[]).length)).toEqual([2, 2, 1]);
    expect(rows[0]?.text).toMatch(/ON CONFLICT \(instance, seq\) DO NOTHING/);
    expect(rows[0]?.values).toEqual([
      'k2-test-1',
      [1, 2],
      ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
      ['batch.received', 'batch.received'],
      [JSON.stringify(batch(1)), JSON.stringify(batch(2))],
    ]);
    expect(store.backlog).toBe(0);
    expect(await metric('k2_journal_persisted_total')).toBe(5);
    expect(await metric('k2_journal_backlog')).toBe(0);
  });

  it('does not persist periodic samples by default', async () => {
    const { db, store, journal } = setup();
    journal.append({ type: 'lag.observed', topic: 't', partition: 0, lag: 3, highWatermark: '9' });
    journal.append({ type: 'sequence.observed', topic: 't', partition: 0, counts: {}, watermarks: [] });
    journal.append(batch(1));
    await store.flush();
    expect(inserts(db).flatMap((r) => r.values[3] as string[])).toEqual(['batch.received']);
  });

  it('keeps a bounded buffer while PostgreSQL is down, counts what it drops, and never blocks the append', async () => {
    const { db, store, journal, metric } = setup({ capacity: 3 });
    db.down = true;
    for (let i = 1; i <= 5; i++) journal.append(batch(i));
    expect(journal.lastSeq).toBe(5);
    await expect(store.flush()).rejects.toThrow(/ECONNREFUSED/);
    expect(store.backlog).toBe(3);
    expect(store.dropped).toBe(2);
    expect(await metric('k2_journal_dropped_total')).toBe(2);
    db.down = false;
    await store.flush();
    journal.append(batch(6));
    await store.flush();
    // seq 4 and 5 are missing in the table: the audit gap is visible there as well as in the metric.
    expect(inserts(db).flatMap((r) => r.values[1] as number[])).toEqual([1, 2, 3, 6]);
  });

  it('flushes on an interval in the background and backs off while the database fails', async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    const db = fakeDb();
    const store = new PgJournalStore({
      db,
      instance: 'i',
      flushIntervalMs: 100,
      backoff: { initialDelayMs: 1_000, maxDelayMs: 1_000, jitter: 0 },
      onError: (e) => errors.push(e),
    });
    const journal = new Journal();
    journal.subscribe(store.listener);
    store.start();
    journal.append(batch(1));
    await vi.advanceTimersByTimeAsync(100);
    expect(inserts(db)).toHaveLength(1);
    db.down = true;
    journal.append(batch(2));
    await vi.advanceTimersByTimeAsync(100);
    expect(errors).toHaveLength(1);
    db.down = false;
    await vi.advanceTimersByTimeAsync(999);
    expect(inserts(db)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(inserts(db)).toHaveLength(2);
    await store.close();
  });

  it('makes a last bounded attempt on close and ignores appends afterwards', async () => {
    const { db, store, journal } = setup();
    journal.append(batch(1));
    await store.close();
    expect(inserts(db)).toHaveLength(1);
    journal.append(batch(2));
    expect(store.backlog).toBe(0);
    const hung = setup();
    hung.db.hang = true;
    hung.journal.append(batch(1));
    const started = Date.now();
    await hung.store.close(50);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('creates its table tolerating a concurrent creator, and refuses a table name that is not a plain identifier', async () => {
    const { db, store } = setup();
    await store.ensureTable();
    expect(db.calls.map((c) => c.text.split('(')[0]?.trim())).toEqual([
      'CREATE TABLE IF NOT EXISTS "k2_journal"',
      'CREATE INDEX IF NOT EXISTS "k2_journal_type_at" ON "k2_journal"',
    ]);
    const raced = new PgJournalStore({
      db: { query: () => Promise.reject(Object.assign(new Error('duplicate key'), { code: '23505' })) },
      instance: 'i',
    });
    await expect(raced.ensureTable()).resolves.toBeUndefined();
    const broken = new PgJournalStore({
      db: { query: () => Promise.reject(new Error('permission denied')) },
      instance: 'i',
    });
    await expect(broken.ensureTable()).rejects.toThrow('permission denied');
    expect(() => new PgJournalStore({ db: fakeDb(), instance: 'i', table: 'journal; drop table x' })).toThrow(
      RangeError,
    );
  });
});
