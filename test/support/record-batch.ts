import {
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_PREFIX,
  field,
  RECORD_BATCH_MAGIC,
  writeVarint,
} from '../../src/kafka/record-batch.js';

/**
 * Writers of Kafka's record batch layout (src/kafka/record-batch.ts reads it) for the tests'
 * fixtures: the broker writes the batches K2 reads in production.
 */

/** Appends a zig-zag varlong (a double's exact range). */
export function writeVarlong(out: number[], value: number): void {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  while (zigzag > 0x7f) {
    out.push((zigzag % 128) | 0x80);
    zigzag = Math.floor(zigzag / 128);
  }
  out.push(zigzag);
}

export interface RecordInput {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers?: [string, Uint8Array | null][];
  timestampDelta?: number;
}

/** A record's bytes, length prefix included. */
export function encodeRecord(record: RecordInput, offsetDelta: number): Buffer {
  const body: number[] = [0];
  writeVarlong(body, record.timestampDelta ?? 0);
  writeVarint(body, offsetDelta);
  const bytes = (value: Uint8Array | null) => {
    writeVarint(body, value === null ? -1 : value.length);
    if (value !== null) for (const byte of value) body.push(byte);
  };
  bytes(record.key);
  bytes(record.value);
  const headers = record.headers ?? [];
  writeVarint(body, headers.length);
  for (const [name, value] of headers) {
    bytes(Buffer.from(name, 'utf8'));
    bytes(value);
  }
  const length: number[] = [];
  writeVarint(length, body.length);
  return Buffer.from([...length, ...body]);
}

export interface BatchHeader {
  baseOffset: bigint;
  partitionLeaderEpoch?: number;
  attributes?: number;
  lastOffsetDelta: number;
  baseTimestamp?: bigint;
  maxTimestamp?: bigint;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  recordCount: number;
}

/** A batch's fixed header for records of `recordsBytes` bytes; the CRC is left 0 (kafkajs does not check it). */
export function encodeBatchHeader(header: BatchHeader, recordsBytes: number): Buffer {
  const out = Buffer.alloc(BATCH_HEADER_BYTES);
  out.writeBigInt64BE(header.baseOffset, 0);
  out.writeInt32BE(BATCH_HEADER_BYTES - BATCH_LENGTH_PREFIX + recordsBytes, field.batchLength);
  out.writeInt32BE(header.partitionLeaderEpoch ?? -1, field.partitionLeaderEpoch);
  out.writeInt8(RECORD_BATCH_MAGIC, field.magic);
  out.writeInt16BE(header.attributes ?? 0, field.attributes);
  out.writeInt32BE(header.lastOffsetDelta, field.lastOffsetDelta);
  out.writeBigInt64BE(header.baseTimestamp ?? 0n, field.baseTimestamp);
  out.writeBigInt64BE(header.maxTimestamp ?? header.baseTimestamp ?? 0n, field.maxTimestamp);
  out.writeBigInt64BE(header.producerId ?? -1n, field.producerId);
  out.writeInt16BE(header.producerEpoch ?? -1, field.producerEpoch);
  out.writeInt32BE(header.baseSequence ?? -1, field.baseSequence);
  out.writeInt32BE(header.recordCount, field.recordCount);
  return out;
}

/** An uncompressed batch of `records` from `baseOffset`. */
export function encodeRecordBatch(
  baseOffset: bigint,
  records: RecordInput[],
  options: { baseTimestamp?: bigint; offsetDeltas?: number[] } = {},
): Buffer {
  const deltas = options.offsetDeltas ?? records.map((_, i) => i);
  const body = Buffer.concat(records.map((record, i) => encodeRecord(record, deltas[i]!)));
  const header = encodeBatchHeader(
    {
      baseOffset,
      lastOffsetDelta: deltas.at(-1) ?? 0,
      baseTimestamp: options.baseTimestamp,
      recordCount: records.length,
    },
    body.length,
  );
  return Buffer.concat([header, body]);
}
