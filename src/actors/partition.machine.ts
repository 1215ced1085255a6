import { assign, setup } from 'xstate';

export interface PartitionInput {
  topic: string;
  partition: number;
}

export type PartitionEvent =
  /** The checkpoint and the DLQ partition were read: records flow from `nextOffset`. */
  | { type: 'restored'; nextOffset: string; checkpoint: boolean; alreadyQuarantined: number }
  /** Backpressure: the process holds K2_MAX_BUFFERED_ROWS rows; this partition stops fetching. */
  | { type: 'paused' }
  | { type: 'resumed' }
  /** Its rows can no longer be written (an offset conflict, a failed encode): read again from the table's offset. */
  | { type: 'replay'; fromOffset: string }
  /** The group gave the partition to another member, or the process drains. */
  | { type: 'revoked' };

/**
 * PartitionActor, one per assigned topic-partition: its lifecycle as the journal, the inspector
 * and /status see it. restoring (checkpoint, DLQ scan) → consuming ⇄ paused (backpressure) →
 * revoked; a replay ends the actor, and the partition's next batch starts a new one from the
 * table's offsets and checkpoint. The work itself (decode, dedupe, buffers) is the ingest
 * service's; this machine is the state it is in.
 */
export const partitionMachine = setup({
  types: {
    context: {} as PartitionInput & {
      nextOffset: string | null;
      restoredFromCheckpoint: boolean;
      alreadyQuarantined: number;
    },
    events: {} as PartitionEvent,
    input: {} as PartitionInput,
  },
}).createMachine({
  id: 'partition',
  context: ({ input }) => ({
    ...input,
    nextOffset: null,
    restoredFromCheckpoint: false,
    alreadyQuarantined: 0,
  }),
  initial: 'restoring',
  on: {
    revoked: '.revoked',
    replay: { target: '.replaying', actions: assign({ nextOffset: ({ event }) => event.fromOffset }) },
  },
  states: {
    restoring: {
      on: {
        restored: {
          target: 'consuming',
          actions: assign({
            nextOffset: ({ event }) => event.nextOffset,
            restoredFromCheckpoint: ({ event }) => event.checkpoint,
            alreadyQuarantined: ({ event }) => event.alreadyQuarantined,
          }),
        },
      },
    },
    consuming: { on: { paused: 'paused' } },
    paused: { on: { resumed: 'consuming' } },
    replaying: { type: 'final' },
    revoked: { type: 'final' },
  },
});
