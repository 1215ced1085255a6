import { ConfigError } from '../errors/index.js';

/**
 * How the tracker reads a symbol's exchange sequence numbers. The thresholds are counts of
 * sequence numbers (bigint: exchange sequences are 64-bit) or of partition offsets.
 */
export interface SequencePolicy {
  /** A forward jump missing at least this many sequences is a large gap; fewer is a small gap. */
  readonly largeGap: bigint;
  /** A record this far or further below the highest sequence (and not filling an open gap) starts a new session. */
  readonly resetDrop: bigint;
  /** A record at or below this value restarts the session ... */
  readonly restartAt: bigint;
  /** ... when the highest sequence is at least this far above it; closer, it is a duplicate or late. */
  readonly restartDrop: bigint;
  /** Open gaps kept per symbol; beyond it the oldest is closed as permanently missing. */
  readonly maxOpenGaps: number;
  /** Symbols tracked per partition; beyond it the least recently seen is forgotten. */
  readonly maxSymbols: number;
  /** An open gap still unfilled this many partition offsets after its detection is closed as missing; null never. */
  readonly gapExpiryOffsets: bigint | null;
}

export const defaultSequencePolicy: SequencePolicy = Object.freeze({
  largeGap: 100n,
  resetDrop: 1_000_000n,
  restartAt: 1n,
  restartDrop: 1_000n,
  maxOpenGaps: 32,
  maxSymbols: 10_000,
  gapExpiryOffsets: 100_000n,
});

/** Fills in defaults and checks the cross-field rules; throws a ConfigError naming the key. */
export function sequencePolicy(overrides: Partial<SequencePolicy> = {}): SequencePolicy {
  const policy = { ...defaultSequencePolicy, ...overrides };
  const positive = (key: keyof SequencePolicy, value: bigint | number | null) => {
    if (value !== null && value <= 0)
      throw new ConfigError(`sequence.${key}`, `must be positive, got ${value}`);
  };
  positive('largeGap', policy.largeGap);
  positive('resetDrop', policy.resetDrop);
  positive('restartDrop', policy.restartDrop);
  positive('gapExpiryOffsets', policy.gapExpiryOffsets);
  for (const key of ['maxOpenGaps', 'maxSymbols'] as const) {
    if (!Number.isSafeInteger(policy[key]) || policy[key] < 1) {
      throw new ConfigError(`sequence.${key}`, `must be a positive integer, got ${policy[key]}`);
    }
  }
  if (policy.restartAt < 0n) throw new ConfigError('sequence.restartAt', 'must not be negative');
  if (policy.restartDrop > policy.resetDrop) {
    throw new ConfigError('sequence.restartDrop', 'must not exceed sequence.resetDrop');
  }
  return Object.freeze(policy);
}
