import { describe, expect, it } from 'vitest';
import { packBatch } from '../../src/codec/batch.js';
import {
  type ColumnSet,
  columnBuffers,
  type Int64Column,
  int64At,
  packColumnSet,
  stringAt,
  type Utf8Column,
} from '../../src/codec/columns.js';
import { TableDecoder } from '../../src/codec/decode.js';
import { batchOf, encode, trade, tradeBatch, writers } from './codec-fixtures.js';

/** Every value of every row, read through the column accessors: what a reader of the set sees. */
function rowsOf(set: ColumnSet & { offsets?: BigInt64Array }): unknown[] {
  return Array.from({ length: set.rowCount }, (_, row) => ({
    offset: set.offsets?.[row],
    ...Object.fromEntries(
      Object.entries(set.columns).map(([name, column]) => [
        name,
        column.kind === 'int64'
          ? int64At(column, row)
          : column.kind === 'utf8'
            ? stringAt(column, row)
            : JSON.stringify(column.validity === null ? 'present' : [...column.validity]) +
              JSON.stringify([...column.offsets]),
      ]),
    ),
  }));
}

describe('decoded batches own one arena', () => {
  it('a decoder reused batch after batch gives what fresh decoders give, and earlier results stay intact', () => {
    const reused = new TableDecoder('trades_v2');
    // Big, small, with nulls and failures, then without any null: scratch state must not leak across.
    const inputs = [
      tradeBatch(700, 0),
      batchOf(
        [encode('trade_v2', trade(1)), new Uint8Array([1, 2, 3, 4, 5, 6]), encode('trade_v2', trade(2))],
        50n,
      ),
      batchOf(
        Array.from({ length: 40 }, (_, i) =>
          encode(
            'trade_v2',
            trade(i, { source_sequence: 7 + i, platform_sequence: i, vendor_data: { a: 'b' } }),
          ),
        ),
        900n,
      ),
      tradeBatch(3, 5_000),
    ];
    const results = inputs.map((input) => {
      const fresh = new TableDecoder('trades_v2').decode(structuredClone(input), writers());
      return { fresh, reused: reused.decode(input, writers()) };
    });
    for (const { fresh, reused } of results) {
      expect(rowsOf(reused)).toEqual(rowsOf(fresh));
      expect(reused.failures.map((f) => [f.code, f.offset])).toEqual(
        fresh.failures.map((f) => [f.code, f.offset]),
      );
    }
    expect(results[2]!.reused.columns.platform_sequence!.validity).toBeNull();
    expect(results[0]!.reused.rowCount).toBe(700);
    expect(stringAt(results[0]!.reused.columns.message_id as Utf8Column, 699)).toBe(
      '00000000-0000-4000-8000-0000000002bb',
    );
  });

  it('every column buffer and the row offsets lie in the arena, which is the one buffer to transfer', () => {
    const decoded = new TableDecoder('trades_v2').decode(tradeBatch(100, 10), writers());
    expect(decoded.arena).toBeInstanceOf(ArrayBuffer);
    expect(columnBuffers(decoded)).toEqual([decoded.arena]);
    expect(decoded.offsets.buffer).toBe(decoded.arena);
    const views: ArrayBufferView[] = [];
    const visit = (c: ColumnSet['columns'][string]): void => {
      if (c.validity) views.push(c.validity);
      if (c.kind === 'int64') views.push(c.values);
      else if (c.kind === 'utf8') views.push(c.offsets, c.data);
      else if (c.kind === 'list') {
        views.push(c.offsets);
        visit(c.items);
      } else {
        views.push(c.offsets);
        visit(c.keys);
        visit(c.values);
      }
    };
    for (const column of Object.values(decoded.columns)) visit(column);
    for (const view of views) {
      expect(view.buffer).toBe(decoded.arena);
      expect(view.byteOffset % 8).toBe(0);
    }
    // Moving the arena to another thread takes every view with it.
    const moved = structuredClone(decoded, { transfer: [decoded.arena!] });
    expect(decoded.arena!.byteLength).toBe(0);
    expect(int64At(moved.columns.timestamp as Int64Column, 99)).not.toBeNull();
    expect([...moved.offsets].at(-1)).toBe(109n);
  });

  it('packColumnSet copies, so the source views can be reused at once', () => {
    const data = new Uint8Array([104, 105, 33]);
    const set: ColumnSet = {
      rowCount: 2,
      columns: { s: { kind: 'utf8', offsets: new Int32Array([0, 2, 3]), data, validity: null } },
    };
    const { set: packed, extra } = packColumnSet(set, new BigInt64Array([5n, 6n]));
    data.fill(0);
    expect(stringAt(packed.columns.s as Utf8Column, 0)).toBe('hi');
    expect(stringAt(packed.columns.s as Utf8Column, 1)).toBe('!');
    expect([...extra[0]]).toEqual([5n, 6n]);
    expect(extra[0].buffer).toBe(packed.arena);
  });
});

describe('packBatch', () => {
  it('notes the distinct schema ids in first-seen order, skipping values without a header', () => {
    const framed = (id: number) => new Uint8Array([0, 0, 0, 0, id, 1, 2]);
    const batch = packBatch(
      [framed(7), framed(7), framed(3), null, new Uint8Array([9, 9]), framed(7), framed(1)].map(
        (value, i) => ({
          value,
          offset: String(i),
        }),
      ),
    );
    expect(batch.schemaIds).toEqual([7, 3, 1]);
  });

  it('keeps every offset exact: decimal strings around 2^32 and 2^53, and bigints', () => {
    const offsets = [
      '0',
      '1',
      '4294967295',
      '4294967296',
      '9007199254740991',
      '9007199254740993',
      '9223372036854775807',
    ];
    const batch = packBatch([
      ...offsets.map((offset) => ({ value: new Uint8Array([0]), offset })),
      { value: null, offset: 12_345_678_901_234_567n },
    ]);
    expect([...batch.offsets]).toEqual([...offsets.map((o) => BigInt(o)), 12_345_678_901_234_567n]);
  });
});
