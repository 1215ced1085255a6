import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordEncoder } from '../../src/producers/encode.js';
import { mergeByTime, replayEquities } from '../../src/producers/equities/replay.js';
import { samplePath } from '../../src/producers/equities/sample.js';
import type { SourceRecordError } from '../../src/producers/errors.js';
import { Pacer, replayPaced } from '../../src/producers/pacer.js';
import type { TopicBatch } from '../../src/producers/sink.js';
import { canonical, decodeFramed, FakeClock } from './producers-fixtures.js';

const S = 1_000_000; // µs per second

/** Items at these event times (seconds), replayed; returns when each batch went out (ms after the start) and its items. */
async function paced(times: number[], speed: number, batchSize = 100, clock = new FakeClock()) {
  const start = clock.now;
  const sent: { atMs: number; items: number[] }[] = [];
  const count = await replayPaced(
    times.map((t) => t * S),
    {
      clock,
      speed,
      batchSize,
      eventMicros: (t) => t,
      flush: async (items) => {
        sent.push({ atMs: clock.now - start, items: items.map((t) => t / S) });
      },
    },
  );
  return { count, sent, clock };
}

describe('replay pacing (fake clock, no real waiting)', () => {
  it('sends at the original pace: each item at its offset from the first', async () => {
    const { sent, clock } = await paced([100, 100, 101, 103.5, 103.5, 110], 1);
    expect(sent).toEqual([
      { atMs: 0, items: [100, 100] },
      { atMs: 1_000, items: [101] },
      { atMs: 3_500, items: [103.5, 103.5] },
      { atMs: 10_000, items: [110] },
    ]);
    expect(clock.sleeps).toEqual([1_000, 2_500, 6_500]);
  });

  it('sends N times faster', async () => {
    const { sent } = await paced([0, 60, 120, 3_600], 60);
    expect(sent.map((s) => s.atMs)).toEqual([0, 1_000, 2_000, 60_000]);
  });

  it('as fast as possible: never sleeps, fills batches', async () => {
    const times = Array.from({ length: 250 }, (_, i) => i);
    const { sent, clock, count } = await paced(times, Number.POSITIVE_INFINITY, 100);
    expect(count).toBe(250);
    expect(clock.sleeps).toEqual([]);
    expect(sent.map((s) => s.items.length)).toEqual([100, 100, 50]);
    expect(sent.flatMap((s) => s.items)).toEqual(times);
  });

  it('does not let a slow send accumulate lag: the schedule is anchored at the first item', async () => {
    const clock = new FakeClock();
    const start = clock.now;
    const at: number[] = [];
    await replayPaced(
      [0, 1, 2, 3].map((t) => t * S),
      {
        clock,
        speed: 1,
        batchSize: 10,
        eventMicros: (t) => t,
        flush: async () => {
          at.push(clock.now - start);
          clock.advance(400); // every send takes 400 ms
        },
      },
    );
    expect(at).toEqual([0, 1_000, 2_000, 3_000]);
  });

  it('groups items due within the tolerance instead of sleeping for each', async () => {
    const { sent, clock } = await paced([0, 0.001, 0.002, 0.5], 1);
    expect(sent).toEqual([
      { atMs: 0, items: [0, 0.001, 0.002] },
      { atMs: 500, items: [0.5] },
    ]);
    expect(clock.sleeps).toEqual([500]);
  });

  it('stops taking items when aborted and flushes what it took', async () => {
    const controller = new AbortController();
    const clock = new FakeClock();
    const flushed: number[] = [];
    const count = await replayPaced(
      (function* () {
        for (let i = 0; ; i++) {
          if (i === 7) controller.abort();
          yield i;
        }
      })(),
      {
        clock,
        speed: Number.POSITIVE_INFINITY,
        batchSize: 5,
        signal: controller.signal,
        eventMicros: () => 0,
        flush: async (items) => {
          flushed.push(...items);
        },
      },
    );
    expect(count).toBe(8);
    expect(flushed).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('refuses a speed that is not positive', () => {
    expect(() => new Pacer(new FakeClock(), 0)).toThrow(RangeError);
  });
});

describe('mergeByTime', () => {
  it('merges time-ordered sources, earlier source first on ties', async () => {
    const out: string[] = [];
    const a = [1, 3, 3, 7].map((t) => ({ t, s: `a${t}` }));
    const b = [0, 3, 8].map((t) => ({ t, s: `b${t}` }));
    for await (const item of mergeByTime([a, b], (i) => i.t)) out.push(item.s);
    expect(out).toEqual(['b0', 'a1', 'a3', 'a3', 'b3', 'a7', 'b8']);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'k2-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function replay(options: {
  tradesPath?: string;
  quotesPath?: string;
  speed: number;
  batchSize?: number;
}) {
  const clock = new FakeClock();
  const batches: TopicBatch[][] = [];
  const rejected: SourceRecordError[] = [];
  const totals = await replayEquities({
    ...options,
    tradesTopic: 'trades',
    quotesTopic: 'quotes',
    encoders: { trade: new RecordEncoder('trade_v2', 1), quote: new RecordEncoder('quote_v2', 2) },
    send: async (b) => {
      batches.push(b);
    },
    clock,
    batchSize: options.batchSize ?? 500,
    onRejected: (e) => rejected.push(e),
  });
  return { totals, batches, rejected, clock };
}

describe('equities replay', () => {
  it('turns rows into exact records, merged by time, skipping bad rows with file and line', async () => {
    const trades = file(
      't.csv',
      [
        'timestamp,symbol,exchange,sequence,price,size,side,conditions,venue_id',
        '2025-01-02T14:30:00.000001Z,AAPL,NASDAQ,1,243.855,100,BUY,@ F,X1',
        '2025-01-02T14:30:00.5Z,MSFT,NASDAQ,1,418.58,5,,I,',
        '2025-01-02T14:30:01Z,AAPL,NASDAQ,2,-1,100,BUY,,',
        '2025-01-02T14:30:02Z,AAPL,NASDAQ,3,243.86,100,BOUGHT,,',
        '2025-01-02T25:30:02Z,AAPL,NASDAQ,4,243.86,100,SELL,,',
        '2025-01-02T14:30:03Z,AAPL,NASDAQ,5,243.86,100,sell,,',
      ].join('\n'),
    );
    const quotes = file(
      'q.csv',
      [
        'timestamp,symbol,exchange,sequence,bid_price,bid_size,ask_price,ask_size',
        '2025-01-02T14:30:00.000001Z,AAPL,NASDAQ,1,243.85,300,243.86,200',
        '2025-01-02T14:30:02.5Z,AAPL,NASDAQ,2,243.85,300,243.87,100',
      ].join('\n'),
    );
    const { totals, batches, rejected } = await replay({
      tradesPath: trades,
      quotesPath: quotes,
      speed: Number.POSITIVE_INFINITY,
    });
    expect(totals).toEqual({ trades: 3, quotes: 2, rejected: 3 });
    expect(rejected.map((e) => [e.reason, e.where])).toEqual([
      ['bad-decimal', 't.csv:4'],
      ['bad-enum', 't.csv:5'],
      ['bad-timestamp', 't.csv:6'],
    ]);
    const [tradeBatch, quoteBatch] = batches[0]!;
    const first = decodeFramed(tradeBatch!.messages[0]!.value).record;
    expect(canonical(first)).toMatchObject(
      canonical({
        trade_id: '1',
        symbol: 'AAPL',
        exchange: 'NASDAQ',
        asset_class: 'EQUITY',
        timestamp: 1_735_828_200_000_001,
        price: 24_385_500_000,
        quantity: 10_000_000_000,
        currency: 'USD',
        side: 'BUY',
        trade_conditions: ['@', 'F'],
        source_sequence: 1,
        vendor_data: { venue_id: 'X1' },
      }),
    );
    expect(tradeBatch!.messages.map((m) => m.key)).toEqual(['AAPL', 'MSFT', 'AAPL']);
    expect(tradeBatch!.messages.map((m) => decodeFramed(m.value).record.side)).toEqual([
      'BUY',
      'UNKNOWN',
      'SELL',
    ]);
    expect(quoteBatch!.messages.map((m) => decodeFramed(m.value, 'quote_v2').record.ask_price)).toEqual([
      24_386_000_000, 24_387_000_000,
    ]);
  });

  it('replays the same file to the same message ids (a second replay is deduplicated downstream)', async () => {
    const path = file(
      'again.csv',
      'timestamp,symbol,exchange,sequence,price,size\n2025-01-02T14:30:00Z,SPY,NYSEARCA,9,584.64,1\n',
    );
    const ids = async () =>
      (await replay({ tradesPath: path, speed: Number.POSITIVE_INFINITY })).batches[0]![0]!.messages.map(
        (m) => decodeFramed(m.value).record.message_id,
      );
    expect(await ids()).toEqual(await ids());
  });

  it('replays the bundled day at 600× in 39 simulated seconds, keeping every symbol in sequence order', async () => {
    const { totals, batches, clock } = await replay({
      tradesPath: samplePath('trades'),
      quotesPath: samplePath('quotes'),
      speed: 600,
    });
    expect(totals).toEqual({ trades: 30_000, quotes: 20_000, rejected: 0 });
    const slept = clock.sleeps.reduce((a, b) => a + b, 0);
    expect(slept).toBeGreaterThan(38_000);
    expect(slept).toBeLessThan(39_100); // 390 minutes / 600
    const last = new Map<string, number>();
    for (const batch of batches)
      for (const { topic, messages } of batch)
        for (const { key, value } of messages) {
          const { record } = decodeFramed(value, topic === 'trades' ? 'trade_v2' : 'quote_v2');
          const id = `${topic}/${key}`;
          expect(record.source_sequence).toBe((last.get(id) ?? 0) + 1);
          last.set(id, record.source_sequence as number);
        }
  });
});
