import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/index.js';
import {
  type GapClosed,
  type GapDetected,
  gapRow,
  type SequenceEvent,
  type SequenceKind,
  type SequencePolicy,
  type SequenceSnapshot,
  SequenceSnapshotError,
  SequenceTracker,
  sequencePolicy,
} from '../../src/sequence/index.js';

const at = 1_790_000_000_000;

function tracker(policy: Partial<SequencePolicy> = {}) {
  return new SequenceTracker('market.crypto.trades', 3, { policy, now: () => at });
}

/** Feeds sequences of one symbol at consecutive offsets; returns the kinds and the events. */
function feed(
  t: SequenceTracker,
  sequences: (number | bigint | null)[],
  options: { symbol?: string; from?: bigint } = {},
) {
  const kinds: SequenceKind[] = [];
  const events: SequenceEvent[] = [];
  let offset = options.from ?? 0n;
  for (const s of sequences) {
    const result = t.observe({
      exchange: 'BINANCE',
      symbol: options.symbol ?? 'BTCUSDT',
      sequence: s === null ? null : BigInt(s),
      offset: offset++,
    });
    kinds.push(result.kind);
    events.push(...result.events);
  }
  return { kinds, events };
}

const detections = (events: SequenceEvent[]) =>
  events.filter((e): e is GapDetected => e.type === 'gap.detected');
const closures = (events: SequenceEvent[]) => events.filter((e): e is GapClosed => e.type === 'gap.closed');
const ranges = (events: { fromSequence: bigint; toSequence: bigint }[]) =>
  events.map((e) => [Number(e.fromSequence), Number(e.toSequence)]);

