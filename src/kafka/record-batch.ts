/**
 * Kafka's record batch (magic 2), read and written without a JavaScript object per record: the
 * layout the broker stores and serves (KIP-98; "Record Batch" in Kafka's protocol documentation).
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records
 *
 * A record: length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 * key (varint length, -1 null) | value (likewise) | header count varint | headers, each a
 * varint-length key and a varint-length value. Varints are zig-zag encoded.
 */

export const RECORD_BATCH_MAGIC = 2;
/** Bytes before the records: the fixed header, up to and including the record count. */
export const BATCH_HEADER_BYTES = 61;
/** The batch's length field covers everything after it. */
export const BATCH_LENGTH_PREFIX = 12;

export const field = {
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
} as const;

export const attribute = {
  compression: 0x07,
  logAppendTime: 0x08,
  transactional: 0x10,
  control: 0x20,
} as const;

export const compression = { none: 0, gzip: 1 } as const;

/** A cursor over record bytes; reads advance `at`. */
export class RecordCursor {
  at = 0;

  constructor(readonly bytes: Uint8Array) {}

  /** A zig-zag varint of at most 32 bits. */
  varint(): number {
    const { bytes } = this;
    let value = 0;
    let shift = 0;
    for (;;) {
      if (this.at >= bytes.length) throw new RangeError('record truncated inside a varint');
      const byte = bytes[this.at++]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw new RangeError('varint longer than 5 bytes');
    }
    return (value >>> 1) ^ -(value & 1);
  }

  /** A zig-zag varlong, exact while it fits a double's 53 bits (timestamp deltas always do). */
  varlong(): number {
    const { bytes } = this;
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.at >= bytes.length) throw new RangeError('record truncated inside a varlong');
      const byte = bytes[this.at++]!;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) break;
      scale *= 128;
      if (scale > 2 ** 63) throw new RangeError('varlong longer than 10 bytes');
    }
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  }

  /** Skips a varint-length byte string (key, value, header) and returns its start, or -1 for null. */
  span(): number {
    const length = this.varint();
    if (length < 0) return -1;
    const start = this.at;
    this.at += length;
    if (this.at > this.bytes.length) throw new RangeError('record truncated inside a byte string');
    return start;
  }
}

/** One record's fields, as positions in the records' bytes (-1 start and end: null). */
export interface RecordFields {
  /** Where the record ends: the next one starts there. */
  end: number;
  timestampDelta: number;
  offsetDelta: number;
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  valueEnd: number;
  /** The header count and the byte range holding the headers. */
  headerCount: number;
  headersStart: number;
}

/**
 * Reads the record at the cursor into `into` (reused, so a scan allocates nothing) and moves the
 * cursor to the next record.
 */
export function readRecord(cursor: RecordCursor, into: RecordFields): RecordFields {
  const length = cursor.varint();
  const start = cursor.at;
  into.end = start + length;
  if (length < 0 || into.end > cursor.bytes.length) throw new RangeError('record length past its batch');
  cursor.at++; // record attributes: unused by the protocol
  into.timestampDelta = cursor.varlong();
  into.offsetDelta = cursor.varint();
  into.keyStart = cursor.span();
  into.keyEnd = into.keyStart < 0 ? -1 : cursor.at;
  into.valueStart = cursor.span();
  into.valueEnd = into.valueStart < 0 ? -1 : cursor.at;
  into.headerCount = cursor.varint();
  into.headersStart = cursor.at;
  cursor.at = into.end;
  return into;
}

export function emptyRecordFields(): RecordFields {
  return {
    end: 0,
    timestampDelta: 0,
    offsetDelta: 0,
    keyStart: -1,
    keyEnd: -1,
    valueStart: -1,
    valueEnd: -1,
    headerCount: 0,
    headersStart: 0,
  };
}

/** The headers of a record as kafkajs gives them: a repeated key becomes an array, in order. */
export function readHeaders(
  bytes: Uint8Array,
  fields: RecordFields,
): Record<string, Buffer | Buffer[] | undefined> {
  const headers: Record<string, Buffer | Buffer[] | undefined> = {};
  const cursor = new RecordCursor(bytes);
  cursor.at = fields.headersStart;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < fields.headerCount; i++) {
    const keyStart = cursor.span();
    const name = keyStart < 0 ? '' : text.toString('utf8', keyStart, cursor.at);
    const valueStart = cursor.span();
    const value = Buffer.from(valueStart < 0 ? new Uint8Array(0) : bytes.subarray(valueStart, cursor.at));
    const seen = headers[name];
    headers[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return headers;
}

/** Appends a zig-zag varint. */
export function writeVarint(out: number[], value: number): void {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  while (zigzag > 0x7f) {
    out.push((zigzag & 0x7f) | 0x80);
    zigzag >>>= 7;
  }
  out.push(zigzag);
}
