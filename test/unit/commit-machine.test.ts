import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, waitFor } from 'xstate';
import { type CommitCycleOutcome, commitMachine } from '../../src/actors/commit.machine.js';

/** A commit machine whose cycles wait until the test releases them. */
function controlled() {
  const releases: (() => void)[] = [];
  let cycles = 0;
  const machine = commitMachine.provide({
    actors: {
      cycle: fromPromise<CommitCycleOutcome, { table: string }>(
        () =>
          new Promise((resolve) => {
            cycles++;
            releases.push(() => resolve({ committed: 1, records: 1 }));
          }),
      ),
    },
  });
  const actor = createActor(machine, { input: { table: 't', intervalMs: 60_000, retryDelayMs: 10 } }).start();
  return { actor, releases, cycles: () => cycles };
}

describe('CommitActor', () => {
  it('runs one more cycle when a drain arrives during a cycle, then ends', async () => {
    const { actor, releases, cycles } = controlled();
    actor.send({ type: 'flush.now' });
    expect(cycles()).toBe(1);
    actor.send({ type: 'drain' });
    releases.shift()!();
    await waitFor(actor, () => cycles() === 2);
    expect(actor.getSnapshot().value).toBe('committing');
    releases.shift()!();
    await waitFor(actor, (s) => s.status === 'done');
    expect(cycles()).toBe(2);
  });

  it('drains with a single cycle when nothing was running', async () => {
    const { actor, releases, cycles } = controlled();
    actor.send({ type: 'drain' });
    releases.shift()!();
    await waitFor(actor, (s) => s.status === 'done');
    expect(cycles()).toBe(1);
  });

  it('takes a new interval from the health level and waits with it', async () => {
    const { actor, cycles } = controlled();
    actor.send({ type: 'configure', intervalMs: 20 });
    expect(actor.getSnapshot().context.intervalMs).toBe(20);
    await waitFor(actor, () => cycles() === 1, { timeout: 1_000 });
  });
});
