import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { avroSchemaText } from '../../src/codec/schemas.js';
import { UnknownSchemaError } from '../../src/errors/index.js';
import { RecordEncoder } from '../../src/producers/encode.js';
import {
  defaultSyntheticSymbols,
  SyntheticGenerator,
  type SyntheticMessage,
  type SyntheticOptions,
} from '../../src/producers/synthetic/generator.js';
import {
  decimalScaleSchemaText,
  type PoisonKind,
  poisonCodes,
  poisonKinds,
  UNKNOWN_SCHEMA_ID,
} from '../../src/producers/synthetic/poison.js';
import { Random } from '../../src/producers/synthetic/random.js';
import { decodeFailures, decodeFramed } from './producers-fixtures.js';

const TRADE_ID = 31;
const SCALE_ID = 32;
const START = 1_735_689_600_000_000;

function generator(options: Partial<SyntheticOptions> = {}) {
  const encoder = new RecordEncoder('trade_v2', TRADE_ID);
  return new SyntheticGenerator({
    seed: 7,
    symbols: defaultSyntheticSymbols,
    exchange: 'SYNTH',
    rate: 10_000,
    burstiness: 0,
    startMicros: START,
    gapRate: 0,
    maxGap: 5,
    duplicateRate: 0,
    poison: {},
    encoderFor: () => encoder,
    decimalScaleEncoder: new RecordEncoder('trade_v2', SCALE_ID, decimalScaleSchemaText()),
    ...options,
  });
}

function digest(messages: Iterable<SyntheticMessage>): string {
  const hash = createHash('sha256');
  for (const m of messages) hash.update(m.topic).update(m.key).update(m.value).update(String(m.eventMicros));
  return hash.digest('hex');
}

const writers = {
  [TRADE_ID]: { schema: avroSchemaText('trade_v2') },
  [SCALE_ID]: { schema: decimalScaleSchemaText() },
  [UNKNOWN_SCHEMA_ID]: { error: new UnknownSchemaError(UNKNOWN_SCHEMA_ID).toJSON() },
};

