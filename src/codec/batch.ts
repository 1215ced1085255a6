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
}

export interface KafkaValue {
  value: Uint8Array | null;
  offset: bigint | string;
  /** The record's headers, when the reader kept them (the DLQ scan needs them; decoding does not). */
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/** Copies the values into one buffer. A null value (tombstone) packs as empty. */
export function packBatch(records: readonly KafkaValue[]): RecordBatch {
  const count = records.length;
  let total = 0;
  for (let i = 0; i < count; i++) total += records[i]!.value?.length ?? 0;
  // Every byte is written below, so the buffer need not be zeroed first; it is its own ArrayBuffer.
  const values = Buffer.allocUnsafeSlow(total);
  const ends = new Uint32Array(count);
  const offsets = new BigInt64Array(count);
  let position = 0;
  for (let i = 0; i < count; i++) {
    const { value, offset } = records[i]!;
    if (value) {
      values.set(value, position);
      position += value.length;
    }
    ends[i] = position;
    offsets[i] = typeof offset === 'bigint' ? offset : BigInt(offset);
  }
  return { values, ends, offsets };
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
