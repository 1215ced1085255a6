import type { Clock } from './clock.js';
import type { Micros } from './records.js';

/**
 * The wall time at which an event is due: the first event anchors the schedule, so a slow send
 * never accumulates lag (the next items are simply due already).
 */
export class Pacer {
  readonly #clock: Clock;
  readonly #speed: number;
  #anchor: { eventMicros: number; wallMs: number } | undefined;

  constructor(clock: Clock, speed: number) {
    if (!(speed > 0)) throw new RangeError(`speed must be positive, got ${speed}`);
    this.#clock = clock;
    this.#speed = speed;
  }

  dueMs(eventMicros: Micros): number {
    if (this.#speed === Number.POSITIVE_INFINITY) return Number.NEGATIVE_INFINITY;
    const event = Number(eventMicros);
    this.#anchor ??= { eventMicros: event, wallMs: this.#clock.nowMs() };
    return this.#anchor.wallMs + (event - this.#anchor.eventMicros) / 1000 / this.#speed;
  }
}

export interface PacedReplayOptions<T> {
  clock: Clock;
  /** Event time per wall time: 1 is the original pace, 60 a minute a second, Infinity as fast as possible. */
  speed: number;
  /** Items due within this many milliseconds go out now, not after a timer of their own. */
  toleranceMs?: number;
  signal?: AbortSignal;
  /** Largest batch handed to `flush`. */
  batchSize: number;
  eventMicros: (item: T) => Micros;
  /** Takes the batch (it is not reused) and returns when the next one may be handed over. */
  flush: (items: T[]) => Promise<void>;
}

/**
 * Hands items to `flush` in order, in batches, each item no earlier than its due time: the batch
 * so far is flushed before waiting for the next item's time, so nothing sits in a buffer while the
 * replay sleeps. When the signal aborts, no further item is taken and what was taken is flushed.
 * Returns the number of items.
 */
export async function replayPaced<T>(
  items: AsyncIterable<T> | Iterable<T>,
  options: PacedReplayOptions<T>,
): Promise<number> {
  const { clock, batchSize, flush, signal } = options;
  const toleranceMs = options.toleranceMs ?? 5;
  const pacer = new Pacer(clock, options.speed);
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  let batch: T[] = [];
  let count = 0;
  while (!signal?.aborted) {
    const next = await iterator.next();
    if (next.done) break;
    const item = next.value;
    const dueMs = pacer.dueMs(options.eventMicros(item));
    if (dueMs - clock.nowMs() > toleranceMs) {
      if (batch.length > 0) {
        await flush(batch);
        batch = [];
      }
      const remaining = dueMs - clock.nowMs();
      if (remaining > 0) await clock.sleep(remaining, signal).catch(() => undefined);
    }
    batch.push(item);
    count++;
    if (batch.length >= batchSize) {
      await flush(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await flush(batch);
  // Stopped early: let the source close its file.
  if (signal?.aborted) await iterator.return?.();
  return count;
}
