import { ConfigError } from '../errors/index.js';
import type { BreakerState, Dependency } from './circuit-breaker.js';
import { type HealthLevel, worse } from './levels.js';

/** The latest value of each signal; a signal not observed yet counts as healthy. */
export interface Observations {
  /** Messages behind the high watermarks, summed over the assigned partitions. */
  consumerLag?: number;
  /** Errors per processed record over the error window (0..1). */
  errorRatio?: number;
  /** Iceberg commit latency in milliseconds (p99 over a window, or the last commit). */
  commitLatencyMs?: number;
  /** Used heap over the heap limit (0..1). */
  heapRatio?: number;
  breakers: Partial<Record<Dependency, BreakerState>>;
}

export type Signal = 'consumerLag' | 'errorRatio' | 'commitLatencyMs' | 'heapRatio';
export const signals: readonly Signal[] = ['consumerLag', 'errorRatio', 'commitLatencyMs', 'heapRatio'];

/** Entering a level needs `enter`; leaving it needs the signal below `exit` (≤ enter): the hysteresis band. */
export interface Band {
  enter: number;
  exit: number;
}

export interface HealthThresholds {
  signals: Record<Signal, { degraded: Band; critical: Band }>;
  /** The level a dependency forces while its circuit is not closed (open or probing). */
  breakers: Record<Dependency, 'DEGRADED' | 'CRITICAL'>;
}

export const defaultHealthThresholds: HealthThresholds = {
  signals: {
    consumerLag: { degraded: { enter: 10_000, exit: 5_000 }, critical: { enter: 100_000, exit: 50_000 } },
    errorRatio: { degraded: { enter: 0.01, exit: 0.005 }, critical: { enter: 0.1, exit: 0.05 } },
    commitLatencyMs: { degraded: { enter: 5_000, exit: 2_000 }, critical: { enter: 30_000, exit: 15_000 } },
    heapRatio: { degraded: { enter: 0.75, exit: 0.65 }, critical: { enter: 0.9, exit: 0.8 } },
  },
  // Without S3 or the catalog nothing lands; without the DLQ producer a batch with a poison message
  // cannot commit. Decoding survives a registry outage on cached schemas.
  breakers: { s3: 'CRITICAL', catalog: 'CRITICAL', dlq: 'CRITICAL', registry: 'DEGRADED' },
};

/** Why a level is demanded: one signal over a threshold, or one circuit not closed. */
export type Reason =
  | { signal: Signal; value: number; threshold: number; level: HealthLevel }
  | { dependency: Dependency; state: BreakerState; level: HealthLevel };

export interface Assessment {
  /** The level the enter thresholds demand: escalate to it at once. */
  demanded: HealthLevel;
  /** The level the exit thresholds still hold: de-escalation goes no lower. */
  holds: HealthLevel;
  /** What demands a level above NOMINAL. */
  reasons: Reason[];
}

/** Observations to levels. Pure; the HealthActor adds the dwell time. */
export function assess(observations: Observations, thresholds: HealthThresholds): Assessment {
  let demanded: HealthLevel = 'NOMINAL';
  let holds: HealthLevel = 'NOMINAL';
  const reasons: Reason[] = [];
  for (const signal of signals) {
    const value = observations[signal];
    if (value === undefined) continue;
    const { degraded, critical } = thresholds.signals[signal];
    const enter = value >= critical.enter ? 'CRITICAL' : value >= degraded.enter ? 'DEGRADED' : 'NOMINAL';
    const hold = value >= critical.exit ? 'CRITICAL' : value >= degraded.exit ? 'DEGRADED' : 'NOMINAL';
    demanded = worse(demanded, enter);
    holds = worse(holds, hold);
    if (enter !== 'NOMINAL') {
      reasons.push({
        signal,
        value,
        threshold: (enter === 'CRITICAL' ? critical : degraded).enter,
        level: enter,
      });
    }
  }
  for (const [dependency, state] of Object.entries(observations.breakers) as [Dependency, BreakerState][]) {
    if (state === 'closed') continue;
    const level = thresholds.breakers[dependency];
    demanded = worse(demanded, level);
    holds = worse(holds, level);
    reasons.push({ dependency, state, level });
  }
  return { demanded, holds, reasons };
}

/** True when some dependency circuit is open or probing. */
export function dependencyDown(observations: Observations): boolean {
  return Object.values(observations.breakers).some((state) => state !== 'closed');
}

/** Checks the bands: exit ≤ enter, and DEGRADED's band below CRITICAL's. Throws a ConfigError naming the signal. */
export function validateThresholds(thresholds: HealthThresholds): HealthThresholds {
  for (const signal of signals) {
    const { degraded, critical } = thresholds.signals[signal];
    const key = `health.${signal}`;
    for (const band of [degraded, critical]) {
      if (!(band.exit <= band.enter) || band.exit < 0)
        throw new ConfigError(key, 'exit must be in [0, enter]');
    }
    if (degraded.enter > critical.enter || degraded.exit > critical.exit) {
      throw new ConfigError(key, 'DEGRADED thresholds must not exceed CRITICAL ones');
    }
  }
  return thresholds;
}
