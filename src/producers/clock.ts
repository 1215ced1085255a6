import { sleep } from '../util/retry.js';

/** Time as producers see it; tests pass a clock whose sleep advances time instead of waiting. */
export interface Clock {
  /** Wall time in epoch milliseconds (fractional). */
  nowMs(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  nowMs: () => performance.timeOrigin + performance.now(),
  sleep,
};

/** Epoch microseconds, exact as a safe integer until the year 2255. */
export function nowMicros(clock: Clock): number {
  return Math.round(clock.nowMs() * 1000);
}
