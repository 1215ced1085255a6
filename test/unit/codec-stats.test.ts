import { describe, expect, it } from 'vitest';
import type { ColumnSet, Int64Column, Utf8Column } from '../../src/codec/columns.js';
import { dataFileStats, STRING_BOUND_LENGTH } from '../../src/codec/stats.js';
import { decodeBound } from '../../src/iceberg/bounds.js';
import type { IcebergSchema } from '../../src/iceberg/types.js';

const schema: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'n', required: false, type: 'long' },
    { id: 2, name: 's', required: false, type: 'string' },
  ],
} as IcebergSchema;

let seed = 11;
const random = () => {
  seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
  return seed / 2 ** 32;
};
const LONGS = [
  0n,
  -1n,
  1n,
  2n ** 31n,
  -(2n ** 31n),
  2n ** 32n - 1n,
  2n ** 32n,
  -(2n ** 32n),
  2n ** 53n + 1n,
  -(2n ** 63n),
  2n ** 63n - 1n,
];
const STRINGS = [
  '',
  'a',
  'ab',
  'b',
  'BTCUSDT',
  'é',
  'e\u0301',
  '€',
  '😀',
  '\u007f',
  'zz',
  'aaaaaaaaaaaaaaaaaaaaa',
];

function chunk(rows: number): { set: ColumnSet; longs: (bigint | null)[]; strings: (string | null)[] } {
  const longs = Array.from({ length: rows }, () =>
    random() < 0.2
      ? null
      : random() < 0.5
        ? LONGS[Math.floor(random() * LONGS.length)]!
        : BigInt(Math.floor((random() - 0.5) * 2 ** 40)),
  );
  const strings = Array.from({ length: rows }, () =>
    random() < 0.2
      ? null
      : STRINGS[Math.floor(random() * STRINGS.length)]! +
        (random() < 0.3 ? String(Math.floor(random() * 100)) : ''),
  );
  const validity = (values: unknown[]) => {
    const bits = new Uint8Array(Math.ceil(values.length / 8));
    values.forEach((v, i) => {
      if (v !== null) bits[i >> 3]! |= 1 << (i & 7);
    });
    return bits;
  };
  const encoded = strings.map((s) => Buffer.from(s ?? ''));
  const offsets = new Int32Array(rows + 1);
  encoded.forEach((b, i) => {
    offsets[i + 1] = offsets[i]! + b.length;
  });
  const n: Int64Column = {
    kind: 'int64',
    values: BigInt64Array.from(longs, (v) => v ?? 0n),
    validity: validity(longs),
  };
  const s: Utf8Column = {
    kind: 'utf8',
    offsets,
    data: new Uint8Array(Buffer.concat(encoded)),
    validity: validity(strings),
  };
  return { set: { rowCount: rows, columns: { n, s } }, longs, strings };
}

describe('data file statistics', () => {
  it('bounds and null counts equal the plain definitions (bigint order, UTF-8 byte order) over random chunks', () => {
    for (let trial = 0; trial < 200; trial++) {
      const chunks = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
        chunk(Math.floor(random() * 40)),
      );
      const stats = dataFileStats(
        schema,
        chunks.map((c) => c.set),
        [],
        [],
      );
      const longs = chunks.flatMap((c) => c.longs).filter((v) => v !== null);
      const strings = chunks.flatMap((c) => c.strings).filter((v) => v !== null);
      expect(stats.nullValueCounts.get(1)).toBe(chunks.flatMap((c) => c.longs).length - longs.length);
      expect(stats.nullValueCounts.get(2)).toBe(chunks.flatMap((c) => c.strings).length - strings.length);
      if (longs.length === 0) expect(stats.lowerBounds.has(1)).toBe(false);
      else {
        const sorted = longs.toSorted((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(decodeBound('long', stats.lowerBounds.get(1)!)).toBe(sorted[0]);
        expect(decodeBound('long', stats.upperBounds.get(1)!)).toBe(sorted.at(-1));
      }
      if (strings.length > 0) {
        const sorted = strings.toSorted((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        const lower = decodeBound('string', stats.lowerBounds.get(2)!) as string;
        expect(lower).toBe(Array.from(sorted[0]!).slice(0, STRING_BOUND_LENGTH).join(''));
        const upper = decodeBound('string', stats.upperBounds.get(2)!) as string;
        expect(Buffer.compare(Buffer.from(upper), Buffer.from(sorted.at(-1)!))).toBeGreaterThanOrEqual(0);
        if (Array.from(sorted.at(-1)!).length <= STRING_BOUND_LENGTH) expect(upper).toBe(sorted.at(-1));
      }
    }
  });
});
