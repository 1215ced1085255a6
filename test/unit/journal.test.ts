import { describe, expect, it } from 'vitest';
import { createActor, createMachine, SimulatedClock, sendTo, setup } from 'xstate';
import { healthMachine } from '../../src/actors/health.machine.js';
import { CircuitBreaker } from '../../src/health/index.js';
import {
  type ActorTransition,
  breakerChanged,
  gapEvent,
  Journal,
  type JournalEntry,
  journalInspector,
  levelChanged,
  sequenceObserved,
  stateValueString,
} from '../../src/journal/index.js';
import { SequenceTracker } from '../../src/sequence/index.js';

const lag = (n: number) =>
  ({ type: 'lag.observed', topic: 't', partition: 0, lag: n, highWatermark: '0' }) as const;

describe('journal', () => {
  it('stamps events with a gapless sequence and the time, and delivers them to every listener in order', () => {
    let now = Date.UTC(2026, 0, 2, 3, 4, 5);
    const journal = new Journal({ now: () => now++ });
    const a: JournalEntry[] = [];
    const b: number[] = [];
    journal.subscribe((e) => a.push(e));
    journal.subscribe((e) => b.push(e.seq));
    journal.append(lag(1));
    journal.append(lag(2));
    expect(a).toEqual([
      { seq: 1, at: '2026-01-02T03:04:05.000Z', event: lag(1) },
      { seq: 2, at: '2026-01-02T03:04:05.001Z', event: lag(2) },
    ]);
    expect(b).toEqual([1, 2]);
    expect(journal.lastSeq).toBe(2);
  });

  it('delivers an event appended by a listener after the current one, so every listener sees one order', () => {
    const journal = new Journal();
    const seen: [string, number][] = [];
    journal.subscribe((e) => {
      seen.push(['first', e.seq]);
      if (e.seq === 1) journal.append(lag(9));
    });
    journal.subscribe((e) => seen.push(['second', e.seq]));
    journal.append(lag(1));
    expect(seen).toEqual([
      ['first', 1],
      ['second', 1],
      ['first', 2],
      ['second', 2],
    ]);
  });

  it('isolates a throwing listener and reports it', () => {
    const errors: unknown[] = [];
    const journal = new Journal({ onListenerError: (error) => errors.push(error) });
    const seen: number[] = [];
    journal.subscribe(() => {
      throw new Error('projection bug');
    });
    journal.subscribe((e) => seen.push(e.seq));
    journal.append(lag(1));
    expect(seen).toEqual([1]);
    expect(errors).toEqual([new Error('projection bug')]);
  });

  it('bounds its subscribers and the entries it retains', () => {
    const journal = new Journal({ maxSubscribers: 1, retain: 2 });
    const unsubscribe = journal.subscribe(() => {});
    expect(() => journal.subscribe(() => {})).toThrow(RangeError);
    unsubscribe();
    journal.subscribe(() => {});
    for (let i = 1; i <= 5; i++) journal.append(lag(i));
    expect(journal.recent().map((e) => e.seq)).toEqual([4, 5]);
    expect(journal.recent(1).map((e) => e.seq)).toEqual([5]);
  });

  it('turns tracker, health and breaker outputs into JSON-safe journal events', () => {
    const tracker = new SequenceTracker('market.crypto.trades', 1, { now: () => 0 });
    tracker.observe({
      exchange: 'BINANCE',
      symbol: 'ETHUSDT',
      sequence: 9_007_199_254_740_993n,
      offset: 10n,
    });
    const { events } = tracker.observe({
      exchange: 'BINANCE',
      symbol: 'ETHUSDT',
      sequence: 9_007_199_254_740_996n,
      offset: 11n,
    });
    expect(gapEvent(events[0]!)).toEqual({
      type: 'gap.detected',
      topic: 'market.crypto.trades',
      partition: 1,
      exchange: 'BINANCE',
      symbol: 'ETHUSDT',
      fromSequence: '9007199254740994',
      toSequence: '9007199254740995',
      size: '2',
      offset: '11',
      kind: 'small',
    });
    expect(sequenceObserved({ topic: 'market.crypto.trades', partition: 1 }, tracker.takeProgress())).toEqual(
      {
        type: 'sequence.observed',
        topic: 'market.crypto.trades',
        partition: 1,
        counts: { first: 1, small_gap: 1 },
        watermarks: [
          {
            exchange: 'BINANCE',
            symbol: 'ETHUSDT',
            completeThrough: '9007199254740993',
            highest: '9007199254740996',
            openGaps: 1,
          },
        ],
      },
    );
    expect(
      levelChanged('health', {
        type: 'level.changed',
        from: 'NOMINAL',
        to: 'CRITICAL',
        reasons: [],
        shutdownReason: null,
      }),
    ).toEqual({
      type: 'level.changed',
      actor: 'health',
      from: 'NOMINAL',
      to: 'CRITICAL',
      reasons: [],
      shutdownReason: null,
    });
    expect(breakerChanged({ dependency: 'dlq', from: 'closed', to: 'open', at: 5 })).toEqual({
      type: 'breaker.changed',
      dependency: 'dlq',
      from: 'closed',
      to: 'open',
    });
    const journal = new Journal();
    const entries: JournalEntry[] = [];
    journal.subscribe((e) => entries.push(e));
    new CircuitBreaker('dlq', {
      policy: { failureThreshold: 1 },
      onChange: (c) => journal.append(breakerChanged(c)),
    }).settle({ probe: false, generation: 0 }, 'failure');
    expect(entries.map((e) => e.event.type)).toEqual(['breaker.changed']);
  });
});

