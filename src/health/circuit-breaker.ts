import { isRetriable, K2Error } from '../errors/index.js';

export const dependencies = ['s3', 'catalog', 'registry', 'dlq'] as const;
export type Dependency = (typeof dependencies)[number];
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerPolicy {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before letting a probe through. */
  coolDownMs: number;
  /** Calls let through at once while half open; one success closes the circuit, one failure reopens it. */
  halfOpenProbes: number;
}

export const defaultBreakerPolicy: BreakerPolicy = {
  failureThreshold: 5,
  coolDownMs: 10_000,
  halfOpenProbes: 1,
};

export interface BreakerChange {
  dependency: Dependency;
  from: BreakerState;
  to: BreakerState;
  /** Epoch milliseconds from the breaker's clock. */
  at: number;
}

export interface BreakerOptions {
  policy?: Partial<BreakerPolicy>;
  now?: () => number;
  onChange?: (change: BreakerChange) => void;
  /** Which errors count against the dependency; by default the retriable ones (bad input is not an outage). */
  isFailure?: (error: unknown) => boolean;
}

/** Permission for one call, handed back with its outcome. */
export interface Permit {
  readonly probe: boolean;
  readonly generation: number;
}

/** A call refused because the dependency's circuit is open. Retriable: the circuit will probe again. */
export class CircuitOpenError extends K2Error {
  constructor(readonly dependency: Dependency) {
    super('K2_CIRCUIT_OPEN', `${dependency}: circuit open, call not attempted`, { retriable: true });
  }
}

/**
 * Closed / open / half-open around one dependency. No timers: the clock is read when a call asks
 * for a permit, so an open circuit turns half open on the first call after the cool-down.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probesInFlight = 0;
  /** Bumped on every state change, so outcomes of calls let through in an earlier state are ignored. */
  private generation = 0;
  private readonly policy: BreakerPolicy;
  private readonly now: () => number;

  constructor(
    readonly dependency: Dependency,
    private readonly options: BreakerOptions = {},
  ) {
    this.policy = { ...defaultBreakerPolicy, ...options.policy };
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** A permit for one call, or undefined while the circuit refuses calls. */
  acquire(): Permit | undefined {
    if (this.current === 'open' && this.now() - this.openedAt >= this.policy.coolDownMs)
      this.move('half_open');
    if (this.current === 'closed') return { probe: false, generation: this.generation };
    if (this.current === 'half_open' && this.probesInFlight < this.policy.halfOpenProbes) {
      this.probesInFlight++;
      return { probe: true, generation: this.generation };
    }
    return undefined;
  }

  settle(permit: Permit, outcome: 'success' | 'failure'): void {
    if (permit.generation !== this.generation) return;
    if (permit.probe) {
      this.probesInFlight--;
      this.move(outcome === 'success' ? 'closed' : 'open');
    } else if (outcome === 'success') {
      this.failures = 0;
    } else if (++this.failures >= this.policy.failureThreshold) {
      this.move('open');
    }
  }

  /** Runs `task` under the breaker; refuses with CircuitOpenError without calling it while open. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const permit = this.acquire();
    if (!permit) throw new CircuitOpenError(this.dependency);
    try {
      const result = await task();
      this.settle(permit, 'success');
      return result;
    } catch (error) {
      this.settle(permit, (this.options.isFailure ?? isRetriable)(error) ? 'failure' : 'success');
      throw error;
    }
  }

  private move(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.generation++;
    this.failures = 0;
    this.probesInFlight = 0;
    if (to === 'open') this.openedAt = this.now();
    this.options.onChange?.({ dependency: this.dependency, from, to, at: this.now() });
  }
}
