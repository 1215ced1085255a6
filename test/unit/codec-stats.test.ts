import { describe, expect, it } from 'vitest';
import type { ColumnSet } from '../../src/codec/columns.js';
import { dataFileStats, STRING_BOUND_LENGTH } from '../../src/codec/stats.js';
import { decodeBound } from '../../src/iceberg/bounds.js';
import type { IcebergSchema } from '../../src/iceberg/types.js';
import { EDGE_LONGS, int64Column, seededRandom, utf8Column } from '../support/columns.js';

const schema: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'n', required: false, type: 'long' },
    { id: 2, name: 's', required: false, type: 'string' },
  ],
} as IcebergSchema;

const random = seededRandom(11);
const LONGS = EDGE_LONGS;
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
  const n = int64Column(longs);
  const s = utf8Column(strings);
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
