import { describe, expect, it } from 'vitest';
import { type ColumnSet, type Int64Column, int64At, stringAt } from '../../src/codec/columns.js';
import { type FileLayout, partitionRows } from '../../src/codec/layout.js';
import type { PartitionField } from '../../src/iceberg/metadata.js';
import { applyTransform, parseTransform } from '../../src/iceberg/transforms.js';
import type { IcebergSchema } from '../../src/iceberg/types.js';
import { EDGE_LONGS, int64Column, seededRandom, utf8Column } from '../support/columns.js';

const schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'symbol', required: false, type: 'string' },
    { id: 2, name: 'exchange', required: false, type: 'string' },
    { id: 3, name: 'ts', required: false, type: 'timestamptz' },
    { id: 4, name: 'n', required: false, type: 'long' },
  ],
} as IcebergSchema;

const random = seededRandom(5);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

const DAY = 86_400_000_000n;
const HOUR = 3_600_000_000n;
/** Past U+FFFF (😀) against U+E000-U+FFFF (Ａ): code point order, not UTF-16's. */
const STRINGS = ['', 'A', 'AB', 'ABC', 'B', 'BTCUSDT', 'ETHUSDT', 'é', 'z', '€', '\u{1f600}', '\uff21', 'ab'];
const LONGS = EDGE_LONGS;
/** Around day and hour boundaries, before and after 1970, and beyond the safe-integer range. */
const TIMES = [
  0n,
  -1n,
  DAY - 1n,
  DAY,
  -DAY,
  -DAY - 1n,
  20_000n * DAY - 1n,
  20_000n * DAY,
  20_000n * DAY + HOUR - 1n,
  20_000n * DAY + HOUR,
  1_735_689_600_000_000n,
  2n ** 53n + 7n,
  -(2n ** 60n),
];

function randomSet(rows: number, nulls: number): ColumnSet {
  const maybe = <T>(value: T): T | null => (random() < nulls ? null : value);
  // Runs of one exchange and mostly ascending times, as market data arrives; random values between.
  let exchange = pick(STRINGS);
  let time = 20_000n * DAY - 5n;
  const columns = Array.from({ length: rows }, () => {
    if (random() < 0.1) exchange = pick(STRINGS);
    time = random() < 0.8 ? time + BigInt(Math.floor(random() * 3)) : pick(TIMES);
    return {
      symbol: maybe(pick(STRINGS)),
      exchange: maybe(exchange),
      ts: maybe(time),
      n: maybe(pick(LONGS)),
    };
  });
  return {
    rowCount: rows,
    columns: {
      symbol: utf8Column(columns.map((c) => c.symbol)),
      exchange: utf8Column(columns.map((c) => c.exchange)),
      ts: int64Column(columns.map((c) => c.ts)),
      n: int64Column(columns.map((c) => c.n)),
    },
  };
}

const field = (source: number, transform: string, id: number): PartitionField => ({
  name: `f${id}`,
  transform,
  'source-id': source,
  'field-id': id,
});

/** The obvious implementation: a value tuple per row, a JavaScript sort with nulls first. */
function reference(layout: FileLayout, sets: ColumnSet[], keep: (Int32Array | null)[]) {
  const byId = new Map(schema.fields.map((f) => [f.id, f]));
  const value = (set: ColumnSet, name: string, row: number) => {
    const column = set.columns[name]!;
    return column.kind === 'utf8' ? stringAt(column, row) : int64At(column as Int64Column, row);
  };
  const groups = new Map<string, { partition: unknown[]; picks: [number, number][] }>();
  sets.forEach((set, s) => {
    for (const row of keep[s] ?? Array.from({ length: set.rowCount }, (_, i) => i)) {
      const partition = layout.partitionFields.map((f) => {
        const source = byId.get(f['source-id'])!;
        return applyTransform(parseTransform(f.transform), source.type, value(set, source.name, row));
      });
      const key = partition.map((v) => `${typeof v}:${String(v)}`).join('|');
      if (!groups.has(key)) groups.set(key, { partition, picks: [] });
      groups.get(key)!.picks.push([s, row]);
    }
  });
  const compare = (x: unknown, y: unknown): number => {
    if (x === null || y === null) return x === y ? 0 : x === null ? -1 : 1;
    if (typeof x === 'bigint') return x < (y as bigint) ? -1 : x > (y as bigint) ? 1 : 0;
    return Buffer.compare(Buffer.from(x as string), Buffer.from(y as string));
  };
  return [...groups.values()].map((g) => ({
    partition: g.partition,
    picks: g.picks
      .map((p, arrival) => ({ p, arrival }))
      .sort((a, b) => {
        for (const name of layout.sortColumns) {
          const c = compare(value(sets[a.p[0]]!, name, a.p[1]), value(sets[b.p[0]]!, name, b.p[1]));
          if (c !== 0) return c;
        }
        return a.arrival - b.arrival;
      })
      .map(({ p }) => p),
  }));
}

const layouts: [string, FileLayout][] = [
  [
    'day(ts) + identity(exchange), by symbol then ts (trades)',
    {
      specId: 0,
      partitionFields: [field(3, 'day', 1000), field(2, 'identity', 1001)],
      sortColumns: ['symbol', 'ts'],
    },
  ],
  [
    'hour(ts), by a long then symbol',
    { specId: 0, partitionFields: [field(3, 'hour', 1000)], sortColumns: ['n', 'symbol'] },
  ],
  [
    'three fields with bucket and truncate (the generic path), by ts',
    {
      specId: 0,
      partitionFields: [
        field(1, 'bucket[3]', 1000),
        field(2, 'truncate[1]', 1001),
        field(4, 'identity', 1002),
      ],
      sortColumns: ['ts'],
    },
  ],
  ['unpartitioned, unsorted', { specId: 0, partitionFields: [], sortColumns: [] }],
];

describe('partitionRows: the allocation-free split and sort agree with the obvious implementation', () => {
  for (const [name, layout] of layouts) {
    it(name, () => {
      for (let trial = 0; trial < 30; trial++) {
        const sets = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
          randomSet(Math.floor(random() * 300), trial % 3 === 0 ? 0 : 0.2),
        );
        const keep = sets.map((set) =>
          random() < 0.5
            ? null
            : Int32Array.from({ length: set.rowCount }, (_, i) => i).filter(() => random() < 0.7),
        );
        const expected = reference(layout, sets, keep);
        const actual = partitionRows(schema, layout, sets, keep).map((part) => ({
          partition: layout.partitionFields.map((f) => part.partition.get(f['field-id'])),
          picks: [...part.picks.rows].map((row, i) => [part.picks.sources[i]!, row]),
        }));
        expect(actual).toEqual(expected);
      }
    });
  }
});
