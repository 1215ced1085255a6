import { assign, enqueueActions, not, setup } from 'xstate';
import type { BreakerState, Dependency } from '../health/circuit-breaker.js';
import { type HealthLevel, levelRank } from '../health/levels.js';
import {
  assess,
  defaultHealthThresholds,
  dependencyDown,
  type HealthThresholds,
  type Observations,
  type Reason,
  validateThresholds,
} from '../health/policy.js';

export interface HealthInput {
  thresholds?: HealthThresholds;
  /** How long the signals must stay below the exit thresholds before the level drops one step. */
  dwellMs?: number;
  /** CRITICAL with a dependency circuit not closed for this long ends in SHUTDOWN; null never. */
  criticalShutdownMs?: number | null;
}

export interface HealthContext {
  thresholds: HealthThresholds;
  dwellMs: number;
  criticalShutdownMs: number | null;
  observations: Observations;
  level: HealthLevel;
  reasons: Reason[];
  shutdownReason: string | null;
}

export type HealthEvent =
  | { type: 'observe'; observations: Partial<Omit<Observations, 'breakers'>> }
  | { type: 'breaker.changed'; dependency: Dependency; state: BreakerState }
  /** SIGTERM, SIGINT or an operator. */
  | { type: 'shutdown'; reason: string };

export interface LevelChanged {
  type: 'level.changed';
  from: HealthLevel;
  to: HealthLevel;
  reasons: Reason[];
  shutdownReason: string | null;
}

export const defaultDwellMs = 30_000;
export const defaultCriticalShutdownMs = 10 * 60_000;

/**
 * The process health level. Escalates as soon as an enter threshold is crossed; drops one level only
 * after the signals have stayed below the exit thresholds for the dwell time. SHUTDOWN comes from a
 * `shutdown` event, or from CRITICAL lasting `criticalShutdownMs` with a dependency circuit not closed.
 */
export const healthMachine = setup({
  types: {} as {
    context: HealthContext;
    events: HealthEvent;
    input: HealthInput;
    emitted: LevelChanged;
    output: { shutdownReason: string | null };
  },
  actions: {
    recordObservations: assign({
      observations: ({ context, event }) =>
        event.type === 'observe' ? { ...context.observations, ...event.observations } : context.observations,
    }),
    recordBreaker: assign({
      observations: ({ context, event }) =>
        event.type === 'breaker.changed'
          ? {
              ...context.observations,
              breakers: { ...context.observations.breakers, [event.dependency]: event.state },
            }
          : context.observations,
    }),
    recordShutdownReason: assign({ shutdownReason: (_, params: { reason: string }) => params.reason }),
    enterLevel: enqueueActions(({ context, enqueue }, params: { level: HealthLevel }) => {
      if (context.level === params.level) return;
      const { reasons } = assess(context.observations, context.thresholds);
      enqueue.assign({ level: params.level, reasons });
      enqueue.emit({
        type: 'level.changed',
        from: context.level,
        to: params.level,
        reasons,
        shutdownReason: params.level === 'SHUTDOWN' ? context.shutdownReason : null,
      });
    }),
  },
  guards: {
    demands: ({ context }, params: { level: HealthLevel }) =>
      levelRank(assess(context.observations, context.thresholds).demanded) >= levelRank(params.level),
    calmBelow: ({ context }, params: { level: HealthLevel }) =>
      levelRank(assess(context.observations, context.thresholds).holds) < levelRank(params.level),
    holds: ({ context }, params: { level: HealthLevel }) =>
      levelRank(assess(context.observations, context.thresholds).holds) >= levelRank(params.level),
    dependencyDown: ({ context }) =>
      context.criticalShutdownMs !== null && dependencyDown(context.observations),
  },
  delays: {
    dwell: ({ context }) => context.dwellMs,
    criticalLimit: ({ context }) => context.criticalShutdownMs ?? 0,
  },
}).createMachine({
  id: 'health',
  context: ({ input }) => ({
    thresholds: validateThresholds(input.thresholds ?? defaultHealthThresholds),
    dwellMs: input.dwellMs ?? defaultDwellMs,
    criticalShutdownMs:
      input.criticalShutdownMs === undefined ? defaultCriticalShutdownMs : input.criticalShutdownMs,
    observations: { breakers: {} },
    level: 'NOMINAL',
    reasons: [],
    shutdownReason: null,
  }),
  initial: 'NOMINAL',
  on: {
    observe: { actions: 'recordObservations' },
    'breaker.changed': { actions: 'recordBreaker' },
    shutdown: {
      target: '.SHUTDOWN',
      actions: { type: 'recordShutdownReason', params: ({ event }) => ({ reason: event.reason }) },
    },
  },
  states: {
    NOMINAL: {
      entry: { type: 'enterLevel', params: { level: 'NOMINAL' } },
      always: [
        { guard: { type: 'demands', params: { level: 'CRITICAL' } }, target: 'CRITICAL' },
        { guard: { type: 'demands', params: { level: 'DEGRADED' } }, target: 'DEGRADED' },
      ],
    },
    DEGRADED: {
      entry: { type: 'enterLevel', params: { level: 'DEGRADED' } },
      always: { guard: { type: 'demands', params: { level: 'CRITICAL' } }, target: 'CRITICAL' },
      initial: 'holding',
      states: {
        holding: {
          always: { guard: { type: 'calmBelow', params: { level: 'DEGRADED' } }, target: 'calming' },
        },
        calming: {
          always: { guard: { type: 'holds', params: { level: 'DEGRADED' } }, target: 'holding' },
          after: { dwell: '#health.NOMINAL' },
        },
      },
    },
    CRITICAL: {
      entry: { type: 'enterLevel', params: { level: 'CRITICAL' } },
      type: 'parallel',
      states: {
        recovery: {
          initial: 'holding',
          states: {
            holding: {
              always: { guard: { type: 'calmBelow', params: { level: 'CRITICAL' } }, target: 'calming' },
            },
            calming: {
              always: { guard: { type: 'holds', params: { level: 'CRITICAL' } }, target: 'holding' },
              after: { dwell: '#health.DEGRADED' },
            },
          },
        },
        dependencies: {
          initial: 'up',
          states: {
            up: { always: { guard: 'dependencyDown', target: 'down' } },
            down: {
              always: { guard: not('dependencyDown'), target: 'up' },
              after: {
                criticalLimit: {
                  target: '#health.SHUTDOWN',
                  actions: {
                    type: 'recordShutdownReason',
                    params: { reason: 'critical with a dependency down' },
                  },
                },
              },
            },
          },
        },
      },
    },
    SHUTDOWN: {
      type: 'final',
      entry: { type: 'enterLevel', params: { level: 'SHUTDOWN' } },
    },
  },
  output: ({ context }) => ({ shutdownReason: context.shutdownReason }),
});
