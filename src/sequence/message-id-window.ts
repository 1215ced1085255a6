import { K2Error } from '../errors/index.js';

export interface MessageIdWindowSnapshot {
  version: 1;
  capacity: number;
  /** Oldest first. */
  ids: string[];
}

/**
 * The last `capacity` message ids of a partition, for dropping a message id seen again (a producer
 * retry). First in, first out: a repeat does not refresh an id, so the window is exactly the last
 * `capacity` distinct ids admitted, whatever the traffic, and a replay decides the same.
 */
export class MessageIdWindow {
  private readonly ring: (string | undefined)[];
  private readonly ids = new Set<string>();
  private next = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`message id window capacity must be a positive integer, got ${capacity}`);
    }
    this.ring = new Array(capacity);
  }

  /** Remembers `id` and returns true, or returns false when it is already in the window. */
  admit(id: string): boolean {
    if (this.ids.has(id)) return false;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.ids.delete(evicted);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.ids.add(id);
    return true;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }

  snapshot(): MessageIdWindowSnapshot {
    const ids: string[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const id = this.ring[(this.next + i) % this.capacity];
      if (id !== undefined) ids.push(id);
    }
    return { version: 1, capacity: this.capacity, ids };
  }

  /** Replaces the window; a snapshot larger than this window keeps its newest ids. */
  restore(snapshot: MessageIdWindowSnapshot): void {
    if (snapshot?.version !== 1 || !Array.isArray(snapshot.ids)) {
      throw new K2Error('K2_DEDUPE_SNAPSHOT_INVALID', 'message id window snapshot: unsupported or malformed');
    }
    this.ring.fill(undefined);
    this.ids.clear();
    this.next = 0;
    for (const id of snapshot.ids.slice(-this.capacity)) this.admit(id);
  }
}