describe('xstate inspection to the journal', () => {
  const transitions = (journal: Journal) => {
    const out: ActorTransition[] = [];
    journal.subscribe(({ event }) => {
      if (event.type === 'actor.transition') out.push(event);
    });
    return out;
  };

  it('journals the health actor state changes, not its context-only updates', () => {
    const journal = new Journal();
    const seen = transitions(journal);
    const clock = new SimulatedClock();
    const actor = createActor(healthMachine, {
      clock,
      input: { dwellMs: 1_000 },
      inspect: journalInspector(journal),
    });
    actor.start();
    actor.send({ type: 'observe', observations: { consumerLag: 1 } });
    actor.send({ type: 'observe', observations: { consumerLag: 20_000 } });
    actor.send({ type: 'observe', observations: { consumerLag: 21_000 } });
    actor.send({ type: 'observe', observations: { consumerLag: 0 } });
    clock.increment(1_000);
    actor.send({ type: 'shutdown', reason: 'SIGTERM' });
    expect(seen.map((t) => [t.machine, t.state, t.event, t.status])).toEqual([
      ['health', 'NOMINAL', 'xstate.init', 'active'],
      ['health', 'DEGRADED.holding', 'observe', 'active'],
      ['health', 'DEGRADED.calming', 'observe', 'active'],
      ['health', 'NOMINAL', 'xstate.after.dwell.health.DEGRADED.calming', 'active'],
      ['health', 'SHUTDOWN', 'shutdown', 'done'],
    ]);
  });

  it('names the sending actor and the child, and reports a stopped child', () => {
    const child = createMachine({
      id: 'partition',
      initial: 'idle',
      states: { idle: { on: { go: 'fetching' } }, fetching: {} },
    });
    const parent = setup({ actors: { child } }).createMachine({
      id: 'supervisor',
      invoke: { src: 'child', id: 'market.crypto.trades-0' },
      initial: 'running',
      states: {
        running: {
          on: {
            kick: { actions: sendTo('market.crypto.trades-0', { type: 'go' }) },
            stop: 'stopped',
          },
        },
        stopped: { type: 'final' },
      },
    });
    const journal = new Journal();
    const seen = transitions(journal);
    const actor = createActor(parent, { id: 'root', inspect: journalInspector(journal) }).start();
    actor.send({ type: 'kick' });
    actor.send({ type: 'stop' });
    expect(seen.map((t) => [t.actorId, t.machine, t.state, t.event, t.status])).toEqual([
      ['market.crypto.trades-0', 'partition', 'idle', 'xstate.init', 'active'],
      ['root', 'supervisor', 'running', 'xstate.init', 'active'],
      ['market.crypto.trades-0', 'partition', 'fetching', 'go', 'active'],
      ['market.crypto.trades-0', 'partition', 'fetching', 'xstate.stop', 'stopped'],
      ['root', 'supervisor', 'stopped', 'stop', 'done'],
    ]);
    expect(seen.find((t) => t.event === 'go')?.source).toBe('root');
    expect(seen.find((t) => t.event === 'stop')?.source).toBeNull();
  });

  it('writes state values as dotted paths with parallel regions in braces', () => {
    expect(stateValueString('NOMINAL')).toBe('NOMINAL');
    expect(stateValueString({ DEGRADED: 'calming' })).toBe('DEGRADED.calming');
    expect(stateValueString({ CRITICAL: { recovery: 'holding', dependencies: { down: 'waiting' } } })).toBe(
      'CRITICAL.{recovery.holding,dependencies.down.waiting}',
    );
  });
});
