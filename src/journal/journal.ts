import type { JournalEntry, JournalEvent } from './events.js';

export type JournalListener = (entry: JournalEntry) => void;

export interface JournalOptions {
  now?: () => number;
  /** Listeners allowed at once: projections, the store, a test or two. */
  maxSubscribers?: number;
  /** Entries kept in memory for /status and debugging. */
  retain?: number;
  /** A listener threw; the journal carries on with the others. */
  onListenerError?: (error: unknown, entry: JournalEntry) => void;
}

/**
 * The in-process event journal: stamps each event with a sequence number and time and hands it to
 * every listener synchronously, in order. Listeners must be cheap (projections) or queue the entry
 * themselves (the PostgreSQL store); nothing here waits on I/O.
 */
export class Journal {
  private seq = 0;
  private readonly listeners = new Set<JournalListener>();
  private readonly ring: (JournalEntry | undefined)[];
  private ringNext = 0;
  /** Entries appended by listeners while dispatching, delivered after the current one to keep order. */
  private readonly queued: JournalEntry[] = [];
  private dispatching = false;
  private readonly now: () => number;
  private readonly maxSubscribers: number;

  constructor(private readonly options: JournalOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxSubscribers = options.maxSubscribers ?? 16;
    this.ring = new Array(options.retain ?? 1_000);
  }

  append<E extends JournalEvent>(event: E): JournalEntry<E> {
    const entry: JournalEntry<E> = { seq: ++this.seq, at: new Date(this.now()).toISOString(), event };
    if (this.ring.length > 0) {
      this.ring[this.ringNext] = entry;
      this.ringNext = (this.ringNext + 1) % this.ring.length;
    }
    this.queued.push(entry);
    if (!this.dispatching) this.dispatch();
    return entry;
  }

  subscribe(listener: JournalListener): () => void {
    if (this.listeners.size >= this.maxSubscribers) {
      throw new RangeError(`journal: more than ${this.maxSubscribers} subscribers`);
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last entries, oldest first. */
  recent(limit = this.ring.length): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (let i = 0; i < this.ring.length; i++) {
      const entry = this.ring[(this.ringNext + i) % this.ring.length];
      if (entry) out.push(entry);
    }
    return out.slice(-limit);
  }

  get lastSeq(): number {
    return this.seq;
  }

  private dispatch(): void {
    this.dispatching = true;
    try {
      for (let entry = this.queued.shift(); entry; entry = this.queued.shift()) {
        for (const listener of this.listeners) {
          try {
            listener(entry);
          } catch (error) {
            this.options.onListenerError?.(error, entry);
          }
        }
      }
    } finally {
      this.dispatching = false;
    }
  }
}
