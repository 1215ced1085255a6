import { describe, expect, it } from 'vitest';
import { K2Error } from '../../src/errors/index.js';
import { MessageIdWindow } from '../../src/sequence/index.js';
import { seededRandom } from '../support/columns.js';

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

  it('decides exactly as a Set of strings over a long random stream: repeats, collisions, wide and long ids, any offset', () => {
    /** The plain definition: the last `capacity` distinct ids, first in first out. */
    class Reference {
      readonly ring: (string | undefined)[];
      readonly ids = new Set<string>();
      next = 0;
      constructor(readonly capacity: number) {
        this.ring = new Array(capacity);
      }
      admit(id: string): boolean {
        if (this.ids.has(id)) return false;
        const evicted = this.ring[this.next];
        if (evicted !== undefined) this.ids.delete(evicted);
        this.ring[this.next] = id;
        this.next = (this.next + 1) % this.capacity;
        this.ids.add(id);
        return true;
      }
    }
    const random = seededRandom(7);
    const idOf = (n: number) => {
      const kind = n % 13;
      if (kind === 0) return `é-${n}-${'ü'.repeat(n % 40)}`; // non-ASCII, widens the slots
      if (kind === 1) return `long-${n}-${'x'.repeat(130 + (n % 50))}`; // beyond the slot width: side map
      if (kind === 2) return ''; // empty id
      return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
    };
    for (const capacity of [1, 2, 3, 17, 256]) {
      const window = new MessageIdWindow(capacity);
      const reference = new Reference(capacity);
      const encoder = new TextEncoder();
      for (let i = 0; i < 20_000; i++) {
        // Mostly recent ids (repeats inside and just outside the window), some far ones.
        const n =
          random() < 0.7 ? Math.floor(random() * capacity * 3) + (i >> 4) : Math.floor(random() * 1e6);
        const id = idOf(n);
        const expected = reference.admit(id);
        // Through admitBytes from inside a larger buffer, as accept() reads a column.
        const bytes = encoder.encode(`pre${id}post`);
        const admitted = window.admitBytes(bytes, 3, bytes.length - 4);
        if (admitted !== expected)
          throw new Error(`capacity ${capacity}, step ${i}: ${id} → ${admitted}, expected ${expected}`);
      }
      expect(window.size).toBe(reference.ids.size);
      expect(window.snapshot().ids.toSorted()).toEqual([...reference.ids].toSorted());
      for (const id of reference.ids) expect(window.has(id)).toBe(true);
    }
  });
});
