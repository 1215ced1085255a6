import { describe, expect, it } from 'vitest';
import { ConfigError, K2Error } from '../../src/errors/index.js';
import {
  assess,
  type BreakerChange,
  behaviourFor,
  CircuitBreaker,
  CircuitOpenError,
  defaultHealthThresholds,
  ErrorWindow,
  healthLevels,
  heapRatio,
  levelRank,
  validateThresholds,
} from '../../src/health/index.js';

const t = defaultHealthThresholds;

describe('health policy', () => {
  it('reads every signal as healthy until it is observed', () => {
    expect(assess({ breakers: {} }, t)).toEqual({ demanded: 'NOMINAL', holds: 'NOMINAL', reasons: [] });
  });

  it('demands the worst level over the enter thresholds and holds the worst over the exit thresholds', () => {
    expect(assess({ consumerLag: 10_000, breakers: {} }, t).demanded).toBe('DEGRADED');
    expect(assess({ consumerLag: 100_000, breakers: {} }, t).demanded).toBe('CRITICAL');
    expect(assess({ consumerLag: 7_000, breakers: {} }, t)).toMatchObject({
      demanded: 'NOMINAL',
      holds: 'DEGRADED',
    });
    expect(assess({ consumerLag: 60_000, breakers: {} }, t)).toMatchObject({
      demanded: 'DEGRADED',
      holds: 'CRITICAL',
    });
    const mixed = assess(
      { consumerLag: 20_000, errorRatio: 0.2, commitLatencyMs: 100, heapRatio: 0.5, breakers: {} },
      t,
    );
    expect(mixed.demanded).toBe('CRITICAL');
    expect(mixed.reasons).toEqual([
      { signal: 'consumerLag', value: 20_000, threshold: 10_000, level: 'DEGRADED' },
      { signal: 'errorRatio', value: 0.2, threshold: 0.1, level: 'CRITICAL' },
    ]);
  });

  it('counts an open or probing circuit at its dependency level and a closed one not at all', () => {
    expect(assess({ breakers: { registry: 'open', s3: 'closed' } }, t)).toMatchObject({
      demanded: 'DEGRADED',
      holds: 'DEGRADED',
    });
    expect(assess({ breakers: { dlq: 'half_open' } }, t).demanded).toBe('CRITICAL');
  });

  it('validates the hysteresis bands', () => {
    expect(validateThresholds(t)).toBe(t);
    const inverted = structuredClone(t);
    inverted.signals.heapRatio.critical = { enter: 0.5, exit: 0.4 };
    expect(() => validateThresholds(inverted)).toThrow(ConfigError);
    const noBand = structuredClone(t);
    noBand.signals.errorRatio.degraded = { enter: 0.01, exit: 0.02 };
    expect(() => validateThresholds(noBand)).toThrow(/health.errorRatio/);
  });

  it('ranks the levels for the gauge', () => {
    expect(healthLevels.map(levelRank)).toEqual([0, 1, 2, 3]);
  });
});

describe('level behaviour', () => {
  it('gives each level its knobs', () => {
    expect(healthLevels.map((level) => [level, behaviourFor(level)])).toEqual([
      [
        'NOMINAL',
        {
          fetch: true,
          pauseLowPriority: false,
          commitIntervalMultiplier: 1,
          drain: false,
          ready: true,
        },
      ],
      [
        'DEGRADED',
        {
          fetch: true,
          pauseLowPriority: false,
          commitIntervalMultiplier: 2,
          drain: false,
          ready: true,
        },
      ],
      [
        'CRITICAL',
        {
          fetch: true,
          pauseLowPriority: true,
          commitIntervalMultiplier: 4,
          drain: false,
          ready: true,
        },
      ],
      [
        'SHUTDOWN',
        {
          fetch: false,
          pauseLowPriority: true,
          commitIntervalMultiplier: 1,
          drain: true,
          ready: false,
        },
      ],
    ]);
  });

  it('cannot be changed by a caller', () => {
    expect(Object.isFrozen(behaviourFor('NOMINAL'))).toBe(true);
    // Lag does not stretch commits (the size trigger commits anyway); a slow catalog does.
    const lag = { signal: 'consumerLag', value: 200_000, threshold: 100_000, level: 'CRITICAL' } as const;
    expect(behaviourFor('CRITICAL', [lag]).commitIntervalMultiplier).toBe(1);
    expect(behaviourFor('CRITICAL', [lag]).pauseLowPriority).toBe(true);
    const catalog = { dependency: 'catalog', state: 'open', level: 'CRITICAL' } as const;
    expect(behaviourFor('CRITICAL', [lag, catalog]).commitIntervalMultiplier).toBe(4);
  });
});

