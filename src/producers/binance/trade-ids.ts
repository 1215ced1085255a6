/** How a trade id relates to the last one seen for its symbol. */
export type TradeIdVerdict =
  | { kind: 'first' }
  | { kind: 'next' }
  /** Ids firstMissing..lastMissing never arrived (yet); `afterReconnect` when the jump spans a reconnect. */
  | { kind: 'gap'; firstMissing: number; lastMissing: number; missing: number; afterReconnect: boolean }
  /** At or below the last id: a late (out-of-order) or repeated trade. */
  | { kind: 'late' }
  | { kind: 'repeat' };

/**
 * Per-symbol trade id continuity of one feed, across its reconnects: Binance trade ids increase
 * by one per trade, so a jump is trades the feed missed (most often while it was disconnected).
 * Late trades do not move the high-water mark, so a gap is reported once.
 */
export class TradeIdTracker {
  readonly #last = new Map<string, number>();
  readonly #sinceReconnect = new Set<string>();

  /** The next trade of every known symbol is the first since a reconnect. */
  reconnected(): void {
    for (const symbol of this.#last.keys()) this.#sinceReconnect.add(symbol);
  }

  observe(symbol: string, id: number): TradeIdVerdict {
    const last = this.#last.get(symbol);
    if (last === undefined) {
      this.#last.set(symbol, id);
      return { kind: 'first' };
    }
    if (id === last) return { kind: 'repeat' };
    if (id < last) return { kind: 'late' };
    const afterReconnect = this.#sinceReconnect.delete(symbol);
    this.#last.set(symbol, id);
    if (id === last + 1) return { kind: 'next' };
    return {
      kind: 'gap',
      firstMissing: last + 1,
      lastMissing: id - 1,
      missing: id - last - 1,
      afterReconnect,
    };
  }

  lastId(symbol: string): number | undefined {
    return this.#last.get(symbol);
  }
}
