import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { partitionMachine } from '../../src/actors/partition.machine.js';

describe('PartitionActor', () => {
  it('restores, consumes, pauses under backpressure, resumes, and ends when revoked', () => {
    const actor = createActor(partitionMachine, { input: { topic: 't', partition: 2 } }).start();
    expect(actor.getSnapshot().value).toBe('restoring');
    actor.send({ type: 'paused' }); // nothing flows before the restore
    expect(actor.getSnapshot().value).toBe('restoring');
    actor.send({ type: 'restored', nextOffset: '42', checkpoint: true, alreadyQuarantined: 1 });
    expect(actor.getSnapshot().value).toBe('consuming');
    expect(actor.getSnapshot().context).toMatchObject({ nextOffset: '42', restoredFromCheckpoint: true });
    actor.send({ type: 'paused' });
    expect(actor.getSnapshot().value).toBe('paused');
    actor.send({ type: 'resumed' });
    actor.send({ type: 'revoked' });
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('ends in replaying when its rows must be read again', () => {
    const actor = createActor(partitionMachine, { input: { topic: 't', partition: 0 } }).start();
    actor.send({ type: 'restored', nextOffset: '0', checkpoint: false, alreadyQuarantined: 0 });
    actor.send({ type: 'replay', fromOffset: '7' });
    expect(actor.getSnapshot()).toMatchObject({
      value: 'replaying',
      status: 'done',
      context: { nextOffset: '7' },
    });
  });
});
