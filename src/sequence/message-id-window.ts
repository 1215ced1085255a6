import { K2Error } from '../errors/index.js';
import { hashBytes } from '../util/bytes.js';

/**
 * The window's ids, oldest first, as one byte string: each id is its UTF-8 length as an unsigned
 * LEB128 varint, then its bytes. One buffer instead of a string per id: a checkpoint of four
 * 100,000-id windows was 400,000 strings on the ingest thread's heap at every commit, the largest
 * thing live there after kafkajs's fetch (README, Performance).
 */
export interface MessageIdWindowSnapshot {
  version: 2;
  capacity: number;
  count: number;
  bytes: Uint8Array;
}

/** The form checkpoints written before the byte string held (still restored). */
export interface MessageIdWindowSnapshotV1 {
  version: 1;
  capacity: number;
  /** Oldest first. */
  ids: string[];
}

/** Ids up to this many UTF-8 bytes live in the slot table; longer ones (rare) in a side map. */
const MAX_SLOT_BYTES = 128;
const INITIAL_SLOT_BYTES = 40;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The last `capacity` message ids of a partition, for dropping a message id seen again (a producer
 * retry). First in, first out: a repeat does not refresh an id, so the window is exactly the last
 * `capacity` distinct ids admitted, whatever the traffic, and a replay decides the same.
 *
 * Ids are kept as their UTF-8 bytes in fixed-width slots of one buffer, found through an
 * open-addressing hash table of slot numbers (linear probing, backward-shift deletion): admitting
 * the id of a decoded row reads its bytes straight from the column, with no string and no
 * per-id object. A Set of strings cost the ingest thread ~100 bytes of heap per id (400,000 ids
 * for four partitions) and a string per record to look up, which showed as the largest single
 * item of its profile. Byte equality is string equality here: decoded ids are strict UTF-8.
 */
