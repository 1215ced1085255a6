import { hashBytes } from '../util/bytes.js';
import { isPresent, type Utf8Column } from './columns.js';

const decoder = new TextDecoder();

/**
 * One string per distinct value of a low-cardinality UTF-8 column (exchanges, symbols): the
 * ingest thread reads them for every record, and the write task for every row it partitions and
 * sorts; decoding each afresh allocated a string per row and re-hashed it in every Map lookup. Found by the bytes' hash (open addressing); the
 * same string comes back for the same bytes, so Map lookups hit V8's cached hash. Bounded: past
 * `maxEntries` distinct values it starts over.
 */
export class Interner {
  #values: string[] = [];
  #bytes: Uint8Array[] = [];
  #hashes: number[] = [];
  #table: Int32Array;
  #mask: number;

  constructor(readonly maxEntries = 65_536) {
    this.#table = new Int32Array(64);
    this.#mask = 63;
  }

  /** Row `row` of the column, or null. */
  at(column: Utf8Column, row: number): string | null {
    if (!isPresent(column.validity, row)) return null;
    return this.intern(column.data, column.offsets[row]!, column.offsets[row + 1]!);
  }

  /** The string of the UTF-8 bytes[start, end). */
  intern(bytes: Uint8Array, start: number, end: number): string {
    const hash = hashBytes(bytes, start, end);
    const length = end - start;
    let cell = hash & this.#mask;
    for (let entry = this.#table[cell]!; entry !== 0; entry = this.#table[cell]!) {
      const index = entry - 1;
      const stored = this.#bytes[index]!;
      if (this.#hashes[index] === hash && stored.length === length && equals(stored, bytes, start))
        return this.#values[index]!;
      cell = (cell + 1) & this.#mask;
    }
    if (this.#values.length >= this.maxEntries) {
      this.#reset();
      return this.intern(bytes, start, end);
    }
    const value = decoder.decode(bytes.subarray(start, end));
    this.#values.push(value);
    this.#bytes.push(bytes.slice(start, end));
    this.#hashes.push(hash);
    this.#table[cell] = this.#values.length;
    if (this.#values.length * 2 > this.#table.length) this.#grow();
    return value;
  }

  #grow(): void {
    this.#table = new Int32Array(this.#table.length * 2);
    this.#mask = this.#table.length - 1;
    this.#hashes.forEach((hash, index) => {
      let cell = hash & this.#mask;
      while (this.#table[cell] !== 0) cell = (cell + 1) & this.#mask;
      this.#table[cell] = index + 1;
    });
  }

  #reset(): void {
    this.#values = [];
    this.#bytes = [];
    this.#hashes = [];
    this.#table = new Int32Array(64);
    this.#mask = 63;
  }
}

function equals(stored: Uint8Array, bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < stored.length; i++) if (stored[i] !== bytes[start + i]) return false;
  return true;
}
