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
 * Copies the values into one buffer, noting the schema ids on the way (the pool resolves them
 * before dispatch). A null value (tombstone) packs as empty. Kafka's decimal offset strings below
 * 2^53 are written as two 32-bit words, without a BigInt per record.
 */
export function packBatch(records: readonly KafkaValue[], area?: PackArea): RecordBatch {
  const count = records.length;
  let total = 0;
  for (let i = 0; i < count; i++) total += records[i]!.value?.length ?? 0;
  const offsetBytes = count * 8;
  const endBytes = (count * 4 + 7) & ~7;
  // Every byte is written below, so no buffer need be zeroed first. Without an area, each array
  // owns its ArrayBuffer, so a task transfers them instead of copying.
  const shared = area?.take(offsetBytes + endBytes + total);
  const offsets = shared ? new BigInt64Array(shared, 0, count) : new BigInt64Array(count);
  const ends = shared ? new Uint32Array(shared, offsetBytes, count) : new Uint32Array(count);
  const values = shared ? Buffer.from(shared, offsetBytes + endBytes, total) : Buffer.allocUnsafeSlow(total);
  const words = new Int32Array(offsets.buffer, offsets.byteOffset, count * 2);
  const ids: number[] = [];
  let lastId = -1;
  let position = 0;
  for (let i = 0; i < count; i++) {
    const { value, offset } = records[i]!;
    if (value) {
      const id = peekSchemaId(value);
      if (id !== undefined && id !== lastId) {
        if (!ids.includes(id)) ids.push(id);
        lastId = id;
      }
      values.set(value, position);
      position += value.length;
    }
    ends[i] = position;
    const small = typeof offset === 'string' && offset.length < 16 ? Number(offset) : -1;
    if (small >= 0 && Number.isSafeInteger(small)) {
      const high = Math.floor(small / TWO_32);
      words[2 * i] = (small - high * TWO_32) | 0;
      words[2 * i + 1] = high;
    } else offsets[i] = typeof offset === 'bigint' ? offset : BigInt(offset);
  }
  return { values, ends, offsets, schemaIds: ids };
}

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
