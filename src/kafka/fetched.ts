import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { BatchPacker, type PackArea, type RecordBatch } from '../codec/batch.js';
import { RECORD_BATCH_HEADER, RECORD_BATCH_MARK } from './batch-passthrough.js';
import {
  attribute,
  BATCH_HEADER_BYTES,
  compression,
  emptyRecordFields,
  field,
  RECORD_BATCH_MAGIC,
  RecordCursor,
  readHeaders,
  readRecord,
} from './record-batch.js';

const gunzipAsync = promisify(gunzip);
const EMPTY = new Uint8Array(0);

/** A record batch handed over whole (see batch-passthrough.ts), its records decompressed. */
interface BatchSegment {
  kind: 'batch';
  baseOffset: bigint;
  lastOffset: bigint;
  records: Uint8Array;
  count: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  logAppendTime: boolean;
}

/** A record kafkajs decoded itself (another codec, a legacy message set, a client without the passthrough). */
interface MessageSegment {
  kind: 'message';
  message: KafkaMessage;
  offset: bigint;
}

type Segment = BatchSegment | MessageSegment;

/** One record as the DLQ keeps it: its original key, value, headers and timestamp. */
export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  timestamp: string;
}

function isWrappedBatch(message: KafkaMessage): boolean {
  const mark = message.headers?.[RECORD_BATCH_HEADER];
  return Buffer.isBuffer(mark) && mark.equals(RECORD_BATCH_MARK) && message.value !== null;
}

async function batchSegment(bytes: Buffer): Promise<BatchSegment> {
  if (bytes.length < BATCH_HEADER_BYTES || bytes[field.magic] !== RECORD_BATCH_MAGIC) {
    throw new RangeError(`not a record batch (${bytes.length} bytes, magic ${bytes[field.magic]})`);
  }
  const attributes = bytes.readInt16BE(field.attributes);
  const baseOffset = bytes.readBigInt64BE(0);
  const body = bytes.subarray(BATCH_HEADER_BYTES);
  const codec = attributes & attribute.compression;
  return {
    kind: 'batch',
    baseOffset,
    lastOffset: baseOffset + BigInt(bytes.readInt32BE(field.lastOffsetDelta)),
    records: codec === compression.gzip ? await gunzipAsync(body) : body,
    count: bytes.readInt32BE(field.recordCount),
    baseTimestamp: bytes.readBigInt64BE(field.baseTimestamp),
    maxTimestamp: bytes.readBigInt64BE(field.maxTimestamp),
    logAppendTime: (attributes & attribute.logAppendTime) !== 0,
  };
}

/**
 * The records of one kafkajs batch: whole record batches (the ingest consumer's passthrough) read
 * here without an object per record, and any records kafkajs decoded itself, in offset order.
 */
export class FetchedRecords {
  private constructor(readonly segments: readonly Segment[]) {}

  static async of(messages: readonly KafkaMessage[]): Promise<FetchedRecords> {
    const segments: Segment[] = [];
    for (const message of messages) {
      segments.push(
        isWrappedBatch(message)
          ? await batchSegment(message.value!)
          : { kind: 'message', message, offset: BigInt(message.offset) },
      );
    }
    return new FetchedRecords(segments);
  }

  /** The first offset the fetch covers (a batch's base offset, which may precede the fetch position). */
  get firstOffset(): bigint | undefined {
    const first = this.segments[0];
    return first === undefined ? undefined : first.kind === 'batch' ? first.baseOffset : first.offset;
  }

  /**
   * The records at `from` and after, packed as packBatch packs kafkajs messages (in an area of
   * the pool when given). `values` holds exactly the packed bytes.
   */
  pack(from: bigint, area?: PackArea): RecordBatch {
    let capacity = 0;
    let valueCapacity = 0;
    for (const segment of this.segments) {
      capacity += segment.kind === 'batch' ? segment.count : 1;
      valueCapacity +=
        segment.kind === 'batch' ? segment.records.length : (segment.message.value?.length ?? 0);
    }
    const packer = new BatchPacker(capacity, valueCapacity, area);
    const fields = emptyRecordFields();
    for (const segment of this.segments) {
      if (segment.kind === 'message') {
        const value = segment.message.value ?? EMPTY;
        if (segment.offset >= from) packer.add(value, 0, value.length, segment.offset);
        continue;
      }
      const base = Number(segment.baseOffset);
      const exact = Number.isSafeInteger(base) && Number.isSafeInteger(Number(segment.lastOffset));
      const skipBelow = Number(from - segment.baseOffset);
      const cursor = new RecordCursor(segment.records);
      for (let i = 0; i < segment.count; i++) {
        readRecord(cursor, fields);
        if (fields.offsetDelta < skipBelow) continue;
        const offset = exact ? base + fields.offsetDelta : segment.baseOffset + BigInt(fields.offsetDelta);
        packer.add(segment.records, Math.max(fields.valueStart, 0), Math.max(fields.valueEnd, 0), offset);
      }
    }
    return packer.finish();
  }

  /** The record at `offset` with its original bytes, for the DLQ; undefined if the fetch does not hold it. */
  record(offset: bigint): FetchedRecord | undefined {
    for (const segment of this.segments) {
      if (segment.kind === 'message') {
        if (segment.offset !== offset) continue;
        const { key, value, headers, timestamp } = segment.message;
        return { offset: String(offset), key, value, headers: headers ?? {}, timestamp };
      }
      if (offset < segment.baseOffset || offset > segment.lastOffset) continue;
      const fields = emptyRecordFields();
      const cursor = new RecordCursor(segment.records);
      const bytes = Buffer.from(
        segment.records.buffer,
        segment.records.byteOffset,
        segment.records.byteLength,
      );
      for (let i = 0; i < segment.count; i++) {
        readRecord(cursor, fields);
        if (segment.baseOffset + BigInt(fields.offsetDelta) !== offset) continue;
        const copy = (start: number, end: number) =>
          start < 0 ? null : Buffer.from(bytes.subarray(start, end));
        const timestamp = segment.logAppendTime
          ? segment.maxTimestamp
          : segment.baseTimestamp + BigInt(fields.timestampDelta);
        return {
          offset: String(offset),
          key: copy(fields.keyStart, fields.keyEnd),
          value: copy(fields.valueStart, fields.valueEnd),
          headers: readHeaders(segment.records, fields),
          timestamp: String(timestamp),
        };
      }
    }
    return undefined;
  }
}
