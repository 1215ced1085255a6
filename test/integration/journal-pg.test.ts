import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Journal,
  journalPool,
  PgJournalStore,
  persistedByDefault,
  type Queryable,
} from '../../src/journal/index.js';
import { createMetrics, parseExposition } from '../../src/metrics/index.js';
import { everyEvent } from '../support/journal-events.js';
import { pgClient, stack, unique } from '../support/stack.js';

/** The events the store keeps by default (periodic samples are not audit facts). */
const events = everyEvent.filter((e) => persistedByDefault(e.type));

describe('journal persisted to PostgreSQL', () => {
  const table = unique('k2_journal_it').replaceAll('-', '_');
  let pool: pg.Pool;
  let client: pg.Client;

  beforeAll(async () => {
    pool = journalPool(stack().catalog);
    client = pgClient();
    await client.connect();
  });

  afterAll(async () => {
    await client.query(`DROP TABLE IF EXISTS "${table}"`);
    await client.end();
    await pool.end();
  });

  it('creates its table (also when two processes race), writes in batches and reads back the same events', async () => {
    const instance = unique('k2-it');
    const store = new PgJournalStore({ db: pool, instance, table, batchSize: 3 });
    const rival = new PgJournalStore({ db: pool, instance: 'rival', table });
    await Promise.all([store.ensureTable(), rival.ensureTable(), store.ensureTable()]);
    const journal = new Journal();
    journal.subscribe(store.listener);
    for (const event of events) journal.append(event);
    expect(await store.flush()).toBe(events.length);

    const { rows } = await client.query(
      `SELECT seq, at, type, event FROM "${table}" WHERE instance = $1 ORDER BY seq`,
      [instance],
    );
    expect(rows.map((r) => [Number(r.seq), r.type])).toEqual(events.map((e, i) => [i + 1, e.type]));
    expect(rows.map((r) => r.event)).toEqual(events);
    expect(rows[0].at).toBeInstanceOf(Date);
    const { rows: snapshots } = await client.query(
      `SELECT event->>'snapshotId' AS id FROM "${table}" WHERE type = 'snapshot.committed' AND instance = $1`,
      [instance],
    );
    expect(snapshots).toEqual([{ id: '9223372036854775807' }]);

    // A retried insert (the connection dropped after the commit) adds nothing.
    const again = new PgJournalStore({ db: pool, instance, table });
    for (const entry of journal.recent()) again.listener(entry);
    await again.flush();
    const { rows: count } = await client.query(
      `SELECT count(*)::int AS n FROM "${table}" WHERE instance = $1`,
      [instance],
    );
    expect(count[0].n).toBe(events.length);
  });

  it('keeps ingesting while PostgreSQL is unreachable, counts the dropped entries, then catches up', async () => {
    // A port nothing listens on: the real driver, the real connection error.
    const unreachable = journalPool({ ...stack().catalog, port: 1 });
    let down = true;
    const db: Queryable = { query: (text, values) => (down ? unreachable : pool).query(text, values) };
    const metrics = createMetrics({ defaultMetrics: false });
    const instance = unique('k2-it-outage');
    const store = new PgJournalStore({ db, instance, table, capacity: 4, metrics: metrics.catalogue });
    await pool.query(
      `CREATE TABLE IF NOT EXISTS "${table}" (instance text, seq bigint, at timestamptz, type text, event jsonb, PRIMARY KEY (instance, seq))`,
    );
    const journal = new Journal();
    journal.subscribe(store.listener);

    const started = performance.now();
    // Seven entries into a queue of four: three dropped.
    for (const event of events.slice(0, 7)) journal.append(event);
    expect(performance.now() - started).toBeLessThan(50);
    await expect(store.flush()).rejects.toThrow(/ECONNREFUSED/);
    expect([store.backlog, store.dropped]).toEqual([4, 3]);

    down = false;
    await store.flush();
    journal.append(events[0]!);
    await store.flush();
    const { rows } = await client.query(`SELECT seq FROM "${table}" WHERE instance = $1 ORDER BY seq`, [
      instance,
    ]);
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 8]);
    const dropped = parseExposition(await metrics.registry.metrics()).find(
      (s) => s.name === 'k2_journal_dropped_total',
    );
    expect(dropped?.value).toBe('3');
    await unreachable.end();
  });
});
