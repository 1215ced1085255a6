import type { HealthLevel } from './levels.js';
import type { Reason } from './policy.js';

/** The knobs the actors read at each health level. */
export interface LevelBehaviour {
  /** Fetch from Kafka at all. */
  fetch: boolean;
  /** Pause topics configured as low priority (resume when the level drops). */
  pauseLowPriority: boolean;
  /**
   * Multiplies the Iceberg commit interval: fewer snapshots while slow or behind. The size trigger
   * (K2_COMMIT_ROWS) is not multiplied: it and the backpressure limit bound memory at every level.
   */
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
    commitIntervalMultiplier: 1,
    drain: false,
    ready: true,
  },
  // Behind or slow: fewer, larger commits amortise the per-commit cost over more records to catch up.
  DEGRADED: {
    fetch: true,
    pauseLowPriority: false,
    commitIntervalMultiplier: 2,
    drain: false,
    ready: true,
  },
  // Commits spread further (the catalog may be the cause) but buffers stay bounded by the same
  // backpressure limit; low-priority topics wait so high-priority data keeps landing.
  CRITICAL: {
    fetch: true,
    pauseLowPriority: true,
    commitIntervalMultiplier: 4,
    drain: false,
    ready: true,
  },
  SHUTDOWN: {
    fetch: false,
    pauseLowPriority: true,
    commitIntervalMultiplier: 1,
    drain: true,
    ready: false,
  },
};

for (const behaviour of Object.values(behaviours)) Object.freeze(behaviour);

/**
 * What a level asks of the actors. Given the level's reasons, commits stretch only when the commit
 * side is the cause (commit latency, the catalog or S3): lag or errors never slow commits, since
 * under lag the size trigger commits anyway and a stretched interval only delays the tail.
 */
export function behaviourFor(level: HealthLevel, reasons?: readonly Reason[]): Readonly<LevelBehaviour> {
  const behaviour = behaviours[level];
  if (reasons === undefined || behaviour.commitIntervalMultiplier === 1) return behaviour;
  const commitSide = reasons.some((reason) =>
    'signal' in reason
      ? reason.signal === 'commitLatencyMs'
      : reason.dependency === 'catalog' || reason.dependency === 's3',
  );
  return commitSide ? behaviour : Object.freeze({ ...behaviour, commitIntervalMultiplier: 1 });
}
