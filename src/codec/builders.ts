import { isUtf8 } from 'node:buffer';
import type { Int64Column, ListColumn, MapColumn, Utf8Column } from './columns.js';

/**
 * Builders that append decoded values straight into Arrow-layout buffers. Each can drop the rows
 * from a given length on (`truncate`), so a record that fails half-way leaves no trace. A builder
 * is reused batch after batch (`reset` keeps its grown buffers): `view` hands out views into them,
 * which the caller copies out (RowBuilders.finish packs them into one arena) before the next reset.
 */

const TWO_32 = 4_294_967_296;

/** Arrow validity bits, allocated only once a null appears (most columns never see one). */
class Validity {
  #bits: Uint8Array | null = null;
  #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  set(row: number, present: boolean): void {
    if (present) {
      if (this.#bits !== null) this.#mark(row);
      return;
    }
    if (this.#bits === null) {
      // Every earlier row was present.
      this.#bits = new Uint8Array(Math.ceil(Math.max(this.#capacity, row + 1) / 8));
      for (let earlier = 0; earlier < row; earlier++) this.#mark(earlier);
    }
    const byte = row >> 3;
    if (byte >= this.#bits.length) this.#bits = grow(this.#bits, byte + 1);
  }

  /** Forgets row `row` (the last one appended), when a record is rolled back. */
  clear(row: number): void {
    if (this.#bits !== null && row >> 3 < this.#bits.length) this.#bits[row >> 3]! &= ~(1 << (row & 7));
  }

  #mark(row: number): void {
    const byte = row >> 3;
    if (byte >= this.#bits!.length) this.#bits = grow(this.#bits!, byte + 1);
    this.#bits![byte]! |= 1 << (row & 7);
  }

  /** The bits of the first `length` rows, a view valid until the next reset. */
  view(length: number): Uint8Array | null {
    return this.#bits === null ? null : this.#bits.subarray(0, Math.ceil(length / 8));
  }

  /** Every row present again; the bits are dropped (nulls are rare, most batches never allocate them). */
  reset(capacity: number): void {
    this.#bits = null;
    this.#capacity = capacity;
  }
}

function grow<T extends Uint8Array | Int32Array>(array: T, atLeast: number): T {
  const next = new (array.constructor as new (n: number) => T)(Math.max(atLeast, array.length * 2, 16));
  next.set(array);
  return next;
}

export class Int64Builder {
  #values: BigInt64Array;
  #words: Int32Array;
  #validity: Validity;
  #length = 0;

  constructor(capacity: number) {
    this.#values = new BigInt64Array(Math.max(capacity, 1));
    this.#words = new Int32Array(this.#values.buffer);
    this.#validity = new Validity(capacity);
  }

  get length(): number {
    return this.#length;
  }

  /** Safe-integer numbers are written as two 32-bit words, avoiding a BigInt per value. */
  append(value: number | bigint | null): void {
    if (typeof value === 'number') {
      this.appendSafe(value);
      return;
    }
    const row = this.#next(value !== null);
    if (value !== null) this.#values[row] = value;
  }

  /** Appends a present safe integer (the column readers' path: no type test, no BigInt). */
  appendSafe(value: number): void {
    const row = this.#next(true);
    const high = Math.floor(value / TWO_32);
    this.#words[2 * row] = (value - high * TWO_32) | 0;
    this.#words[2 * row + 1] = high;
  }

  #next(present: boolean): number {
    const row = this.#length++;
    if (row >= this.#values.length) {
      const next = new BigInt64Array(this.#values.length * 2);
      next.set(this.#values);
      this.#values = next;
      this.#words = new Int32Array(next.buffer);
    }
    this.#validity.set(row, present);
    return row;
  }

  /** Drops the rows from `length` on (a record that failed half-way). */
  truncate(length: number): void {
    for (let row = length; row < this.#length; row++) this.#validity.clear(row);
    this.#length = length;
  }

  /** The column so far, as views into the builder's buffers: valid until the next reset. */
  view(): Int64Column {
    return {
      kind: 'int64',
      values: this.#values.subarray(0, this.#length),
      validity: this.#validity.view(this.#length),
    };
  }

  /** Empties the builder for the next batch, keeping its buffers. */
  reset(capacity: number): void {
    this.#length = 0;
    this.#validity.reset(capacity);
  }
}

const SHORT_STRING = 48;
const SPAN = 2 ** 26;
/** Byte runs from this length are copied a 32-bit word at a time, up to where a native copy wins. */
const WORD_COPY = 8;
const NATIVE_COPY = 256;
/** The high bit of each byte of a word: all clear means ASCII. */
const NON_ASCII = 0x80808080 | 0;

/** Short ASCII strings (symbols, ids, codes) are copied in JS, cheaper than a native call each. */
function writeShort(data: Buffer, value: string, at: number): number {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x80) return data.write(value, at);
    data[at + i] = code;
  }
  return value.length;
}

export class Utf8Builder {
  #offsets: Int32Array;
  #data: Buffer;
  #dataView: DataView;
  #validity: Validity;
  #length = 0;
  #bytes = 0;
  /** The last source copied from a word at a time, and its view (one batch buffer, mostly). */
  #source: Uint8Array | null = null;
  #sourceView: DataView | null = null;

  constructor(capacity: number, bytesPerValue = 16) {
    this.#offsets = new Int32Array(capacity + 1);
    this.#data = Buffer.allocUnsafeSlow(Math.max(capacity * bytesPerValue, 64));
    this.#dataView = new DataView(this.#data.buffer, this.#data.byteOffset, this.#data.byteLength);
    this.#validity = new Validity(capacity);
  }

  get length(): number {
    return this.#length;
  }

  /**
   * Appends a JS string, or a span (start * 2^26 + length) of UTF-8 bytes in `source`, and returns
   * its length in bytes, or -1 when it is not valid UTF-8 (the row must then be rolled back).
   */
  append(value: string | number | null, source?: Uint8Array): number {
    if (typeof value === 'number') {
      const length = value % SPAN;
      return this.appendUtf8(source!, Math.floor(value / SPAN), length) ? length : -1;
    }
    const row = this.#next(value !== null);
    const before = this.#bytes;
    const valid = value === null || value.length === 0 || this.#appendString(value);
    this.#offsets[row + 1] = this.#bytes;
    return valid ? this.#bytes - before : -1;
  }

  /** Appends source[start, start + length) as a present value; false when it is not valid UTF-8. */
  appendUtf8(source: Uint8Array, start: number, length: number): boolean {
    const row = this.#next(true);
    const valid = this.#appendBytes(source, start, length);
    this.#offsets[row + 1] = this.#bytes;
    return valid;
  }

  /** Appends bytes known to be ASCII (an enum symbol), unchecked. */
  appendSymbol(symbol: Uint8Array): void {
    const row = this.#next(true);
    this.#reserve(symbol.length);
    const data = this.#data;
    const at = this.#bytes;
    for (let i = 0; i < symbol.length; i++) data[at + i] = symbol[i]!;
    this.#bytes += symbol.length;
    this.#offsets[row + 1] = this.#bytes;
  }

  #next(present: boolean): number {
    const row = this.#length++;
    if (row + 1 >= this.#offsets.length) this.#offsets = grow(this.#offsets, row + 2);
    this.#validity.set(row, present);
    return row;
  }

  truncate(length: number): void {
    for (let row = length; row < this.#length; row++) this.#validity.clear(row);
    this.#length = length;
    this.#bytes = this.#offsets[length]!;
  }

  #reserve(bytes: number): void {
    const needed = this.#bytes + bytes;
    if (needed <= this.#data.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(needed, this.#data.length * 2));
    this.#data.copy(next, 0, 0, this.#bytes);
    this.#data = next;
    this.#dataView = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** Copies the bytes, checking them on the way: ASCII needs no more, anything else strict UTF-8. */
  #appendBytes(source: Uint8Array, start: number, length: number): boolean {
    this.#reserve(length);
    const data = this.#data;
    const at = this.#bytes;
    this.#bytes += length;
    if (length >= NATIVE_COPY) {
      data.set(source.subarray(start, start + length), at);
      return isUtf8(data.subarray(at, at + length));
    }
    let high = 0;
    let i = 0;
    if (length >= WORD_COPY) {
      const from = this.#viewOf(source);
      const to = this.#dataView;
      for (; i + 4 <= length; i += 4) {
        const word = from.getInt32(start + i, true);
        to.setInt32(at + i, word, true);
        high |= word;
      }
    }
    for (; i < length; i++) {
      const byte = source[start + i]!;
      data[at + i] = byte;
      high |= byte;
    }
    return (high & NON_ASCII) === 0 || isUtf8(data.subarray(at, at + length));
  }

  #viewOf(source: Uint8Array): DataView {
    if (source !== this.#source) {
      this.#source = source;
      this.#sourceView = new DataView(source.buffer, source.byteOffset, source.byteLength);
    }
    return this.#sourceView!;
  }

  /**
   * A JS string came through avsc's lenient decoder, which turns invalid bytes into U+FFFD; a
   * producer that sends U+FFFD itself has already lost data upstream, so it is refused as well.
   */
  #appendString(value: string): boolean {
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    this.#reserve(value.length * 3);
    this.#bytes +=
      value.length <= SHORT_STRING
        ? writeShort(this.#data, value, this.#bytes)
        : this.#data.write(value, this.#bytes);
    return value.indexOf('\uFFFD') === -1;
  }

  view(): Utf8Column {
    return {
      kind: 'utf8',
      offsets: this.#offsets.subarray(0, this.#length + 1),
      data: new Uint8Array(this.#data.buffer, this.#data.byteOffset, this.#bytes),
      validity: this.#validity.view(this.#length),
    };
  }

  reset(capacity: number): void {
    this.#length = 0;
    this.#bytes = 0;
    this.#source = null;
    this.#sourceView = null;
    this.#validity.reset(capacity);
  }
}

/**
 * The row structure shared by list and map columns: per row, where its children end and whether
 * it is present. The children (items, or keys and values) live in the owning builder.
 */
class RowSpans {
  #offsets: Int32Array;
  readonly #validity: Validity;
  #length = 0;

  constructor(capacity: number) {
    this.#offsets = new Int32Array(capacity + 1);
    this.#validity = new Validity(capacity);
  }

  /** Closes a row whose children end at `childEnd`. */
  end(present: boolean, childEnd: number): void {
    const row = this.#length++;
    if (row + 1 >= this.#offsets.length) this.#offsets = grow(this.#offsets, row + 2);
    this.#validity.set(row, present);
    this.#offsets[row + 1] = childEnd;
  }

  /** Drops the rows from `length` on; returns where their children began. */
  truncate(length: number): number {
    for (let row = length; row < this.#length; row++) this.#validity.clear(row);
    this.#length = length;
    return this.#offsets[length]!;
  }

  view(): { offsets: Int32Array; validity: Uint8Array | null } {
    return {
      offsets: this.#offsets.subarray(0, this.#length + 1),
      validity: this.#validity.view(this.#length),
    };
  }

  reset(capacity: number): void {
    this.#length = 0;
    this.#validity.reset(capacity);
  }
}

export class ListBuilder {
  readonly #rows: RowSpans;
  readonly items: Utf8Builder;

  constructor(capacity: number) {
    this.#rows = new RowSpans(capacity);
    this.items = new Utf8Builder(capacity, 8);
  }

  /** False when an item is not valid UTF-8. */
  append(values: readonly (string | number)[] | null, source?: Uint8Array): boolean {
    if (values === null) {
      this.#rows.end(false, this.items.length);
      return true;
    }
    let valid = true;
    for (const value of values) if (this.items.append(value, source) < 0) valid = false;
    this.endRow();
    return valid;
  }

  /** Closes a present row whose items were appended to `items` directly. */
  endRow(): void {
    this.#rows.end(true, this.items.length);
  }

  truncate(length: number): void {
    this.items.truncate(this.#rows.truncate(length));
  }

  view(): ListColumn {
    const { offsets, validity } = this.#rows.view();
    return { kind: 'list', offsets, items: this.items.view(), validity };
  }

  reset(capacity: number): void {
    this.#rows.reset(capacity);
    this.items.reset(capacity);
  }
}

export class MapBuilder {
  readonly #rows: RowSpans;
  readonly keys: Utf8Builder;
  readonly values: Utf8Builder;

  constructor(capacity: number) {
    this.#rows = new RowSpans(capacity);
    this.keys = new Utf8Builder(capacity * 2, 12);
    this.values = new Utf8Builder(capacity * 2, 12);
  }

  /** False when a key or value is not valid UTF-8. */
  append(
    entries: { keys: readonly (string | number)[]; values: readonly unknown[] } | null,
    source?: Uint8Array,
  ): boolean {
    if (entries === null) {
      this.#rows.end(false, this.keys.length);
      return true;
    }
    let valid = true;
    for (let i = 0; i < entries.keys.length; i++) {
      if (this.keys.append(entries.keys[i]!, source) < 0) valid = false;
      if (this.values.append(entries.values[i] as string | number, source) < 0) valid = false;
    }
    this.endRow();
    return valid;
  }

  /** Closes a present row whose entries were appended to `keys` and `values` directly. */
  endRow(): void {
    this.#rows.end(true, this.keys.length);
  }

  truncate(length: number): void {
    const childStart = this.#rows.truncate(length);
    this.keys.truncate(childStart);
    this.values.truncate(childStart);
  }

  view(): MapColumn {
    const { offsets, validity } = this.#rows.view();
    return { kind: 'map', offsets, keys: this.keys.view(), values: this.values.view(), validity };
  }

  reset(capacity: number): void {
    this.#rows.reset(capacity);
    this.keys.reset(capacity * 2);
    this.values.reset(capacity * 2);
  }
}

/** The builder of one table column. */
export type ColumnBuilder = Int64Builder | Utf8Builder | ListBuilder | MapBuilder;