describe('sequence tracker: classification', () => {
  it('reads a contiguous stream as first then in order, complete through the last sequence', () => {
    const t = tracker();
    const { kinds, events } = feed(t, [100, 101, 102]);
    expect(kinds).toEqual(['first', 'in_order', 'in_order']);
    expect(events).toEqual([]);
    expect(t.completeThrough('BINANCE', 'BTCUSDT')).toBe(102n);
  });

  it('reports a forward jump as a gap with its inclusive missing range, small below the threshold and large at it', () => {
    const t = tracker({ largeGap: 10n });
    const { kinds, events } = feed(t, [1, 5, 15, 16, 27]);
    expect(kinds).toEqual(['first', 'small_gap', 'small_gap', 'in_order', 'large_gap']);
    expect(detections(events)).toEqual([
      {
        type: 'gap.detected',
        exchange: 'BINANCE',
        symbol: 'BTCUSDT',
        fromSequence: 2n,
        toSequence: 4n,
        size: 3n,
        kind: 'small',
        detectedAt: at,
        topic: 'market.crypto.trades',
        partition: 3,
        offset: 1n,
      },
      expect.objectContaining({ fromSequence: 6n, toSequence: 14n, size: 9n, kind: 'small', offset: 2n }),
      expect.objectContaining({ fromSequence: 17n, toSequence: 26n, size: 10n, kind: 'large', offset: 4n }),
    ]);
    expect(t.completeThrough('BINANCE', 'BTCUSDT')).toBe(1n);
  });

  it('fills open gaps with late records, splitting them, and advances the watermark as the oldest gap closes', () => {
    const t = tracker();
    feed(t, [1, 10]);
    expect(t.completeThrough('BINANCE', 'BTCUSDT')).toBe(1n);
    const { kinds, events } = feed(t, [5, 2, 3, 9, 4, 7, 6, 8], { from: 2n });
    expect(kinds.every((k) => k === 'out_of_order')).toBe(true);
    expect(events).toEqual([]);
    expect(t.completeThrough('BINANCE', 'BTCUSDT')).toBe(10n);
    expect(t.watermarks()).toEqual([
      { exchange: 'BINANCE', symbol: 'BTCUSDT', completeThrough: 10n, highest: 10n, openGaps: 0 },
    ]);
  });

  it('tracks the watermark through partial fills', () => {
    const t = tracker();
    feed(t, [1, 10, 2, 3, 6]);
    expect(t.completeThrough('BINANCE', 'BTCUSDT')).toBe(3n);
    expect(t.watermarks()[0]?.openGaps).toBe(2);
    feed(t, [4, 5], { from: 5n });
    expect(t.completeThrough('BINANCE', 'BTCUSDT')).toBe(6n);
  });

  it('flags a sequence already seen as a duplicate, including the head and filled gap positions', () => {
    const t = tracker();
    const { kinds } = feed(t, [1, 2, 4, 3, 4, 3, 1, 2]);
    expect(kinds).toEqual([
      'first',
      'in_order',
      'small_gap',
      'out_of_order',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    const result = t.observe({ exchange: 'BINANCE', symbol: 'BTCUSDT', sequence: 4n, offset: 9n });
    expect(result.duplicate).toBe(true);
  });

  it('never calls a record below the start of tracking a duplicate: it may never have been seen', () => {
    const t = tracker();
    const { kinds } = feed(t, [100, 101, 99, 98]);
    expect(kinds).toEqual(['first', 'in_order', 'late', 'late']);
    expect(t.completeThrough('BINANCE', 'BTCUSDT')).toBe(101n);
  });

  it('counts records without a sequence as unsequenced: no state, no gap, no duplicate', () => {
    const t = tracker();
    const { kinds, events } = feed(t, [null, 5, null, null, 6]);
    expect(kinds).toEqual(['unsequenced', 'first', 'unsequenced', 'unsequenced', 'in_order']);
    expect(events).toEqual([]);
    expect(t.observe({ exchange: 'X', symbol: 'Y', sequence: null, offset: 9n }).duplicate).toBe(false);
    expect(t.symbolCount).toBe(1);
  });

  it('keeps symbols and exchanges apart', () => {
    const t = tracker();
    t.observe({ exchange: 'BINANCE', symbol: 'BTCUSDT', sequence: 1n, offset: 0n });
    t.observe({ exchange: 'BINANCE', symbol: 'ETHUSDT', sequence: 50n, offset: 1n });
    t.observe({ exchange: 'KRAKEN', symbol: 'BTCUSDT', sequence: 7n, offset: 2n });
    const r = t.observe({ exchange: 'BINANCE', symbol: 'BTCUSDT', sequence: 2n, offset: 3n });
    expect(r.kind).toBe('in_order');
    expect(t.completeThrough('KRAKEN', 'BTCUSDT')).toBe(7n);
    expect(t.completeThrough('KRAKEN', 'ETHUSDT')).toBeUndefined();
  });

  it('handles 64-bit sequences exactly', () => {
    const t = tracker();
    const max = 2n ** 63n - 1n;
    const { kinds, events } = feed(t, [max - 5n, max - 4n, max]);
    expect(kinds).toEqual(['first', 'in_order', 'small_gap']);
    expect(detections(events)[0]).toMatchObject({ fromSequence: max - 3n, toSequence: max - 1n, size: 3n });
    expect(t.completeThrough('BINANCE', 'BTCUSDT')).toBe(max - 4n);
  });
});

describe('sequence tracker: resets', () => {
  it('reads a far drop below the highest as a new session: open gaps closed, a reset row, tracking restarts', () => {
    const t = tracker({ resetDrop: 1000n });
    feed(t, [5000, 5003, 5004]);
    const { kinds, events } = feed(t, [3000, 3001, 3003], { from: 3n });
    expect(kinds).toEqual(['reset', 'in_order', 'small_gap']);
    expect(closures(events)).toEqual([
      expect.objectContaining({
        fromSequence: 5001n,
        toSequence: 5002n,
        size: 2n,
        reason: 'reset',
        offset: 3n,
      }),
    ]);
    expect(detections(events).map((e) => [e.kind, e.fromSequence, e.toSequence, e.size])).toEqual([
      ['reset', 5004n, 3000n, 0n],
      ['small', 3002n, 3002n, 1n],
    ]);
    expect(t.completeThrough('BINANCE', 'BTCUSDT')).toBe(3001n);
  });

  it('reads a restart at 0 or 1 after a long session as a reset, so the new session is not swallowed as duplicates', () => {
    const t = tracker({ restartDrop: 100n });
    feed(t, [0, 1, 2, 500]);
    const { kinds } = feed(t, [0, 1, 2, 3], { from: 4n });
    expect(kinds).toEqual(['reset', 'in_order', 'in_order', 'in_order']);
    const again = tracker({ restartDrop: 100n });
    feed(again, [1, 200]);
    expect(feed(again, [1], { from: 2n }).kinds).toEqual(['reset']);
  });

  it('reads an early resend of sequence 0 or 1 close to the head as a duplicate, not a reset', () => {
    const t = tracker({ restartDrop: 100n });
    const { kinds, events } = feed(t, [0, 1, 2, 3, 0, 1, 4]);
    expect(kinds).toEqual([
      'first',
      'in_order',
      'in_order',
      'in_order',
      'duplicate',
      'duplicate',
      'in_order',
    ]);
    expect(events).toEqual([]);
  });

  it('prefers filling an open gap to a reset', () => {
    const t = tracker({ restartDrop: 10n });
    feed(t, [0, 2, 100]);
    expect(feed(t, [1], { from: 3n }).kinds).toEqual(['out_of_order']);
  });
});

describe('sequence tracker: bounds', () => {
  it('closes the oldest open gap as permanently missing beyond maxOpenGaps, and the watermark moves past it', () => {
    const t = tracker({ maxOpenGaps: 2 });
    const { events } = feed(t, [1, 3, 5, 7]);
    expect(ranges(detections(events))).toEqual([
      [2, 2],
      [4, 4],
      [6, 6],
    ]);
    expect(closures(events)).toEqual([
      expect.objectContaining({
        type: 'gap.closed',
        reason: 'evicted',
        fromSequence: 2n,
        toSequence: 2n,
        offset: 3n,
      }),
    ]);
    expect(t.completeThrough('BINANCE', 'BTCUSDT')).toBe(3n);
    // The evicted range can no longer be told from a duplicate: a record there is late, and kept.
    expect(feed(t, [2], { from: 4n }).kinds).toEqual(['late']);
  });

  it('counts a split that exceeds the bound as an eviction of the oldest piece', () => {
    const t = tracker({ maxOpenGaps: 1 });
    const { events } = feed(t, [1, 10, 5]);
    expect(closures(events)).toEqual([
      expect.objectContaining({ fromSequence: 2n, toSequence: 4n, reason: 'evicted' }),
    ]);
    expect(t.completeThrough('BINANCE', 'BTCUSDT')).toBe(5n);
  });

  it('expires a gap unfilled for gapExpiryOffsets partition offsets', () => {
    const t = tracker({ gapExpiryOffsets: 10n });
    feed(t, [1, 3]);
    expect(feed(t, [4], { from: 10n }).events).toEqual([]);
    const { kinds, events } = feed(t, [5], { from: 11n });
    expect(kinds).toEqual(['in_order']);
    expect(closures(events)).toEqual([
      expect.objectContaining({ reason: 'expired', fromSequence: 2n, offset: 11n }),
    ]);
    expect(t.completeThrough('BINANCE', 'BTCUSDT')).toBe(5n);
  });

  it('forgets the least recently seen symbol beyond maxSymbols, closing its gaps, and restarts it without a false gap', () => {
    const t = tracker({ maxSymbols: 2 });
    feed(t, [1, 3], { symbol: 'A' });
    feed(t, [1], { symbol: 'B', from: 2n });
    feed(t, [4], { symbol: 'A', from: 3n });
    const { events } = feed(t, [1], { symbol: 'C', from: 4n });
    expect(events).toEqual([]);
    expect(t.completeThrough('BINANCE', 'B')).toBeUndefined();
    const evictA = feed(t, [9], { symbol: 'D', from: 5n });
    expect(closures(evictA.events)).toEqual([
      expect.objectContaining({ symbol: 'A', reason: 'symbol_evicted', fromSequence: 2n, toSequence: 2n }),
    ]);
    const back = feed(t, [500], { symbol: 'A', from: 6n });
    expect(back).toEqual({ kinds: ['first'], events: [] });
    expect(t.symbolCount).toBe(2);
  });
});

describe('sequence tracker: progress', () => {
  it('reports counts by kind and the watermarks of the symbols seen since the last call', () => {
    const t = tracker();
    feed(t, [1, 2, 2, 5, null], { symbol: 'A' });
    feed(t, [7], { symbol: 'B', from: 5n });
    const first = t.takeProgress();
    expect(first.counts).toMatchObject({ first: 2, in_order: 1, duplicate: 1, small_gap: 1, unsequenced: 1 });
    expect(first.watermarks.map((w) => [w.symbol, w.completeThrough, w.highest, w.openGaps])).toEqual([
      ['A', 2n, 5n, 1],
      ['B', 7n, 7n, 0],
    ]);
    feed(t, [8], { symbol: 'B', from: 6n });
    const second = t.takeProgress();
    expect(second.counts.in_order).toBe(1);
    expect(second.counts.first).toBe(0);
    expect(second.watermarks.map((w) => w.symbol)).toEqual(['B']);
  });
});

/** A deterministic generator (mulberry32). */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface StreamRecord {
  exchange: string;
  symbol: string;
  sequence: bigint | null;
}

/** Market-data-like traffic: mostly in order, with drops, swaps, resends, nulls and session restarts. */
function marketStream(seed: number, length: number, symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT']) {
  const random = prng(seed);
  const next = new Map(symbols.map((s) => [s, BigInt(1_000 + Math.floor(random() * 1_000_000))]));
  const out: StreamRecord[] = [];
  while (out.length < length) {
    const symbol = symbols[Math.floor(random() * symbols.length)]!;
    let s = next.get(symbol)!;
    const roll = random();
    if (roll < 0.05) s += BigInt(1 + Math.floor(random() * (random() < 0.2 ? 500 : 5)));
    else if (roll < 0.06) s = random() < 0.5 ? 0n : 1n;
    next.set(symbol, s + 1n);
    if (roll > 0.97) out.push({ exchange: 'BINANCE', symbol, sequence: null });
    out.push({ exchange: 'BINANCE', symbol, sequence: s });
    if (roll > 0.9 && roll < 0.93) out.push({ exchange: 'BINANCE', symbol, sequence: s - 1n });
    if (roll > 0.93 && roll < 0.95 && out.length > 2) {
      const last = out.length - 1;
      [out[last], out[last - 2]] = [out[last - 2]!, out[last]!];
    }
  }
  return out.slice(0, length);
}

function run(t: SequenceTracker, stream: StreamRecord[], from: number) {
  const kinds: SequenceKind[] = [];
  const events: SequenceEvent[] = [];
  for (let i = from; i < stream.length; i++) {
    const r = t.observe({ ...stream[i]!, offset: BigInt(i) });
    kinds.push(r.kind);
    events.push(...r.events);
  }
  return { kinds, events };
}

describe('sequence tracker: restart from a snapshot', () => {
  const tight: Partial<SequencePolicy> = {
    maxOpenGaps: 3,
    maxSymbols: 3,
    gapExpiryOffsets: 100n,
    restartDrop: 50n,
  };

  it('replays from the committed offset with identical classifications, gap events and watermarks: no false and no double-counted gaps', () => {
    // D is rare, so symbols are forgotten now and then rather than all the time.
    const stream = marketStream(7, 3_000, ['A', 'B', 'C', 'A', 'B', 'C', 'A', 'B', 'C', 'D']);
    const reference = tracker(tight);
    const whole = run(reference, stream, 0);
    expect(new Set(whole.kinds)).toEqual(
      new Set([
        'first',
        'in_order',
        'duplicate',
        'out_of_order',
        'small_gap',
        'large_gap',
        'reset',
        'late',
        'unsequenced',
      ]),
    );
    expect(new Set(whole.events.map((e) => (e.type === 'gap.closed' ? e.reason : e.kind)))).toEqual(
      new Set(['small', 'large', 'reset', 'evicted', 'expired', 'symbol_evicted']),
    );

    for (const cut of [0, 1, 137, 1_500, 2_999, 3_000]) {
      const first = tracker(tight);
      const before = run(first, stream.slice(0, cut), 0);
      const committed = JSON.parse(JSON.stringify(first.snapshot())) as SequenceSnapshot;
      first.observe({ exchange: 'BINANCE', symbol: 'Z', sequence: 1n, offset: BigInt(cut) }); // work lost in the crash

      const restarted = tracker(tight);
      restarted.restore(committed);
      const after = run(restarted, stream, cut);

      expect([...before.kinds, ...after.kinds]).toEqual(whole.kinds);
      expect([...before.events, ...after.events]).toEqual(whole.events);
      expect(restarted.watermarks()).toEqual(reference.watermarks());
      expect(restarted.snapshot()).toEqual(reference.snapshot());
    }
  });

  it('produces a compact JSON-safe snapshot with 64-bit values as strings', () => {
    const t = tracker();
    feed(t, [2n ** 62n, 2n ** 62n + 3n]);
    const snapshot = t.snapshot();
    expect(snapshot).toEqual({
      version: 1,
      topic: 'market.crypto.trades',
      partition: 3,
      symbols: [
        [
          'BINANCE',
          'BTCUSDT',
          '4611686018427387904',
          '4611686018427387907',
          ['4611686018427387905', '4611686018427387906', '1'],
        ],
      ],
    });
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
  });

  it('refuses a snapshot of another partition, another version or with malformed state', () => {
    const t = tracker();
    feed(t, [1, 4]);
    const good = t.snapshot();
    const other = new SequenceTracker('market.crypto.trades', 4);
    expect(() => other.restore(good)).toThrow(SequenceSnapshotError);
    const bad: unknown[] = [
      { ...good, version: 2 },
      { ...good, symbols: [['BINANCE', 'BTCUSDT', '1', 'x', []]] },
      { ...good, symbols: [['BINANCE', 'BTCUSDT', '1', '4', ['2', '3']]] },
      { ...good, symbols: [['BINANCE', 'BTCUSDT', '1', '4', ['2', '5', '0']]] },
    ];
    for (const snapshot of bad)
      expect(() => tracker().restore(snapshot as SequenceSnapshot)).toThrow(SequenceSnapshotError);
  });

  it('keeps the most recently seen symbols when the snapshot holds more than maxSymbols', () => {
    const big = tracker();
    for (const [i, symbol] of ['A', 'B', 'C'].entries()) feed(big, [1], { symbol, from: BigInt(i) });
    const small = tracker({ maxSymbols: 2 });
    small.restore(big.snapshot());
    expect(small.watermarks().map((w) => w.symbol)).toEqual(['B', 'C']);
  });
});

describe('sequence tracker: the watermark against a brute-force model', () => {
  it('matches "every sequence from the start up to s was seen" and flags exactly the repeats as duplicates', () => {
    // Bounds wide enough that nothing is evicted, expired or reset: the plain definition applies.
    const t = tracker({ maxOpenGaps: 10_000, gapExpiryOffsets: null, resetDrop: 10n ** 12n });
    const random = prng(11);
    const start = 1_000n;
    const seen = new Set<bigint>();
    let head = start;
    for (let offset = 0n; offset < 2_000n; offset++) {
      const jump = random() < 0.7;
      const s =
        offset === 0n
          ? start
          : jump
            ? head + BigInt(Math.floor(random() * 4))
            : start + BigInt(Math.floor(random() * Number(head - start + 1n)));
      if (s > head) head = s;
      const result = t.observe({ exchange: 'E', symbol: 'S', sequence: s, offset });
      expect(result.duplicate).toBe(seen.has(s));
      seen.add(s);
      let expected = start;
      while (seen.has(expected + 1n)) expected++;
      expect(t.completeThrough('E', 'S')).toBe(expected);
    }
  });
});

describe('sequence policy and rows', () => {
  it('rejects inconsistent thresholds, naming the key', () => {
    expect(() => sequencePolicy({ largeGap: 0n })).toThrow(ConfigError);
    expect(() => sequencePolicy({ maxOpenGaps: 0 })).toThrow(/sequence.maxOpenGaps/);
    expect(() => sequencePolicy({ restartDrop: 10n, resetDrop: 5n })).toThrow(/sequence.restartDrop/);
    expect(sequencePolicy().largeGap).toBe(100n);
  });

  it('renders a detection as a sequence_gaps row with microsecond detected_at', () => {
    const t = tracker();
    const [gap] = detections(feed(t, [1, 4]).events);
    expect(gapRow(gap!)).toEqual({
      exchange: 'BINANCE',
      symbol: 'BTCUSDT',
      from_sequence: 2n,
      to_sequence: 3n,
      size: 2n,
      detected_at: BigInt(at) * 1000n,
      kind: 'small',
      topic: 'market.crypto.trades',
      partition: 3,
      offset: 1n,
    });
  });
});
