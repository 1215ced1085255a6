import { ownedBuffer } from './columns.js';
import { peekSchemaId } from './wire.js';

/**
 * Record values of one partition fetch, packed for a worker: one buffer holding every value back
 * to back, where record i is values[ends[i-1] .. ends[i]) (from 0 for i = 0). All three arrays own
 * their ArrayBuffers, so a task transfers them instead of copying.
 */
export interface RecordBatch {
  values: Uint8Array;
  ends: Uint32Array;
  /** Kafka offset of each record. */
  offsets: BigInt64Array;
  /** The distinct schema ids the records name, in first-seen order, when packBatch noted them. */
  schemaIds?: number[];
}

const TWO_32 = 4_294_967_296;

/** Where packBatch may place a batch instead of fresh buffers (the pool's reusable shared areas). */
export interface PackArea {
  /** A buffer of at least `bytes` bytes, the caller's until it gives it back. */
  take(bytes: number): SharedArrayBuffer;
}

export interface KafkaValue {
  value: Uint8Array | null;
  offset: bigint | string;
  /** The record's headers, when the reader kept them (the DLQ scan needs them; decoding does not). */
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/**
 * Writes records into a packed batch: values back to back, their ends, their offsets and the
 * schema ids they name (the pool resolves them before dispatch). Every byte handed out is written,
 * so no buffer is zeroed first. With an area, all three arrays live in one of its buffers; without,
 * each owns an ArrayBuffer of the capacity asked for, so a task transfers them instead of copying.
 */
export class BatchPacker {
  readonly #offsets: BigInt64Array;
  /** The offsets as 32-bit word pairs: a safe-integer offset is written without a BigInt. */
  readonly #words: Int32Array;
  readonly #ends: Uint32Array;
  readonly #values: Uint8Array;
  readonly #ids: number[] = [];
  #lastId = -1;
  #count = 0;
  #position = 0;

  /** Room for `capacity` records holding `valueCapacity` bytes of values in all. */
  constructor(capacity: number, valueCapacity: number, area?: PackArea) {
    const offsetBytes = capacity * 8;
    const endBytes = (capacity * 4 + 7) & ~7;
    const shared = area?.take(offsetBytes + endBytes + valueCapacity);
    this.#offsets = shared ? new BigInt64Array(shared, 0, capacity) : new BigInt64Array(capacity);
    this.#ends = shared ? new Uint32Array(shared, offsetBytes, capacity) : new Uint32Array(capacity);
    this.#values = shared
      ? Buffer.from(shared, offsetBytes + endBytes, valueCapacity)
      : Buffer.allocUnsafeSlow(valueCapacity);
    this.#words = new Int32Array(this.#offsets.buffer, this.#offsets.byteOffset, capacity * 2);
  }

  /** Appends the record whose value is bytes[start, end) (empty: a tombstone) at `offset`. */
  add(bytes: Uint8Array, start: number, end: number, offset: number | bigint): void {
    if (end > start) {
      const id = peekSchemaId(bytes, start, end);
      if (id !== undefined && id !== this.#lastId) {
        if (!this.#ids.includes(id)) this.#ids.push(id);
        this.#lastId = id;
      }
      this.#values.set(
        start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end),
        this.#position,
      );
      this.#position += end - start;
    }
    const i = this.#count++;
    this.#ends[i] = this.#position;
    if (typeof offset === 'bigint') this.#offsets[i] = offset;
    else {
      const high = Math.floor(offset / TWO_32);
      this.#words[2 * i] = (offset - high * TWO_32) | 0;
      this.#words[2 * i + 1] = high;
    }
  }

  /** The batch so far; its arrays cover exactly the records added. */
  finish(): RecordBatch {
    const whole = <T extends Uint8Array | Uint32Array | BigInt64Array>(view: T, length: number) =>
      (view.length === length ? view : view.subarray(0, length)) as T;
    return {
      values: whole(this.#values, this.#position),
      ends: whole(this.#ends, this.#count),
      offsets: whole(this.#offsets, this.#count),
      schemaIds: this.#ids,
    };
  }
}

/**
 * Copies kafkajs records' values into one packed batch. Kafka's decimal offset strings below 2^53
 * are written as two 32-bit words, without a BigInt per record. A null value packs as empty.
 */
export function packBatch(records: readonly KafkaValue[], area?: PackArea): RecordBatch {
  let total = 0;
  for (const record of records) total += record.value?.length ?? 0;
  const packer = new BatchPacker(records.length, total, area);
  for (const { value, offset } of records) {
    const small = typeof offset === 'string' && offset.length < 16 ? Number(offset) : -1;
    const at = small >= 0 && Number.isSafeInteger(small) ? small : BigInt(offset);
    packer.add(value ?? EMPTY, 0, value?.length ?? 0, at);
  }
  return packer.finish();
}

const EMPTY = new Uint8Array(0);

export function recordCount(batch: RecordBatch): number {
  return batch.ends.length;
}

export function recordBounds(batch: RecordBatch, index: number): [start: number, end: number] {
  return [index === 0 ? 0 : batch.ends[index - 1]!, batch.ends[index]!];
}

/** The distinct schema ids the framed records of a batch name, in first-seen order. */
export function schemaIds(batch: RecordBatch): number[] {
  const ids = new Set<number>();
  let last = -1;
  for (let i = 0, start = 0; i < batch.ends.length; i++) {
    const end = batch.ends[i]!;
    const id = peekSchemaId(batch.values, start, end);
    if (id !== undefined && id !== last) {
      ids.add(id);
      last = id;
    }
    start = end;
  }
  return [...ids];
}

/** The batch's buffers that can be transferred (packBatch's always can). */
export function batchBuffers(batch: RecordBatch): ArrayBuffer[] {
  return [batch.values, batch.ends, batch.offsets].map(ownedBuffer).filter((b) => b !== undefined);
}
