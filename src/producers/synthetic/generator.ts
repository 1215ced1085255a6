import { type AssetClassSymbol, marketTopic } from '../../kafka/topics.js';
import { quoteCurrency } from '../binance/normalise.js';
import type { RecordEncoder } from '../encode.js';
import type { TradeV2 } from '../records.js';
import { corruptFrame, type PoisonKind, poisonKinds } from './poison.js';
import { Random } from './random.js';

export const defaultSyntheticSymbols = [
  'BTCUSDT',
  'ETHUSDT',
  'SOLUSDT',
  'BNBUSDT',
  'XRPUSDT',
  'ADAUSDT',
  'DOGEUSDT',
  'AVAXUSDT',
];

/** Where a synthetic symbol starts, in cents; unknown symbols start at a seeded price. */
const startPrices: Record<string, number> = {
  BTCUSDT: 97_000_00,
  ETHUSDT: 3_500_00,
  SOLUSDT: 190_00,
  BNBUSDT: 700_00,
  XRPUSDT: 2_30,
  ADAUSDT: 1_00,
  DOGEUSDT: 35,
  AVAXUSDT: 40_00,
  AAPL: 243_00,
  MSFT: 420_00,
  NVDA: 138_00,
  SPY: 590_00,
};

/** Pairs quoted in a crypto asset (BTCUSDT, ETHBTC) are crypto; anything else is an equity. */
export function assetClassOf(symbol: string): AssetClassSymbol {
  return quoteCurrency(symbol) === 'UNKNOWN' ? 'EQUITY' : 'CRYPTO';
}

/** The topic of a symbol's trades: `topic` when given, else market.<asset class>.trades. */
export function syntheticTopic(symbol: string, topic?: string): string {
  return topic ?? marketTopic(assetClassOf(symbol), 'trades');
}

export interface SyntheticOptions {
  seed: number;
  symbols: readonly string[];
  /** Venue written into every trade; synthetic data should never pass for a real venue's. */
  exchange: string;
  /** Mean trades per second of event time. */
  rate: number;
  /** 0: a steady flow; towards 1: traffic in bursts (each 100 ms slot's load is exponential), same mean. */
  burstiness: number;
  /** Event time of the first slot, epoch µs. */
  startMicros: number;
  /** Probability that a trade follows a gap: 1..maxGap sequence numbers skipped. */
  gapRate: number;
  maxGap: number;
  /** Probability that a message is the symbol's previous trade sent again (same message id and sequence). */
  duplicateRate: number;
  /** Probability of each poison kind per message. */
  poison: Partial<Record<PoisonKind, number>>;
  /** Topic of each trade; by default market.<asset class>.trades. */
  topic?: string;
  /** The trade_v2 encoder of a topic (its registered schema id); asked at each encode. */
  encoderFor: (topic: string) => RecordEncoder<'trade_v2'>;
  /** Needed when `decimal-scale` poison is on: an encoder for decimalScaleSchemaText(). */
  decimalScaleEncoder?: RecordEncoder<'trade_v2'>;
}

export type SyntheticKind = 'trade' | 'duplicate' | PoisonKind;

export interface SyntheticMessage {
  topic: string;
  key: Buffer;
  value: Buffer;
  eventMicros: number;
  kind: SyntheticKind;
}

export interface SyntheticStats {
  messages: number;
  trades: number;
  duplicates: number;
  /** Trades that followed skipped sequence numbers, and how many numbers were skipped. */
  gaps: number;
  missing: number;
  poison: Record<PoisonKind, number>;
}

interface SymbolState {
  symbol: string;
  key: Buffer;
  topic: string;
  assetClass: AssetClassSymbol;
  currency: string;
  /** Price in cents. */
  cents: number;
  sequence: number;
  last: Buffer | undefined;
}

const SLOT_MICROS = 100_000;
const CENT = 1_000_000; // 0.01 at scale 8

/**
 * Deterministic market-like trades for benchmarks and fault tests: a seeded random walk per
 * symbol, on a schedule of `rate` trades per second of event time (bursty when asked), with gaps,
 * duplicates and poison records injected at the given rates. Same options, same bytes.
 */
export class SyntheticGenerator {
  readonly stats: SyntheticStats;
  readonly #options: SyntheticOptions;
  readonly #random: Random;
  readonly #symbols: SymbolState[];
  readonly #poison: { kind: PoisonKind; upTo: number }[];
  readonly #poisonRate: number;
  #slotStart: number;
  #slotLeft = 0;
  #slotStep = 0;
  #slotNext = 0;
  #carry = 0;

