import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { type HealthInput, healthMachine, type LevelChanged } from '../../src/actors/health.machine.js';
import { ConfigError } from '../../src/errors/index.js';
import { CircuitBreaker, defaultHealthThresholds, type HealthLevel } from '../../src/health/index.js';

const dwellMs = 30_000;

function start(input: HealthInput = {}) {
  const clock = new SimulatedClock();
  const actor = createActor(healthMachine, {
    clock,
    input: { dwellMs, criticalShutdownMs: 600_000, ...input },
  });
  const changes: LevelChanged[] = [];
  actor.on('level.changed', (event) => changes.push(event));
  actor.start();
  const level = () => actor.getSnapshot().context.level;
  const lag = (consumerLag: number) => actor.send({ type: 'observe', observations: { consumerLag } });
  const path = () => changes.map((c) => c.to);
  return { actor, clock, changes, level, lag, path };
}

describe('health actor', () => {
  it('starts NOMINAL and escalates at once when a threshold is crossed', () => {
    const h = start();
    expect(h.level()).toBe('NOMINAL');
    h.lag(9_999);
    expect(h.level()).toBe('NOMINAL');
    h.lag(10_000);
    expect(h.level()).toBe('DEGRADED');
    h.lag(100_000);
    expect(h.level()).toBe('CRITICAL');
    expect(h.changes).toEqual([
      {
        type: 'level.changed',
        from: 'NOMINAL',
        to: 'DEGRADED',
        reasons: [{ signal: 'consumerLag', value: 10_000, threshold: 10_000, level: 'DEGRADED' }],
        shutdownReason: null,
      },
      expect.objectContaining({ from: 'DEGRADED', to: 'CRITICAL' }),
    ]);
  });

  it('jumps straight from NOMINAL to CRITICAL', () => {
    const h = start();
    h.actor.send({ type: 'observe', observations: { heapRatio: 0.95 } });
    expect(h.path()).toEqual(['CRITICAL']);
  });

  it('does not flap while a signal hovers around the enter threshold', () => {
    const h = start();
    for (let i = 0; i < 20; i++) {
      h.lag(i % 2 === 0 ? 11_000 : 9_000);
      h.clock.increment(dwellMs);
    }
    expect(h.path()).toEqual(['DEGRADED']);
  });

  it('drops one level per dwell time once the signal stays below the exit threshold', () => {
    const h = start();
    h.lag(150_000);
    h.lag(1_000);
    h.clock.increment(dwellMs - 1);
    expect(h.level()).toBe('CRITICAL');
    h.clock.increment(1);
    expect(h.level()).toBe('DEGRADED');
    h.clock.increment(dwellMs - 1);
    expect(h.level()).toBe('DEGRADED');
    h.clock.increment(1);
    expect(h.level()).toBe('NOMINAL');
    expect(h.path()).toEqual(['CRITICAL', 'DEGRADED', 'NOMINAL']);
  });

  it('restarts the dwell when the signal rises above the exit threshold again', () => {
    const h = start();
    h.lag(150_000);
    h.lag(1_000);
    h.clock.increment(20_000);
    h.lag(60_000); // below CRITICAL's enter, above its exit: CRITICAL still holds
    h.clock.increment(20_000);
    h.lag(1_000);
    h.clock.increment(dwellMs - 1);
    expect(h.level()).toBe('CRITICAL');
    h.clock.increment(1);
    expect(h.level()).toBe('DEGRADED');
  });

  it('stays DEGRADED while the signal sits between the exit and enter thresholds', () => {
    const h = start();
    h.lag(20_000);
    h.lag(6_000);
    h.clock.increment(10 * dwellMs);
    expect(h.level()).toBe('DEGRADED');
    h.lag(4_999);
    h.clock.increment(dwellMs);
    expect(h.level()).toBe('NOMINAL');
  });

  it('takes the worst of all signals and dependency circuits', () => {
    const h = start();
    h.actor.send({ type: 'breaker.changed', dependency: 'registry', state: 'open' });
    expect(h.level()).toBe('DEGRADED');
    h.actor.send({ type: 'breaker.changed', dependency: 's3', state: 'open' });
    expect(h.level()).toBe('CRITICAL');
    expect(h.changes.at(-1)?.reasons).toEqual([
      { dependency: 'registry', state: 'open', level: 'DEGRADED' },
      { dependency: 's3', state: 'open', level: 'CRITICAL' },
    ]);
    h.actor.send({ type: 'breaker.changed', dependency: 's3', state: 'half_open' });
    h.clock.increment(dwellMs);
    expect(h.level()).toBe('CRITICAL');
    h.actor.send({ type: 'breaker.changed', dependency: 's3', state: 'closed' });
    h.clock.increment(dwellMs);
    expect(h.level()).toBe('DEGRADED');
    h.actor.send({ type: 'breaker.changed', dependency: 'registry', state: 'closed' });
    h.clock.increment(dwellMs);
    expect(h.level()).toBe('NOMINAL');
  });

  it('follows a real circuit breaker fed through breaker.changed', () => {
    const h = start();
    let now = 0;
    const breaker = new CircuitBreaker('catalog', {
      policy: { failureThreshold: 2, coolDownMs: 1_000 },
      now: () => now,
      onChange: ({ dependency, to }) => h.actor.send({ type: 'breaker.changed', dependency, state: to }),
    });
    for (let i = 0; i < 2; i++) breaker.settle(breaker.acquire()!, 'failure');
    expect(h.level()).toBe('CRITICAL');
    now += 1_000;
    breaker.settle(breaker.acquire()!, 'success');
    h.clock.increment(dwellMs);
    h.clock.increment(dwellMs);
    expect(h.path()).toEqual(['CRITICAL', 'DEGRADED', 'NOMINAL']);
  });

  it('shuts down on a shutdown event from any level, and stops there', () => {
    for (const lag of [0, 20_000, 200_000]) {
      const h = start();
      h.lag(lag);
      h.actor.send({ type: 'shutdown', reason: 'SIGTERM' });
      expect(h.actor.getSnapshot().value).toBe('SHUTDOWN');
      expect(h.actor.getSnapshot().status).toBe('done');
      expect(h.actor.getSnapshot().output).toEqual({ shutdownReason: 'SIGTERM' });
      expect(h.changes.at(-1)).toMatchObject({ to: 'SHUTDOWN', shutdownReason: 'SIGTERM' });
      h.lag(0);
      h.clock.increment(10 * dwellMs);
      expect(h.level()).toBe('SHUTDOWN');
    }
  });

  it('shuts down when CRITICAL lasts the limit with a dependency circuit open', () => {
    const h = start({ criticalShutdownMs: 120_000 });
    h.actor.send({ type: 'breaker.changed', dependency: 's3', state: 'open' });
    h.clock.increment(60_000);
    h.actor.send({ type: 'breaker.changed', dependency: 's3', state: 'half_open' });
    h.actor.send({ type: 'breaker.changed', dependency: 's3', state: 'open' });
    h.clock.increment(59_999);
    expect(h.level()).toBe('CRITICAL');
    h.clock.increment(1);
    expect(h.level()).toBe('SHUTDOWN');
    expect(h.changes.at(-1)?.shutdownReason).toBe('critical with a dependency down');
  });

  it('restarts the shutdown clock when the dependency recovers in between, and never shuts down on signals alone', () => {
    const h = start({ criticalShutdownMs: 120_000 });
    h.lag(500_000);
    h.actor.send({ type: 'breaker.changed', dependency: 'catalog', state: 'open' });
    h.clock.increment(100_000);
    h.actor.send({ type: 'breaker.changed', dependency: 'catalog', state: 'closed' });
    h.clock.increment(100_000);
    h.actor.send({ type: 'breaker.changed', dependency: 'catalog', state: 'open' });
    h.clock.increment(100_000);
    expect(h.level()).toBe('CRITICAL');
    h.actor.send({ type: 'breaker.changed', dependency: 'catalog', state: 'closed' });
    h.clock.increment(3_600_000);
    expect(h.level()).toBe('CRITICAL');
  });

  it('never shuts down by itself when criticalShutdownMs is null', () => {
    const h = start({ criticalShutdownMs: null });
    h.actor.send({ type: 'breaker.changed', dependency: 's3', state: 'open' });
    h.clock.increment(24 * 3_600_000);
    expect(h.level()).toBe('CRITICAL');
  });

  it('exposes the level in its state value, with the recovery phase', () => {
    const h = start();
    h.lag(20_000);
    expect(h.actor.getSnapshot().value).toEqual({ DEGRADED: 'holding' });
    h.lag(0);
    expect(h.actor.getSnapshot().value).toEqual({ DEGRADED: 'calming' });
    const levels: HealthLevel[] = ['NOMINAL', 'DEGRADED', 'CRITICAL', 'SHUTDOWN'];
    expect(levels.every((l) => h.actor.getSnapshot().matches(l) === (l === 'DEGRADED'))).toBe(true);
  });

  it('fails to start with inconsistent thresholds', () => {
    const thresholds = structuredClone(defaultHealthThresholds);
    thresholds.signals.consumerLag.degraded = { enter: 10, exit: 20 };
    const errors: unknown[] = [];
    const actor = createActor(healthMachine, { input: { thresholds } });
    actor.subscribe({ error: (error) => errors.push(error) });
    actor.start();
    expect(actor.getSnapshot().status).toBe('error');
    expect(errors).toEqual([expect.any(ConfigError)]);
  });
});
