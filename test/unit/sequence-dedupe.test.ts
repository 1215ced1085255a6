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

  it('restores from a snapshot and then decides exactly as the original', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `m-${(i * 7919) % 160}`);
    const original = new MessageIdWindow(64);
    for (const id of ids.slice(0, 300)) original.admit(id);
    const snapshot = original.snapshot();
    expect(snapshot.count).toBe(64);
    // Through a copy of its bytes, as a checkpoint file gives them back.
    const restored = new MessageIdWindow(64);
    restored.restore({ ...snapshot, bytes: new Uint8Array(snapshot.bytes) });
    expect(ids.slice(300).map((id) => restored.admit(id))).toEqual(
      ids.slice(300).map((id) => original.admit(id)),
    );
    expect(restored.snapshot()).toEqual(original.snapshot());
  });

  it('snapshots ids oldest first as length-prefixed UTF-8, long and non-ASCII ids included', () => {
    const long = `long-${'x'.repeat(300)}`; // a two-byte length, kept beside the slots
    const window = new MessageIdWindow(3);
    for (const id of ['gone', 'é', '', long]) window.admit(id);
    const snapshot = window.snapshot();
    expect(MessageIdWindow.ids(snapshot)).toEqual(['é', '', long]);
    expect([...snapshot.bytes.subarray(0, 4)]).toEqual([2, 0xc3, 0xa9, 0]);
    expect([...snapshot.bytes.subarray(4, 6)]).toEqual([(305 & 0x7f) | 0x80, 305 >> 7]);
    expect(snapshot.bytes.length).toBe(4 + 2 + 305);
    const restored = new MessageIdWindow(3);
    restored.restore(snapshot);
    expect([restored.has(long), restored.has('é'), restored.has(''), restored.has('gone')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('restores the version-1 form older checkpoints hold (ids as strings)', () => {
    const window = new MessageIdWindow(2);
    window.restore({ version: 1, capacity: 3, ids: ['a', 'b', 'c'] });
    expect(MessageIdWindow.ids(window.snapshot())).toEqual(['b', 'c']);
    expect(window.admit('c')).toBe(false);
    expect(window.admit('a')).toBe(true);
  });

  it('keeps the newest ids when restoring into a smaller window', () => {
    const big = new MessageIdWindow(4);
    for (const id of ['a', 'b', 'c', 'd']) big.admit(id);
    const small = new MessageIdWindow(2);
    small.restore(big.snapshot());
    expect(MessageIdWindow.ids(small.snapshot())).toEqual(['c', 'd']);
  });

  it('rejects a bad capacity and a malformed snapshot, keeping what it held', () => {
    expect(() => new MessageIdWindow(0)).toThrow(RangeError);
    const window = new MessageIdWindow(4);
    window.admit('kept');
    const bad = (bytes: number[], count: number) =>
      window.restore({ version: 2, capacity: 4, count, bytes: new Uint8Array(bytes) });
    expect(() => window.restore({ version: 3 } as never)).toThrow(K2Error);
    expect(() => bad([3, 0x61, 0x62], 1)).toThrow(/runs past the end/);
    expect(() => bad([0x80], 1)).toThrow(/bad length at byte 0/);
    expect(() => bad([1, 0x61], 2)).toThrow(/holds 1 ids, says 2/);
    expect(window.has('kept')).toBe(true);
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
      expect(MessageIdWindow.ids(window.snapshot()).toSorted()).toEqual([...reference.ids].toSorted());
      for (const id of reference.ids) expect(window.has(id)).toBe(true);
    }
  });
});
