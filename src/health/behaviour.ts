import type { HealthLevel } from './levels.js';

/** The knobs the actors read at each health level. */
export interface LevelBehaviour {
  /** Fetch from Kafka at all. */
  fetch: boolean;
  /** Pause topics configured as low priority (resume when the level drops). */
  pauseLowPriority: boolean;
  /** Multiplies the target records per decode/encode batch. */
  batchSizeMultiplier: number;
  /** Multiplies the Iceberg commit interval (and the size trigger): fewer, larger commits. */
  commitIntervalMultiplier: number;
  /** Finish in-flight batches, commit them, commit offsets, release partitions. */
  drain: boolean;
  /** Report ready on /readyz. */
  ready: boolean;
}

const behaviours: Record<HealthLevel, Readonly<LevelBehaviour>> = {
  NOMINAL: {
    fetch: true,
    pauseLowPriority: false,
    batchSizeMultiplier: 1,
    commitIntervalMultiplier: 1,
    drain: false,
    ready: true,
  },
  // Behind or slow: amortise per-task and per-commit costs over more records to catch up.
  DEGRADED: {
    fetch: true,
    pauseLowPriority: false,
    batchSizeMultiplier: 2,
    commitIntervalMultiplier: 2,
    drain: false,
    ready: true,
  },
  // Batches do not grow further (memory may be the cause); commits spread further (the catalog may
  // be); low-priority topics wait so high-priority data keeps landing.
  CRITICAL: {
    fetch: true,
    pauseLowPriority: true,
    batchSizeMultiplier: 2,
    commitIntervalMultiplier: 4,
    drain: false,
    ready: true,
  },
  SHUTDOWN: {
    fetch: false,
    pauseLowPriority: true,
    batchSizeMultiplier: 1,
    commitIntervalMultiplier: 1,
    drain: true,
    ready: false,
  },
};

for (const behaviour of Object.values(behaviours)) Object.freeze(behaviour);

export function behaviourFor(level: HealthLevel): Readonly<LevelBehaviour> {
  return behaviours[level];
}