export class MessageIdWindow {
  /** Slot s holds an id of lengths[s] bytes at bytes[s * width ...], or in `long` when longer than the width allows. */
  #width = INITIAL_SLOT_BYTES;
  #bytes: Uint8Array;
  readonly #lengths: Int32Array;
  readonly #hashes: Int32Array;
  readonly #long = new Map<number, Uint8Array>();
  /** Slot number + 1 per table cell, 0 = empty; at most half full. */
  readonly #table: Int32Array;
  readonly #mask: number;
  #next = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`message id window capacity must be a positive integer, got ${capacity}`);
    }
    this.#bytes = new Uint8Array(capacity * this.#width);
    this.#lengths = new Int32Array(capacity).fill(-1);
    this.#hashes = new Int32Array(capacity);
    const cells = 2 ** Math.ceil(Math.log2(capacity * 2));
    this.#table = new Int32Array(cells);
    this.#mask = cells - 1;
  }

  /** Remembers `id` and returns true, or returns false when it is already in the window. */
  admit(id: string): boolean {
    const bytes = encoder.encode(id);
    return this.admitBytes(bytes, 0, bytes.length);
  }

  /** `admit` for the UTF-8 id at bytes[start, end) (a row of a decoded column), copying it only when new. */
  admitBytes(bytes: Uint8Array, start: number, end: number): boolean {
    const hash = hashBytes(bytes, start, end);
    if (this.#find(bytes, start, end, hash) >= 0) return false;
    const slot = this.#next;
    if (this.#lengths[slot]! >= 0) this.#remove(slot);
    this.#store(slot, bytes, start, end, hash);
    this.#next = (slot + 1) % this.capacity;
    return true;
  }

  has(id: string): boolean {
    const bytes = encoder.encode(id);
    return this.#find(bytes, 0, bytes.length, hashBytes(bytes, 0, bytes.length)) >= 0;
  }

  get size(): number {
    return this.#size;
  }

  snapshot(): MessageIdWindowSnapshot {
    let total = 0;
    for (let slot = 0; slot < this.capacity; slot++) {
      const length = this.#lengths[slot]!;
      if (length >= 0) total += varintSize(length) + length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < this.capacity; i++) {
      const slot = (this.#next + i) % this.capacity;
      const length = this.#lengths[slot]!;
      if (length < 0) continue;
      for (let rest = length; ; rest >>>= 7) {
        if (rest < 0x80) {
          out[at++] = rest;
          break;
        }
        out[at++] = (rest & 0x7f) | 0x80;
      }
      const long = this.#long.get(slot);
      const stored = long ?? this.#bytes;
      const from = long ? 0 : slot * this.#width;
      for (let j = 0; j < length; j++) out[at++] = stored[from + j]!;
    }
    return { version: 2, capacity: this.capacity, count: this.#size, bytes: out };
  }

  /** The ids a snapshot holds, oldest first (for tools and tests; the ingest path never needs strings). */
  static ids(snapshot: MessageIdWindowSnapshot | MessageIdWindowSnapshotV1): string[] {
    if (snapshot.version === 1) return [...snapshot.ids];
    return entries(snapshot).map(([start, end]) => decoder.decode(snapshot.bytes.subarray(start, end)));
  }

  /** Replaces the window; a snapshot larger than this window keeps its newest ids. */
  restore(snapshot: MessageIdWindowSnapshot | MessageIdWindowSnapshotV1): void {
    const v1 = snapshot?.version === 1 && Array.isArray(snapshot.ids) ? snapshot.ids : undefined;
    // Checked whole before anything changes: a malformed snapshot leaves the window as it was.
    const v2 = v1 === undefined ? entries(snapshot as MessageIdWindowSnapshot) : undefined;
    this.#lengths.fill(-1);
    this.#table.fill(0);
    this.#long.clear();
    this.#next = 0;
    this.#size = 0;
    if (v1) for (const id of v1.slice(-this.capacity)) this.admit(id);
    else {
      const { bytes } = snapshot as MessageIdWindowSnapshot;
      for (const [start, end] of v2!.slice(-this.capacity)) this.admitBytes(bytes, start, end);
    }
  }

  /** The table cell holding the id at bytes[start, end), or -1. */
  #find(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const length = end - start;
    for (let cell = hash & this.#mask; ; cell = (cell + 1) & this.#mask) {
      const entry = this.#table[cell]!;
      if (entry === 0) return -1;
      const slot = entry - 1;
      if (
        this.#hashes[slot] === hash &&
        this.#lengths[slot] === length &&
        this.#equals(slot, bytes, start, length)
      )
        return cell;
    }
  }

  #equals(slot: number, bytes: Uint8Array, start: number, length: number): boolean {
    // Only ids longer than MAX_SLOT_BYTES live in `long` (shorter ones widen the slots first).
    const long = length > MAX_SLOT_BYTES ? this.#long.get(slot) : undefined;
    const stored = long ?? this.#bytes;
    const at = long ? 0 : slot * this.#width;
    for (let i = 0; i < length; i++) if (stored[at + i] !== bytes[start + i]) return false;
    return true;
  }

  #store(slot: number, bytes: Uint8Array, start: number, end: number, hash: number): void {
    const length = end - start;
    if (length > this.#width && length <= MAX_SLOT_BYTES) this.#widen(length);
    if (length > this.#width) this.#long.set(slot, bytes.slice(start, end));
    else {
      // Byte by byte: a subarray per admitted id was garbage on the ingest thread, per record.
      const stored = this.#bytes;
      for (let i = 0, at = slot * this.#width; i < length; i++) stored[at + i] = bytes[start + i]!;
    }
    this.#lengths[slot] = length;
    this.#hashes[slot] = hash;
    let cell = hash & this.#mask;
    while (this.#table[cell] !== 0) cell = (cell + 1) & this.#mask;
    this.#table[cell] = slot + 1;
    this.#size++;
  }

  /** Drops the id in `slot` from the table, shifting back the entries its cell was keeping reachable. */
  #remove(slot: number): void {
    const hash = this.#hashes[slot]!;
    let hole = hash & this.#mask;
    while (this.#table[hole] !== slot + 1) hole = (hole + 1) & this.#mask;
    this.#table[hole] = 0;
    for (let cell = (hole + 1) & this.#mask; this.#table[cell] !== 0; cell = (cell + 1) & this.#mask) {
      const home = this.#hashes[this.#table[cell]! - 1]! & this.#mask;
      // The entry at `cell` may move into the hole unless its home lies cyclically in (hole, cell].
      const reachable = hole <= cell ? hole < home && home <= cell : hole < home || home <= cell;
      if (!reachable) {
        this.#table[hole] = this.#table[cell]!;
        this.#table[cell] = 0;
        hole = cell;
      }
    }
    if (this.#lengths[slot]! > MAX_SLOT_BYTES) this.#long.delete(slot);
    this.#lengths[slot] = -1;
    this.#size--;
  }

  /** Re-lays the slots at a width that fits `length` bytes (ids longer than any seen so far). */
  #widen(length: number): void {
    const width = Math.min(MAX_SLOT_BYTES, Math.max(length, this.#width * 2));
    const bytes = new Uint8Array(this.capacity * width);
    for (let slot = 0; slot < this.capacity; slot++) {
      const stored = this.#lengths[slot]!;
      if (stored >= 0 && !this.#long.has(slot))
        bytes.set(this.#bytes.subarray(slot * this.#width, slot * this.#width + stored), slot * width);
    }
    this.#bytes = bytes;
    this.#width = width;
  }
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

/** The [start, end) of each id in a version-2 snapshot; throws on anything malformed. */
function entries(snapshot: MessageIdWindowSnapshot): [number, number][] {
  const invalid = (reason: string) =>
    new K2Error('K2_DEDUPE_SNAPSHOT_INVALID', `message id window snapshot: ${reason}`);
  if (
    snapshot?.version !== 2 ||
    !(snapshot.bytes instanceof Uint8Array) ||
    !Number.isSafeInteger(snapshot.count)
  )
    throw invalid('unsupported or malformed');
  const { bytes } = snapshot;
  const out: [number, number][] = [];
  let at = 0;
  while (at < bytes.length) {
    const entry = at;
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= bytes.length || shift > 28) throw invalid(`bad length at byte ${entry}`);
      const byte = bytes[at++]!;
      length += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    if (at + length > bytes.length) throw invalid(`id at byte ${at} runs past the end`);
    out.push([at, at + length]);
    at += length;
  }
  if (out.length !== snapshot.count) throw invalid(`holds ${out.length} ids, says ${snapshot.count}`);
  return out;
}
