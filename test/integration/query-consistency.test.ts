import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTailSource, type TailSource } from '../../src/query/kafka-source.js';
import { formatIso } from '../../src/query/time.js';
import { stack } from '../support/stack.js';
import { type QueryEnv, queryEnv, records, STEP, T0, type Trade } from './query-support.js';

const COUNT = 400;
const window = { from: formatIso(T0), to: formatIso(T0 + BigInt(COUNT) * STEP) };

/** The real tail source, with a hook that runs once the query has planned its snapshot and before it reads Kafka. */
function hooked(real: TailSource) {
  let hook: (() => Promise<void>) | undefined;
  const source: TailSource = {
    async watermarks(topic) {
      const run = hook;
      hook = undefined;
      await run?.();
      return real.watermarks(topic);
    },
    fetch: (ranges, onRecords, signal) => real.fetch(ranges, onRecords, signal),
    close: () => real.close(),
  };
  return { source, before: (task: () => Promise<void>) => (hook = task) };
}

describe('hybrid query while commits land', () => {
  let env: QueryEnv;
  let trades: Trade[];
  let tail: ReturnType<typeof hooked>;

  beforeAll(async () => {
    env = await queryEnv();
    tail = hooked(new KafkaTailSource({ brokers: stack().kafka.brokers }));
    trades = env.trades(COUNT);
    await env.produce(trades);
    await env.commit(
      trades.filter((t) => t.i < 100),
      env.group,
    );
  });
  afterAll(() => env?.close());

  const ids = (result: Awaited<ReturnType<QueryEnv['query']>>) =>
    records(result).map((r) => r.message_id as string);
  const expectEachOnce = (result: Awaited<ReturnType<QueryEnv['query']>>, expected: readonly Trade[]) => {
    const got = ids(result);
    expect(got.length).toBe(new Set(got).size);
    expect(got.sort()).toEqual(expected.map((t) => t.messageId).sort());
  };

  it('rows committed during a query are not double-counted: files and offsets come from one snapshot', async () => {
    const service = await env.serviceWith({ tailSource: tail.source });
    // The commit lands after the query planned its snapshot and before it reads the tail.
    tail.before(async () => {
      await env.commit(
        trades.filter((t) => t.i >= 100 && t.i < 200),
        env.group,
      );
    });
    const during = await env.query({ kind: 'trades', ...window }, service);
    expectEachOnce(during, trades);
    expect(during.meta.rows).toEqual({ iceberg: 100, kafka: 300 });

    const after = await env.query({ kind: 'trades', ...window }, service);
    expectEachOnce(after, trades);
    expect(after.meta.rows).toEqual({ iceberg: 200, kafka: 200 });
    const bars = await env.query({ kind: 'bars', ...window, interval: '1h' }, service);
    expect(bars.rows.reduce((sum, row) => sum + (row.at(-1) as bigint), 0n)).toBe(BigInt(COUNT));
  });

  it('answers as of a pinned snapshot from its files and its offsets, later commits read from Kafka', async () => {
    const stats = await env.query({ kind: 'stats', source: 'iceberg' });
    const history = records(stats)[0]!.snapshots as bigint;
    const first = await env.query({ kind: 'trades', ...window, source: 'iceberg', symbols: 'AAPL' });
    const snapshot = first.meta.tables[0]!.snapshotId!;
    await env.commit(
      trades.filter((t) => t.i >= 200 && t.i < 300),
      env.group,
    );
    const pinned = await env.query({ kind: 'trades', ...window, snapshot });
    expectEachOnce(pinned, trades);
    expect(pinned.meta.rows).toEqual({ iceberg: 200, kafka: 200 });
    const current = await env.query({ kind: 'trades', ...window });
    expectEachOnce(current, trades);
    expect(current.meta.rows).toEqual({ iceberg: 300, kafka: 100 });
    expect(records(await env.query({ kind: 'stats', source: 'iceberg' }))[0]!.snapshots).toBe(history + 1n);
  });

  it('counts a row once when Iceberg holds it beyond the recorded offsets (a backfill), preferring the Iceberg copy', async () => {
    // Rows 300..349 are committed without offsets: the group's tail still starts before them.
    const backfilled = trades.filter((t) => t.i >= 300 && t.i < 350);
    await env.commit(backfilled);
    const result = await env.query({ kind: 'trades', ...window });
    expectEachOnce(result, trades);
    expect(result.meta.tables[0]!.kafka.duplicates).toBe(backfilled.length);
    expect(result.meta.rows).toEqual({ iceberg: 350, kafka: 50 });
    const source = new Map(records(result).map((r) => [r.message_id, r.source]));
    for (const t of backfilled) expect(source.get(t.messageId)).toBe('iceberg');
    const vwap = await env.query({ kind: 'vwap', ...window });
    expect(vwap.rows.reduce((sum, row) => sum + (row[5] as bigint), 0n)).toBe(BigInt(COUNT));
  });
});