function breaker(policy = { failureThreshold: 3, coolDownMs: 1_000, halfOpenProbes: 1 }) {
  let now = 0;
  const changes: Omit<BreakerChange, 'dependency'>[] = [];
  const b = new CircuitBreaker('s3', {
    policy,
    now: () => now,
    onChange: ({ from, to, at }) => changes.push({ from, to, at }),
  });
  return { b, changes, advance: (ms: number) => (now += ms) };
}

const down = () => Promise.reject(new K2Error('K2_S3_DOWN', 'connection refused', { retriable: true }));

describe('circuit breaker', () => {
  it('opens after the threshold of consecutive failures; a success in between resets the count', () => {
    const { b, changes } = breaker();
    for (const outcome of ['failure', 'failure', 'success', 'failure', 'failure'] as const)
      b.settle(b.acquire()!, outcome);
    expect(b.state).toBe('closed');
    b.settle(b.acquire()!, 'failure');
    expect(b.state).toBe('open');
    expect(b.acquire()).toBeUndefined();
    expect(changes).toEqual([{ from: 'closed', to: 'open', at: 0 }]);
  });

  it('lets one probe through after the cool-down: success closes, failure reopens for another cool-down', () => {
    const { b, changes, advance } = breaker({ failureThreshold: 1, coolDownMs: 1_000, halfOpenProbes: 1 });
    b.settle(b.acquire()!, 'failure');
    advance(999);
    expect(b.acquire()).toBeUndefined();
    advance(1);
    const probe = b.acquire()!;
    expect(probe.probe).toBe(true);
    expect(b.state).toBe('half_open');
    expect(b.acquire()).toBeUndefined();
    b.settle(probe, 'failure');
    expect(b.state).toBe('open');
    advance(500);
    expect(b.acquire()).toBeUndefined();
    advance(500);
    b.settle(b.acquire()!, 'success');
    expect(b.state).toBe('closed');
    expect(changes.map((c) => `${c.from}>${c.to}@${c.at}`)).toEqual([
      'closed>open@0',
      'open>half_open@1000',
      'half_open>open@1000',
      'open>half_open@2000',
      'half_open>closed@2000',
    ]);
  });

  it('ignores late outcomes of calls let through before the state changed', () => {
    const { b, advance } = breaker({ failureThreshold: 1, coolDownMs: 10, halfOpenProbes: 1 });
    const early = b.acquire()!;
    b.settle(b.acquire()!, 'failure');
    b.settle(early, 'success');
    expect(b.state).toBe('open');
    advance(10);
    const probe = b.acquire()!;
    b.settle(early, 'failure');
    b.settle(probe, 'success');
    expect(b.state).toBe('closed');
  });

  it('runs tasks, refusing with a retriable CircuitOpenError without calling while open', async () => {
    const { b } = breaker();
    for (let i = 0; i < 3; i++) await expect(b.run(down)).rejects.toMatchObject({ code: 'K2_S3_DOWN' });
    let called = false;
    const refused = b.run(async () => {
      called = true;
    });
    await expect(refused).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(refused).rejects.toMatchObject({ retriable: true, dependency: 's3' });
    expect(called).toBe(false);
  });

  it('does not count permanent errors (bad input) against the dependency', async () => {
    const { b } = breaker({ failureThreshold: 1, coolDownMs: 10, halfOpenProbes: 1 });
    await expect(b.run(() => Promise.reject(new K2Error('K2_BAD', 'no such key')))).rejects.toThrow(
      'no such key',
    );
    expect(b.state).toBe('closed');
    await expect(b.run(() => Promise.resolve(42))).resolves.toBe(42);
  });
});

describe('error window', () => {
  it('gives errors per record over the window, nothing below the minimum sample, and forgets old buckets', () => {
    let now = 0;
    const w = new ErrorWindow({ windowMs: 10_000, buckets: 10, minRecords: 100, now: () => now });
    w.record(50, 5);
    expect(w.ratio()).toBeUndefined();
    now += 3_000;
    w.record(150, 0);
    expect(w.ratio()).toBeCloseTo(5 / 200);
    now += 7_500; // the first bucket (5 errors) has left the window, the second has not
    expect(w.ratio()).toBe(0);
    w.record(850, 100);
    expect(w.ratio()).toBeCloseTo(0.1);
    now += 60_000;
    expect(w.ratio()).toBeUndefined();
  });
});

describe('process sample', () => {
  it('reads the heap ratio between 0 and 1', () => {
    const ratio = heapRatio();
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(1);
  });
});