  constructor(options: SyntheticOptions) {
    validate(options);
    this.#options = options;
    this.#random = new Random(options.seed);
    this.#symbols = options.symbols.map((symbol) => {
      const assetClass = assetClassOf(symbol);
      return {
        symbol,
        key: Buffer.from(symbol),
        topic: syntheticTopic(symbol, options.topic),
        assetClass,
        currency: assetClass === 'CRYPTO' ? quoteCurrency(symbol) : 'USD',
        cents: startPrices[symbol] ?? 10_00 + this.#random.int(490_00),
        sequence: 0,
        last: undefined,
      };
    });
    // Cumulative thresholds: one uniform draw picks the poison kind, if any.
    this.#poison = [];
    let upTo = 0;
    for (const kind of poisonKinds) {
      if ((options.poison[kind] ?? 0) === 0) continue;
      upTo += options.poison[kind]!;
      this.#poison.push({ kind, upTo });
    }
    this.#poisonRate = upTo;
    this.#slotStart = options.startMicros - SLOT_MICROS;
    this.stats = {
      messages: 0,
      trades: 0,
      duplicates: 0,
      gaps: 0,
      missing: 0,
      poison: Object.fromEntries(poisonKinds.map((kind) => [kind, 0])) as Record<PoisonKind, number>,
    };
  }

  /** The topics this generator writes to. */
  get topics(): string[] {
    return [...new Set(this.#symbols.map((s) => s.topic))];
  }

  next(): SyntheticMessage {
    const eventMicros = this.#nextEventTime();
    const random = this.#random;
    const state = this.#symbols[random.int(this.#symbols.length)]!;
    const u = random.next();
    this.stats.messages++;
    if (u < this.#poisonRate) {
      const kind = this.#poison.find((p) => u < p.upTo)!.kind;
      this.stats.poison[kind]++;
      return {
        topic: state.topic,
        key: state.key,
        value: this.#poisonValue(kind, state, eventMicros),
        eventMicros,
        kind,
      };
    }
    if (u < this.#poisonRate + this.#options.duplicateRate && state.last !== undefined) {
      this.stats.duplicates++;
      return { topic: state.topic, key: state.key, value: state.last, eventMicros, kind: 'duplicate' };
    }
    if (state.sequence > 0 && random.next() < this.#options.gapRate) {
      const skipped = 1 + random.int(this.#options.maxGap);
      state.sequence += skipped;
      this.stats.gaps++;
      this.stats.missing += skipped;
    }
    state.sequence++;
    state.cents = Math.max(1, state.cents + random.int(5) - 2);
    const value = this.#options.encoderFor(state.topic).encode(this.#trade(state, eventMicros));
    state.last = value;
    this.stats.trades++;
    return { topic: state.topic, key: state.key, value, eventMicros, kind: 'trade' };
  }

  /** `count` messages, lazily. */
  *take(count: number): Generator<SyntheticMessage> {
    for (let i = 0; i < count; i++) yield this.next();
  }

  #trade(state: SymbolState, eventMicros: number): TradeV2 {
    const random = this.#random;
    const crypto = state.assetClass === 'CRYPTO';
    return {
      message_id: random.uuid(),
      trade_id: String(state.sequence),
      symbol: state.symbol,
      exchange: this.#options.exchange,
      asset_class: state.assetClass,
      timestamp: eventMicros,
      price: state.cents * CENT,
      // Crypto: 0.00001 .. 2 in steps of 0.00001; equities: 1 .. 500 whole shares.
      quantity: crypto ? (1 + random.int(200_000)) * 1_000 : (1 + random.int(500)) * 100_000_000,
      currency: state.currency,
      side: random.next() < 0.5 ? 'BUY' : 'SELL',
      trade_conditions: [],
      source_sequence: state.sequence,
      ingestion_timestamp: eventMicros + 100 + random.int(1_900),
      platform_sequence: null,
      vendor_data: null,
    };
  }

  #poisonValue(kind: PoisonKind, state: SymbolState, eventMicros: number): Buffer {
    const trade = { ...this.#trade(state, eventMicros), source_sequence: null };
    const encoder = this.#options.encoderFor(state.topic);
    switch (kind) {
      case 'bad-magic':
      case 'unknown-schema':
      case 'truncated':
        return corruptFrame(kind, encoder.encode(trade), 0.1 + 0.8 * this.#random.next());
      case 'decimal-scale':
        // At scale 10 the last two digits are non-zero: scale 8 cannot hold the price.
        return Buffer.from(
          this.#options.decimalScaleEncoder!.encode({ ...trade, price: state.cents * 100 * CENT + 37 }),
        );
      case 'decimal-overflow':
        return Buffer.from(encoder.encode({ ...trade, price: 10n ** 18n }));
      case 'negative-quantity':
        return Buffer.from(encoder.encode({ ...trade, quantity: -trade.quantity }));
      case 'too-short':
        return Buffer.from([0, 0, 0]);
      case 'empty':
        return Buffer.alloc(0);
    }
  }

  /** Slots of 100 ms event time, each with its share of the rate (times an exponential load when bursty), spread evenly. */
  #nextEventTime(): number {
    while (this.#slotLeft === 0) {
      this.#slotStart += SLOT_MICROS;
      const { rate, burstiness } = this.#options;
      const load = burstiness === 0 ? 1 : 1 - burstiness + burstiness * this.#random.exponential();
      const share = this.#carry + (rate * SLOT_MICROS * load) / 1_000_000;
      this.#slotLeft = Math.floor(share);
      this.#carry = share - this.#slotLeft;
      this.#slotStep = this.#slotLeft > 0 ? SLOT_MICROS / this.#slotLeft : 0;
      this.#slotNext = 0;
    }
    this.#slotLeft--;
    return this.#slotStart + Math.floor(this.#slotStep * this.#slotNext++);
  }
}

function validate(options: SyntheticOptions): void {
  const fraction = (name: string, value: number) => {
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
  };
  if (options.symbols.length === 0) throw new RangeError('at least one symbol is needed');
  if (!(options.rate > 0) || !Number.isFinite(options.rate))
    throw new RangeError(`rate must be a positive number, got ${options.rate}`);
  fraction('burstiness', options.burstiness);
  fraction('gapRate', options.gapRate);
  fraction('duplicateRate', options.duplicateRate);
  if (!Number.isInteger(options.maxGap) || options.maxGap < 1)
    throw new RangeError(`maxGap must be a positive integer, got ${options.maxGap}`);
  let total = options.duplicateRate;
  for (const [kind, rate] of Object.entries(options.poison)) {
    fraction(`poison ${kind}`, rate ?? 0);
    total += rate ?? 0;
  }
  if (total > 1) throw new RangeError(`poison and duplicate rates add up to ${total}, more than 1`);
  if ((options.poison['decimal-scale'] ?? 0) > 0 && !options.decimalScaleEncoder)
    throw new RangeError('decimal-scale poison needs decimalScaleEncoder');
}
