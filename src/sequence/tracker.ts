import { type SequenceEvent, type SequenceKind, type SequenceObservation, sequenceKinds } from './events.js';
import { type SequencePolicy, sequencePolicy } from './policy.js';
import { decodeSymbol, encodeSymbol, type SequenceSnapshot, SequenceSnapshotError } from './snapshot.js';
import {
  advance,
  closeAllGaps,
  completeThrough,
  type StepContext,
  type SymbolState,
  startSymbol,
} from './symbol.js';

export interface TrackedRecord {
  exchange: string;
  symbol: string;
  /** The exchange's sequence (source_sequence); null when the source has none. */
  sequence: bigint | null;
  /** The record's offset in the tracker's partition. */
  offset: bigint;
}

export interface SymbolWatermark {
  exchange: string;
  symbol: string;
  completeThrough: bigint;
  highest: bigint;
  openGaps: number;
}

/** What happened since the previous `takeProgress()`: counts by kind and the symbols that moved. */
export interface SequenceProgress {
  counts: Record<SequenceKind, number>;
  watermarks: SymbolWatermark[];
}

export interface SequenceTrackerOptions {
  policy?: Partial<SequencePolicy>;
  /** Epoch milliseconds for `detectedAt`; never used for decisions, so a replay decides the same. */
  now?: () => number;
}

const noEvents: readonly SequenceEvent[] = Object.freeze([]);
/** Shared results for records that raise no event: the common case allocates nothing. */
const plain = Object.fromEntries(
  sequenceKinds.map((kind) => [
    kind,
    Object.freeze({ kind, duplicate: kind === 'duplicate', events: noEvents }),
  ]),
) as Record<SequenceKind, SequenceObservation>;

/**
 * Sequence tracking for the records of one topic-partition, per (exchange, symbol). One tracker per
 * partition, because its snapshot must correspond to that partition's committed offset. No I/O.
 */
export class SequenceTracker {
  readonly policy: SequencePolicy;
  /** Least recently seen first (Map insertion order, refreshed on each record). */
  private symbols = new Map<string, SymbolState>();
  private latest: SymbolState | undefined;
  private moved = new Set<SymbolState>();
  private counts = zeroCounts();
  private pending: SequenceEvent[] | null = null;
  private readonly step: StepContext;
  /** exchange → symbol → map key, so a record's lookup builds no string (bounded like `symbols`). */
  private keys = new Map<string, Map<string, string>>();
  private keyCount = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
    options: SequenceTrackerOptions = {},
  ) {
    this.policy = sequencePolicy(options.policy);
    this.step = {
      topic,
      partition,
      offset: 0n,
      policy: this.policy,
      now: options.now ?? Date.now,
      emit: (event) => {
        if (this.pending) this.pending.push(event);
        else this.pending = [event];
      },
    };
  }

  /** Classifies one record; records must be observed in offset order. */
  observe(record: TrackedRecord): SequenceObservation {
    const kind = this.classify(record);
    this.counts[kind]++;
    const events = this.pending;
    if (events === null) return plain[kind];
    this.pending = null;
    return { kind, duplicate: kind === 'duplicate', events };
  }

  private classify({ exchange, symbol, sequence, offset }: TrackedRecord): SequenceKind {
    if (sequence === null) return 'unsequenced';
    this.step.offset = offset;
    const key = this.keyOf(exchange, symbol);
    const state = this.symbols.get(key);
    if (state === undefined) {
      this.track(key, startSymbol(exchange, symbol, sequence));
      return 'first';
    }
    if (state !== this.latest) {
      this.symbols.delete(key);
      this.symbols.set(key, state);
      this.latest = state;
    }
    this.moved.add(state);
    return advance(state, sequence, this.step);
  }

  private keyOf(exchange: string, symbol: string): string {
    let bySymbol = this.keys.get(exchange);
    if (bySymbol === undefined) {
      bySymbol = new Map();
      this.keys.set(exchange, bySymbol);
    }
    let key = bySymbol.get(symbol);
    if (key === undefined) {
      if (this.keyCount >= 2 * this.policy.maxSymbols) {
        this.keys.clear();
        this.keyCount = 0;
        return this.keyOf(exchange, symbol);
      }
      key = exchange + '\u0000' + symbol;
      bySymbol.set(symbol, key);
      this.keyCount++;
    }
    return key;
  }

  private track(key: string, state: SymbolState): void {
    if (this.symbols.size >= this.policy.maxSymbols) {
      const [oldestKey, oldest] = this.symbols.entries().next().value!;
      closeAllGaps(oldest, 'symbol_evicted', this.step);
      this.symbols.delete(oldestKey);
      this.moved.delete(oldest);
    }
    this.symbols.set(key, state);
    this.latest = state;
    this.moved.add(state);
  }

  completeThrough(exchange: string, symbol: string): bigint | undefined {
    const state = this.symbols.get(exchange + '\u0000' + symbol);
    return state && completeThrough(state);
  }

  watermarks(): SymbolWatermark[] {
    return [...this.symbols.values()].map(watermarkOf);
  }

  get symbolCount(): number {
    return this.symbols.size;
  }

  /** Counts since the last call and the watermarks of the symbols seen since then; resets both. */
  takeProgress(): SequenceProgress {
    const progress = { counts: this.counts, watermarks: [...this.moved].map(watermarkOf) };
    this.counts = zeroCounts();
    this.moved.clear();
    return progress;
  }

  snapshot(): SequenceSnapshot {
    return {
      version: 1,
      topic: this.topic,
      partition: this.partition,
      symbols: [...this.symbols.values()].map(encodeSymbol),
    };
  }

  /**
   * Replaces the state with a snapshot of the same topic-partition. A snapshot holding more symbols
   * than `maxSymbols` keeps the most recently seen ones, silently.
   */
  restore(snapshot: SequenceSnapshot): void {
    if (snapshot?.version !== 1 || !Array.isArray(snapshot.symbols)) {
      throw new SequenceSnapshotError(`unsupported version ${JSON.stringify(snapshot?.version)}`);
    }
    if (snapshot.topic !== this.topic || snapshot.partition !== this.partition) {
      throw new SequenceSnapshotError(
        `taken for ${snapshot.topic}/${snapshot.partition}, restoring into ${this.topic}/${this.partition}`,
      );
    }
    const symbols = new Map<string, SymbolState>();
    for (const entry of snapshot.symbols.slice(-this.policy.maxSymbols)) {
      const state = decodeSymbol(entry);
      symbols.set(state.exchange + '\u0000' + state.symbol, state);
    }
    this.symbols = symbols;
    this.latest = [...symbols.values()].at(-1);
    this.moved.clear();
    this.counts = zeroCounts();
  }
}

function watermarkOf(state: SymbolState): SymbolWatermark {
  return {
    exchange: state.exchange,
    symbol: state.symbol,
    completeThrough: completeThrough(state),
    highest: state.highest,
    openGaps: state.gaps.length,
  };
}

function zeroCounts(): Record<SequenceKind, number> {
  return Object.fromEntries(sequenceKinds.map((kind) => [kind, 0])) as Record<SequenceKind, number>;
}
