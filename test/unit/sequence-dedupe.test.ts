import { describe, expect, it } from 'vitest';
import { K2Error } from '../../src/errors/index.js';
import { MessageIdWindow } from '../../src/sequence/index.js';

describe('message id window', () => {
  it('admits a new id once and refuses it again while it is in the window', () => {
    const window = new MessageIdWindow(3);
    expect(['a', 'b', 'a', 'c', 'b'].map((id) => window.admit(id))).toEqual([true, true, false, true, false]);
    expect(window.size).toBe(3);
  });

  it('forgets the oldest id beyond its capacity, first in first out, without refreshing on a repeat', () => {
    const window = new MessageIdWindow(2);
    window.admit('a');
    window.admit('b');
    expect(window.admit('a')).toBe(false);
    window.admit('c');
    expect(window.has('a')).toBe(false);
    expect(window.admit('a')).toBe(true);
    expect([window.has('b'), window.has('c')]).toEqual([false, true]);
  });

  it('restores from a JSON snapshot and then decides exactly as the original', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `m-${(i * 7919) % 160}`);
    const original = new MessageIdWindow(64);
    for (const id of ids.slice(0, 300)) original.admit(id);
    const snapshot = JSON.parse(JSON.stringify(original.snapshot()));
    expect(snapshot.ids).toHaveLength(64);
    const restored = new MessageIdWindow(64);
    restored.restore(snapshot);
    expect(ids.slice(300).map((id) => restored.admit(id))).toEqual(
      ids.slice(300).map((id) => original.admit(id)),
    );
    expect(restored.snapshot()).toEqual(original.snapshot());
  });

  it('keeps the newest ids when restoring into a smaller window', () => {
    const big = new MessageIdWindow(4);
    for (const id of ['a', 'b', 'c', 'd']) big.admit(id);
    const small = new MessageIdWindow(2);
    small.restore(big.snapshot());
    expect(small.snapshot().ids).toEqual(['c', 'd']);
  });

  it('rejects a bad capacity and a malformed snapshot', () => {
    expect(() => new MessageIdWindow(0)).toThrow(RangeError);
    expect(() => new MessageIdWindow(2).restore({ version: 2 } as never)).toThrow(K2Error);
  });
});