describe('synthetic generator', () => {
  it('is deterministic: the same seed gives the same bytes, another seed other bytes', () => {
    const faults = {
      gapRate: 0.01,
      duplicateRate: 0.01,
      burstiness: 0.5,
      poison: { truncated: 0.01, 'bad-magic': 0.01 },
    };
    const a = digest(generator(faults).take(20_000));
    expect(digest(generator(faults).take(20_000))).toBe(a);
    expect(digest(generator({ ...faults, seed: 8 }).take(20_000))).not.toBe(a);
  });

  it('keeps per-symbol sequences consecutive, prices exact and positive, keys the symbol', () => {
    const messages = [...generator().take(20_000)];
    const last = new Map<string, number>();
    for (const m of messages) {
      const { record } = decodeFramed(m.value);
      expect(record.symbol).toBe(m.key.toString());
      expect(record.source_sequence).toBe((last.get(m.key.toString()) ?? 0) + 1);
      last.set(m.key.toString(), record.source_sequence as number);
      expect(Number(record.price)).toBeGreaterThan(0);
      expect(Number(record.price) % 1_000_000).toBe(0); // whole cents
      expect(record.timestamp).toBe(m.eventMicros);
    }
    expect(new Set(messages.map((m) => m.topic))).toEqual(new Set(['market.crypto.trades']));
    expect(last.size).toBe(defaultSyntheticSymbols.length);
  });

  it('schedules the requested rate in event time', () => {
    const messages = [...generator({ rate: 2_500 }).take(25_000)];
    const seconds = (messages.at(-1)!.eventMicros - START) / 1e6;
    expect(seconds).toBeGreaterThan(9.9);
    expect(seconds).toBeLessThan(10.01);
    expect(messages.every((m, i) => i === 0 || m.eventMicros >= messages[i - 1]!.eventMicros)).toBe(true);
  });

  it('burstiness keeps the mean rate and makes per-slot load uneven', () => {
    const perSlot = (burstiness: number) => {
      const counts = new Map<number, number>();
      for (const m of generator({ rate: 5_000, burstiness }).take(100_000)) {
        const slot = Math.floor((m.eventMicros - START) / 100_000);
        counts.set(slot, (counts.get(slot) ?? 0) + 1);
      }
      const slots = Math.max(...counts.keys()) + 1;
      const values = Array.from({ length: slots }, (_, i) => counts.get(i) ?? 0);
      const mean = values.reduce((a, b) => a + b, 0) / slots;
      const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / slots);
      return { mean, cv: sd / mean };
    };
    const steady = perSlot(0);
    const bursty = perSlot(0.9);
    expect(steady.mean).toBeCloseTo(500, 0);
    expect(steady.cv).toBeLessThan(0.01);
    expect(bursty.mean).toBeGreaterThan(450);
    expect(bursty.mean).toBeLessThan(550);
    expect(bursty.cv).toBeGreaterThan(0.7);
  });

  it('injects gaps, duplicates and poison at their rates, and counts exactly what it injected', () => {
    const g = generator({
      gapRate: 0.02,
      maxGap: 3,
      duplicateRate: 0.03,
      poison: { truncated: 0.01, empty: 0.005 },
    });
    const messages = [...g.take(100_000)];
    const { stats } = g;
    const kinds = (k: string) => messages.filter((m) => m.kind === k).length;
    expect(stats.messages).toBe(100_000);
    expect(stats.trades + stats.duplicates + stats.poison.truncated + stats.poison.empty).toBe(100_000);
    expect(kinds('duplicate')).toBe(stats.duplicates);
    expect(kinds('truncated')).toBe(stats.poison.truncated);
    expect(stats.duplicates / 100_000).toBeCloseTo(0.03, 2);
    expect(stats.poison.truncated / 100_000).toBeCloseTo(0.01, 2);
    expect(stats.poison.empty / 100_000).toBeCloseTo(0.005, 2);
    expect(stats.gaps / stats.trades).toBeCloseTo(0.02, 2);

    // Gaps: the sequence numbers skipped add up to `missing`; duplicates repeat the previous trade's bytes.
    const lastSequence = new Map<string, number>();
    const lastTrade = new Map<string, Buffer>();
    let missing = 0;
    for (const m of messages) {
      const symbol = m.key.toString();
      if (m.kind === 'duplicate') {
        expect(m.value.equals(lastTrade.get(symbol)!)).toBe(true);
        continue;
      }
      if (m.kind !== 'trade') continue;
      const sequence = decodeFramed(m.value).record.source_sequence as number;
      missing += sequence - (lastSequence.get(symbol) ?? 0) - 1;
      lastSequence.set(symbol, sequence);
      lastTrade.set(symbol, m.value);
    }
    expect(missing).toBe(stats.missing);
    expect(stats.missing).toBeGreaterThan(stats.gaps);
  });

  it.each(poisonKinds)('poison %s is raw bytes the decoder quarantines with its code', (kind: PoisonKind) => {
    const g = generator({ poison: { [kind]: 0.2 } });
    const poison = [...g.take(2_000)].filter((m) => m.kind === kind);
    expect(poison.length).toBeGreaterThan(300);
    const failures = decodeFailures(
      'trades_v2',
      poison.map((m) => m.value),
      writers,
    );
    expect(failures).toHaveLength(poison.length);
    expect(new Set(failures.map((f) => f.code))).toEqual(new Set([poisonCodes[kind]]));
  });

  it('valid messages decode without failures next to poison', () => {
    const g = generator({
      duplicateRate: 0.1,
      gapRate: 0.1,
      poison: Object.fromEntries(poisonKinds.map((k) => [k, 0.01])),
    });
    const good = [...g.take(5_000)].filter((m) => m.kind === 'trade' || m.kind === 'duplicate');
    expect(
      decodeFailures(
        'trades_v2',
        good.map((m) => m.value),
        writers,
      ),
    ).toEqual([]);
  });

  it('routes symbols to their asset class topic, or one topic when given', () => {
    const mixed = generator({ symbols: ['BTCUSDT', 'AAPL'] });
    expect(mixed.topics.sort()).toEqual(['market.crypto.trades', 'market.equities.trades']);
    const aapl = [...mixed.take(200)].find((m) => m.key.toString() === 'AAPL')!;
    expect(decodeFramed(aapl.value).record).toMatchObject({
      asset_class: 'EQUITY',
      currency: 'USD',
      exchange: 'SYNTH',
    });
    expect(generator({ symbols: ['BTCUSDT', 'AAPL'], topic: 'bench' }).topics).toEqual(['bench']);
  });

  it('refuses impossible options', () => {
    expect(() => generator({ rate: 0 })).toThrow(RangeError);
    expect(() => generator({ burstiness: 1.5 })).toThrow(RangeError);
    expect(() => generator({ duplicateRate: 0.6, poison: { empty: 0.6 } })).toThrow(/more than 1/);
    expect(() => generator({ poison: { 'decimal-scale': 0.1 }, decimalScaleEncoder: undefined })).toThrow(
      /decimalScaleEncoder/,
    );
  });
});

describe('seeded random', () => {
  it('repeats per seed, spreads uniformly, and makes v4 UUIDs', () => {
    const a = new Random(1);
    const b = new Random(1);
    const first = Array.from({ length: 5 }, () => a.uint32());
    expect(Array.from({ length: 5 }, () => b.uint32())).toEqual(first);
    const r = new Random(99);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) buckets[r.int(10)]++;
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(500);
    expect(r.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
