import { describe, expect, it } from 'vitest';
import {
  emptyRecordFields,
  RecordCursor,
  readHeaders,
  readRecord,
  writeVarint,
} from '../../src/kafka/record-batch.js';
import { encodeRecord, writeVarlong } from '../support/record-batch.js';

describe('record batch varints (zig-zag, as Kafka writes them)', () => {
  it('round-trips int32 varints at their edges', () => {
    for (const value of [0, 1, -1, 63, -64, 64, 300, -300, 2 ** 31 - 1, -(2 ** 31)]) {
      const out: number[] = [];
      writeVarint(out, value);
      const cursor = new RecordCursor(Uint8Array.from(out));
      expect(cursor.varint()).toBe(value);
      expect(cursor.at).toBe(out.length);
    }
  });

  it('round-trips varlongs over a double exact range, and knows the bytes Kafka gives', () => {
    for (const value of [0, -1, 1_700_000_000_000, -1_700_000_000_000, 2 ** 52, -(2 ** 52)]) {
      const out: number[] = [];
      writeVarlong(out, value);
      expect(new RecordCursor(Uint8Array.from(out)).varlong()).toBe(value);
    }
    // Kafka's own encoding of 300 (zig-zag 600): 0xd8 0x04.
    expect(new RecordCursor(Uint8Array.from([0xd8, 0x04])).varint()).toBe(300);
  });

  it('refuses a varint that runs past the bytes or past five bytes', () => {
    expect(() => new RecordCursor(Uint8Array.from([0x80, 0x80])).varint()).toThrow(/truncated/);
    expect(() => new RecordCursor(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).varint()).toThrow(
      /longer than 5/,
    );
  });
});

describe('readRecord', () => {
  it('reads null and empty keys and values, and repeated headers in order', () => {
    const bytes = Buffer.concat([
      encodeRecord({ key: null, value: Buffer.alloc(0), headers: [], timestampDelta: -5 }, 0),
      encodeRecord(
        {
          key: Buffer.from('k'),
          value: null,
          headers: [
            ['a', Buffer.from('1')],
            ['b', null],
            ['a', Buffer.from('2')],
          ],
        },
        3,
      ),
    ]);
    const cursor = new RecordCursor(bytes);
    const fields = readRecord(cursor, emptyRecordFields());
    expect([
      fields.timestampDelta,
      fields.offsetDelta,
      fields.keyStart,
      fields.valueEnd - fields.valueStart,
    ]).toEqual([-5, 0, -1, 0]);
    readRecord(cursor, fields);
    expect(fields.offsetDelta).toBe(3);
    expect(bytes.toString('utf8', fields.keyStart, fields.keyEnd)).toBe('k');
    expect([fields.valueStart, fields.valueEnd]).toEqual([-1, -1]);
    expect(readHeaders(bytes, fields)).toEqual({
      a: [Buffer.from('1'), Buffer.from('2')],
      b: Buffer.alloc(0),
    });
    expect(cursor.at).toBe(bytes.length);
  });

  it('refuses a record whose length runs past its batch', () => {
    const record = encodeRecord({ key: null, value: Buffer.from('abc') }, 0);
    expect(() =>
      readRecord(new RecordCursor(record.subarray(0, record.length - 1)), emptyRecordFields()),
    ).toThrow(/past its batch/);
  });
});
