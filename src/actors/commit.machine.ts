import { assign, fromPromise, setup } from 'xstate';

export interface CommitCycleOutcome {
  committed: number;
  records: number;
}

export type CommitEvent =
  | { type: 'flush.now' }
  | { type: 'drain' }
  /** A new commit interval (the health level's multiplier); the wait in progress restarts with it. */
  | { type: 'configure'; intervalMs: number };

export interface CommitInput {
  table: string;
  intervalMs: number;
  /** Backoff after a failed cycle; nothing is dropped, the next cycle retries the same data. */
  retryDelayMs: number;
}

/**
 * CommitActor, one per table: every interval (or on `flush.now` when buffers fill) it runs one
 * cycle — seal the partitions' rows, write files, commit the snapshot, then the Kafka offsets.
 * The cycle itself is the injected `cycle` actor; this machine decides when it runs.
 */
export const commitMachine = setup({
  types: {
    context: {} as CommitInput & {
      failures: number;
      lastError: string | null;
      draining: boolean;
      /** The running cycle started after the drain was asked for: it takes everything buffered. */
      drainCycle: boolean;
    },
    events: {} as CommitEvent,
    input: {} as CommitInput,
  },
  actors: {
    cycle: fromPromise<CommitCycleOutcome, { table: string }>(async () => ({ committed: 0, records: 0 })),
  },
  delays: {
    interval: ({ context }) => context.intervalMs,
    backoff: ({ context }) => Math.min(context.retryDelayMs * 2 ** Math.min(context.failures - 1, 5), 10_000),
  },
  guards: {
    draining: ({ context }) => context.draining,
    drainCycle: ({ context }) => context.drainCycle,
  },
}).createMachine({
  id: 'commit',
  context: ({ input }) => ({ ...input, failures: 0, lastError: null, draining: false, drainCycle: false }),
  initial: 'waiting',
  on: {
    configure: { actions: assign({ intervalMs: ({ event }) => event.intervalMs }) },
  },
  states: {
    waiting: {
      after: { interval: 'committing' },
      on: {
        'flush.now': 'committing',
        drain: { target: 'committing', actions: assign({ draining: true }) },
        configure: {
          target: 'waiting',
          reenter: true,
          actions: assign({ intervalMs: ({ event }) => event.intervalMs }),
        },
      },
    },
    committing: {
      entry: assign({ drainCycle: ({ context }) => context.draining }),
      on: { drain: { actions: assign({ draining: true }) } },
      invoke: {
        src: 'cycle',
        input: ({ context }) => ({ table: context.table }),
        onDone: [
          { guard: 'drainCycle', target: 'drained', actions: assign({ failures: 0, lastError: null }) },
          // Asked to drain while this cycle ran: rows accepted since its seal need one more.
          {
            guard: 'draining',
            target: 'committing',
            reenter: true,
            actions: assign({ failures: 0, lastError: null }),
          },
          { target: 'waiting', actions: assign({ failures: 0, lastError: null }) },
        ],
        onError: {
          target: 'backingOff',
          actions: assign({
            failures: ({ context }) => context.failures + 1,
            lastError: ({ event }) =>
              event.error instanceof Error ? event.error.message : String(event.error),
          }),
        },
      },
    },
    backingOff: {
      after: { backoff: 'committing' },
      on: { drain: { actions: assign({ draining: true }) } },
    },
    drained: { type: 'final' },
  },
});
