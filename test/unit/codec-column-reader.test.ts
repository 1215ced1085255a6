import { describe, expect, it, vi } from 'vitest';
import { avroType } from '../../src/codec/avro-types.js';
import {
  type Column,
  type Int64Column,
  int64At,
  isPresent,
  type Utf8Column,
} from '../../src/codec/columns.js';
import { type DecodedBatch, TableDecoder, type WriterSchemas } from '../../src/codec/decode.js';
import { defaultRowRules, RowBuilders } from '../../src/codec/rows.js';
import { type AvroSchemaName, avroSchema, tableRecords } from '../../src/codec/schemas.js';
import { frame } from '../../src/codec/wire.js';
import type { TableName } from '../../src/iceberg/types.js';
import { batchOf, encode, ids, T0, trade, writers } from './codec-fixtures.js';

/** mulberry32: seeded, so a failing case can be replayed from its seed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}
type Random = ReturnType<typeof random>;

const texts = ['BTCUSDT', 'x', 'Zürich-€-日本', '😀 emoji', 'a'.repeat(60), 'é'.repeat(40), 'NASDAQ', ' '];
const longEdges = [
  0,
  -1,
  1,
  63,
  -64,
  64,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 52 - 1,
  -(2 ** 52) + 1,
  2 ** 53 - 1,
  -(2 ** 53) + 1,
];
const bigLongs = [2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 62n + 3n, 2n ** 63n - 1n, -(2n ** 63n)];
const T0_MILLIS = Math.floor(T0 / 1000);

/**
 * How far random values go: `plain` stays within what the specialised readers take (safe integers
 * after rescaling), `valid` covers every value the table accepts (longs and decimals past 2^53),
 * `edges` mixes in values the rules refuse (empty identity strings, negative sizes, decimals past
 * precision 18, timestamps out of range).
 */
type Mode = 'plain' | 'valid' | 'edges';

/** A random value of an Avro schema (JSON form). */
function randomValue(
  schema: unknown,
  r: Random,
  mode: Mode,
  field = '',
  depth = 0,
  inUnion = false,
): unknown {
  if (Array.isArray(schema)) {
    const nonNull = schema.filter((s) => s !== 'null');
    if (schema.includes('null') && (r.int(3) === 0 || depth > 2)) return null;
    return randomValue(r.pick(nonNull), r, mode, field, depth + 1, true);
  }
  const type = typeof schema === 'string' ? schema : (schema as { type: unknown }).type;
  const attrs = (typeof schema === 'object' ? schema : {}) as Record<string, unknown>;
  if (typeof type !== 'string') return randomValue(type, r, mode, field, depth, inUnion);
  switch (attrs.logicalType) {
    case 'decimal':
      return decimal(r, mode, field, Number(attrs.precision), Number(attrs.scale ?? 0));
    case 'timestamp-micros':
      if (mode !== 'edges' || r.int(4) > 0) return T0 + r.int(2 ** 40) - 2 ** 39;
      return r.pick([
        0,
        7_258_118_400_000_000,
        7_258_118_400_000_001,
        -1,
        2 ** 52 + 1,
        1_704_067_200_000_000_000n,
      ]);
    case 'timestamp-millis':
      if (mode !== 'edges' || r.int(4) > 0) return T0_MILLIS + r.int(2 ** 30);
      return r.pick([0, 7_258_118_400_001, 2 ** 50]);
  }
  switch (type) {
    case 'string':
      if (mode === 'edges' && defaultRowRules.nonEmpty.has(field) && r.int(10) === 0) return '';
      return r.int(3) === 0 ? r.pick(texts) : `${field}-${r.int(1e9).toString(36)}`;
    case 'bytes':
      return Buffer.from(r.pick(texts));
    case 'long':
      if (mode !== 'plain' && !inUnion && r.int(4) === 0) return r.pick(bigLongs);
      if (r.int(3) > 0) return r.int(2 ** 40) - 2 ** 39;
      return r.pick(mode === 'plain' ? longEdges.filter((v) => Math.abs(v) < 2 ** 52) : longEdges);
    case 'int':
      return r.int(2 ** 32) - 2 ** 31;
    case 'double':
    case 'float':
      return r.int(1000) / 8;
    case 'boolean':
      return r.int(2) === 0;
    case 'fixed':
      return Buffer.from(Array.from({ length: Number(attrs.size) }, () => r.int(256)));
    case 'enum':
      return r.pick(attrs.symbols as string[]);
    case 'array':
      return Array.from({ length: r.pick([0, 0, 1, 3]) }, () =>
        randomValue(attrs.items, r, mode, field, depth + 1),
      );
    case 'map':
      return Object.fromEntries(
        Array.from({ length: r.pick([0, 1, 2, 4]) }, (_, i) => [
          `${r.pick(texts)}${i}`,
          randomValue(attrs.values, r, mode, field, depth + 1),
        ]),
      );
    case 'record':
      return Object.fromEntries(
        (attrs.fields as { name: string; type: unknown }[]).map((f) => [
          f.name,
          randomValue(f.type, r, mode, f.name, depth + 1),
        ]),
      );
    default: // a named type defined earlier: only the recursive Node of the variants below
      return null;
  }
}

/** An unscaled decimal of 1 to 8 bytes, or (edges) beyond precision, or negative where refused. */
function decimal(r: Random, mode: Mode, field: string, precision: number, scale: number): bigint {
  const widths = [4, 7, 8, 15, 16, 23, 31, 36];
  const bits = BigInt(r.pick(mode === 'plain' ? widths : [...widths, 39, 47, 48, 52, 53, 55, 59]));
  let value = BigInt(r.int(2 ** 30)) * 2n ** 30n + BigInt(r.int(2 ** 30));
  value %= 2n ** bits;
  const limit = 10n ** BigInt(precision);
  if (value >= limit) value = limit - 1n;
  if (r.int(2) === 0 && (mode === 'edges' || !defaultRowRules.nonNegative.has(field))) value = -value;
  if (scale > 8) value = (value / 10n ** BigInt(scale - 8)) * 10n ** BigInt(scale - 8); // exact at scale 8
  if (mode === 'edges' && r.int(12) === 0) return r.pick([limit, -limit, -1n, 10n ** 18n - 1n]);
  return value;
}

interface Variant {
  name: string;
  table: TableName;
  schema: string;
  /** Whether a specialised reader is compiled for the writer (else every record goes the generic way). */
  specialised: boolean;
}

function variant(
  table: TableName,
  name: string,
  edit: (fields: { name: string; type: unknown; default?: unknown }[]) => void,
  specialised = true,
): Variant {
  const schema = avroSchema(tableRecords[table].current);
  edit(schema.fields);
  return { name, table, schema: JSON.stringify(schema), specialised };
}

type FieldSchema = { name: string; type: unknown; default?: unknown };
const byName = (fields: FieldSchema[], name: string) => fields.find((f) => f.name === name)!;
const without = (fields: { name: string }[], ...names: string[]) => {
  for (const name of names)
    fields.splice(
      fields.findIndex((f) => f.name === name),
      1,
    );
};
const decimalOf = (precision: number, scale: number) => ({
  type: 'bytes',
  logicalType: 'decimal',
  precision,
  scale,
});

const current = (table: TableName): Variant => variant(table, tableRecords[table].current, () => {});

/** v2 writers as producers might register them: each needs Avro schema resolution into the reader. */
const variants: Variant[] = [
  current('trades_v2'),
  current('quotes_v2'),
  current('reference_data_v2'),
  variant('trades_v2', 'older: no trade_conditions, platform_sequence, vendor_data', (f) =>
    without(f, 'trade_conditions', 'platform_sequence', 'vendor_data'),
  ),
  variant('trades_v2', 'fields in reverse order', (f) => f.reverse()),
  variant('trades_v2', 'unions reordered, int promoted to long', (f) => {
    byName(f, 'source_sequence').type = ['long', 'null'];
    byName(f, 'platform_sequence').type = ['null', 'int'];
  }),
  variant('trades_v2', 'price at scale 4 (rescaled up)', (f) => {
    byName(f, 'price').type = decimalOf(18, 4);
  }),
  variant('trades_v2', 'price at scale 10, precision 20 (rescaled down when exact)', (f) => {
    byName(f, 'price').type = decimalOf(20, 10);
  }),
  variant('quotes_v2', 'timestamps in milliseconds', (f) => {
    for (const name of ['timestamp', 'ingestion_timestamp'])
      byName(f, name).type = { type: 'long', logicalType: 'timestamp-millis' };
  }),
  variant('trades_v2', 'side enum wider and reordered', (f) => {
    byName(f, 'side').type = {
      type: 'enum',
      name: 'TradeSide',
      symbols: ['CROSS', 'UNKNOWN', 'SELL_SHORT', 'SELL', 'BUY'],
    };
  }),
  variant('reference_data_v2', 'strings written as bytes', (f) => {
    for (const name of ['symbol', 'name']) byName(f, name).type = 'bytes';
    byName(f, 'vendor_data').type = ['null', { type: 'map', values: 'bytes' }];
  }),
  variant('trades_v2', 'writer-only fields of every skippable type', (f) => {
    f.splice(3, 0, { name: 'note', type: ['null', 'string'], default: null });
    f.push({
      name: 'extra',
      type: {
        type: 'record',
        name: 'Extra',
        fields: [
          { name: 'a', type: 'int' },
          { name: 'b', type: 'double' },
          { name: 'c', type: 'boolean' },
          { name: 'd', type: { type: 'fixed', name: 'Three', size: 3 } },
          { name: 'e', type: { type: 'array', items: 'long' } },
          { name: 'f', type: { type: 'map', values: 'bytes' } },
          { name: 'g', type: ['null', 'float'] },
          { name: 'h', type: { type: 'enum', name: 'Colour', symbols: ['RED', 'GREEN'] } },
          { name: 'i', type: decimalOf(9, 2) },
        ],
      },
    });
  }),
  variant('trades_v2', 'source_sequence a plain long (exact past 2^53)', (f) => {
    const field = byName(f, 'source_sequence');
    field.type = 'long';
    delete field.default;
  }),
  variant(
    'trades_v2',
    'a recursive writer-only record (not specialised)',
    (f) => {
      f.push({
        name: 'chain',
        type: { type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'] }] },
      });
    },
    false,
  ),
];

const VARIANT_ID = 500;
const writersOf = (v: Variant): WriterSchemas =>
  writers({ [VARIANT_ID + variants.indexOf(v)]: { schema: v.schema } });

function records(v: Variant, count: number, seed: number, mode: Mode): Buffer[] {
  const r = random(seed);
  const type = avroType(v.schema);
  const schema = JSON.parse(v.schema) as unknown;
  const id = VARIANT_ID + variants.indexOf(v);
  return Array.from({ length: count }, () => frame(id, type.toBuffer(randomValue(schema, r, mode))));
}

/** A column's row as plain values; strings as their exact bytes. */
function cell(column: Column, row: number): unknown {
  if (!isPresent(column.validity, row)) return null;
  const bytes = (c: Utf8Column, i: number) =>
    Buffer.from(c.data.subarray(c.offsets[i], c.offsets[i + 1])).toString('hex');
  const range = (offsets: Int32Array) =>
    Array.from({ length: offsets[row + 1]! - offsets[row]! }, (_, i) => offsets[row]! + i);
  switch (column.kind) {
    case 'int64':
      return int64At(column, row);
    case 'utf8':
      return bytes(column, row);
    case 'list':
      return range(column.offsets).map((i) => bytes(column.items, i));
    case 'map':
      return range(column.offsets).map((i) => [bytes(column.keys, i), bytes(column.values, i)]);
  }
}

function snapshot(batch: DecodedBatch) {
  const columns = Object.entries(batch.columns).map(([name, column]) => [
    name,
    Array.from({ length: batch.rowCount }, (_, row) => cell(column, row)),
  ]);
  const failures = batch.failures.map((f) => ({ ...f, value: Buffer.from(f.value).toString('hex') }));
  return { rowCount: batch.rowCount, offsets: [...batch.offsets], failures, columns };
}

/**
 * Decodes with the specialised readers and with the generic path only, expects the same batch, and
 * counts the records the specialised decode handed to the generic row path.
 */
function decodeBoth(table: TableName, values: Uint8Array[], resolved: WriterSchemas) {
  const batch = batchOf(values, 1_000n);
  const generic = vi.spyOn(RowBuilders.prototype, 'append');
  const fast = new TableDecoder(table).decode(batch, resolved);
  const fellBack = generic.mock.calls.length;
  generic.mockRestore();
  const reference = new TableDecoder(table, undefined, { specialised: false }).decode(batch, resolved);
  expect(snapshot(fast)).toEqual(snapshot(reference));
  expect(fast.rowCount + fast.failures.length).toBe(values.length);
  return { batch: fast, fellBack };
}

const cases = variants.map((v) => [v.name, v] as const);
const currentOf = (table: TableName) => variants.find((v) => v.name === tableRecords[table].current)!;

describe('specialised column readers', () => {
  it.each(cases)('%s: records read straight to columns, as the generic path reads them', (_name, v) => {
    const values = records(v, 1_500, 7_000 + variants.indexOf(v), 'plain');
    const { batch, fellBack } = decodeBoth(v.table, values, writersOf(v));
    expect(fellBack).toBe(v.specialised ? 0 : batch.rowCount);
    expect(batch.rowCount).toBeGreaterThan(1_000);
  });

  it.each(cases)('%s: the full value range, exact past 2^53, as on the generic path', (_name, v) => {
    const { batch } = decodeBoth(
      v.table,
      records(v, 1_500, 8_000 + variants.indexOf(v), 'valid'),
      writersOf(v),
    );
    expect(batch.rowCount).toBeGreaterThan(1_000);
  });

  it.each(cases)('%s: refused values fail exactly as on the generic path', (_name, v) => {
    const { batch } = decodeBoth(
      v.table,
      records(v, 1_500, 9_000 + variants.indexOf(v), 'edges'),
      writersOf(v),
    );
    expect(batch.failures.length).toBeGreaterThan(0);
    expect(batch.rowCount).toBeGreaterThan(0);
  });

  it('edge values: null sequence, empty map and list, negative exact longs, max-precision decimals, bounds', () => {
    const values = [
      trade(1, { source_sequence: null, vendor_data: {}, trade_conditions: [] }),
      trade(2, { platform_sequence: -(2 ** 52) + 1, source_sequence: -1 }),
      trade(3, { platform_sequence: -(2 ** 53) + 1, source_sequence: 2 ** 53 - 1 }),
      trade(4, { price: 10n ** 18n - 1n, quantity: 10n ** 18n - 1n }),
      trade(5, { price: -(10n ** 18n) + 1n }),
      trade(6, { price: 2n ** 53n - 1n, quantity: 2n ** 47n }),
      trade(7, { price: -(2n ** 47n), quantity: 0 }),
      trade(8, { timestamp: 0, ingestion_timestamp: 7_258_118_400_000_000 }),
      trade(9, { timestamp: 2 ** 52 - 1, symbol: 'Zürich-€-日本', currency: 'a'.repeat(70) }),
      trade(10, { vendor_data: { '': '', ключ: 'значение' }, trade_conditions: ['', '@'] }),
    ].map((record) => encode('trade_v2', record));
    const { batch } = decodeBoth('trades_v2', values, writers());
    expect(batch.failures).toEqual([]);
    const column = (name: string) => batch.columns[name] as Int64Column;
    expect(int64At(column('source_sequence'), 0)).toBeNull();
    expect(int64At(column('platform_sequence'), 1)).toBe(-(2n ** 52n) + 1n);
    expect(int64At(column('platform_sequence'), 2)).toBe(-(2n ** 53n) + 1n);
    expect(int64At(column('price'), 3)).toBe(10n ** 18n - 1n);
    expect(int64At(column('price'), 4)).toBe(-(10n ** 18n) + 1n);
    expect(int64At(column('price'), 6)).toBe(-(2n ** 47n));
    expect(int64At(column('ingestion_timestamp'), 7)).toBe(7_258_118_400_000_000n);
  });

  it('v1 records (upgraded on the generic path) interleave with v2 records in one batch', () => {
    const r = random(42);
    const legacy: [AvroSchemaName, TableName][] = [
      ['trade', 'trades_v2'],
      ['quote', 'quotes_v2'],
      ['reference_data', 'reference_data_v2'],
    ];
    for (const [name, table] of legacy) {
      const v1 = avroSchema(name);
      const v2 = currentOf(table);
      const values = records(v2, 300, 11, 'valid').flatMap((value, i) => {
        const old = randomValue(v1, r, 'valid') as Record<string, unknown>;
        if (name === 'reference_data') old.status = r.pick(['active', 'SUSPENDED', 'delisted', 'halted']);
        return i % 3 === 0 ? [value, encode(name, old, ids[name])] : [value];
      });
      const { batch, fellBack } = decodeBoth(table, values, writersOf(v2));
      expect(batch.rowCount).toBeGreaterThan(300);
      expect(fellBack).toBeGreaterThanOrEqual(100); // the v1 records
    }
  });

  it('mutated inputs: every row and every failure the same as on the generic path', () => {
    const r = random(20_261_124);
    for (const v of variants) {
      const seeds = records(v, 32, 3_000 + variants.indexOf(v), 'valid');
      const mutated = Array.from({ length: 3_000 }, () => {
        const value = Buffer.from(r.pick(seeds));
        switch (r.int(6)) {
          case 0:
            for (let k = 1 + r.int(3); k > 0; k--) {
              const at = 5 + r.int(value.length - 5);
              value[at] = value[at]! ^ (1 << r.int(8));
            }
            return value;
          case 1:
            value[5 + r.int(value.length - 5)] = r.pick([0, 1, 2, 0x7f, 0x80, 0xff, r.int(256)]);
            return value;
          case 2:
            return value.subarray(0, 5 + r.int(value.length - 5));
          case 3:
            return Buffer.concat([value, Buffer.from([r.int(256)])]);
          case 4: {
            const at = 5 + r.int(value.length - 5);
            const bomb = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
            return Buffer.concat([
              value.subarray(0, at),
              bomb.subarray(0, 1 + r.int(10)),
              value.subarray(at),
            ]);
          }
          default: {
            const at = 5 + r.int(value.length - 5);
            return Buffer.concat([value.subarray(0, at), value.subarray(at + 1 + r.int(4))]);
          }
        }
      });
      decodeBoth(v.table, mutated, writersOf(v));
    }
  });

  it('a hostile block count in a writer-only array or map fails the record instead of spinning', () => {
    const v = variants.find((x) => x.name.startsWith('writer-only'))!;
    const [value] = records(v, 1, 77, 'valid');
    // The Extra record ends with its decimal `i`; splice a huge count into `e` (array<long>) instead.
    const record = randomValue(JSON.parse(v.schema), random(78), 'valid') as Record<string, unknown>;
    const extra = record.extra as Record<string, unknown>;
    const type = avroType(v.schema);
    const base = type.toBuffer({ ...record, extra: { ...extra, e: [7], f: {} } });
    const item = Buffer.from([0x02, 0x0e, 0x00]); // one block of one long (7), then the end
    const at = base.indexOf(item, base.length - 40);
    expect(at).toBeGreaterThan(0);
    const huge = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    const hostile = Buffer.concat([base.subarray(0, at), huge, base.subarray(at + 1)]);
    const id = VARIANT_ID + variants.indexOf(v);
    const { batch } = decodeBoth(v.table, [value!, frame(id, hostile)], writersOf(v));
    expect(batch.rowCount).toBe(1);
    expect(batch.failures.map((f) => f.code)).toEqual(['K2_DECODE_TRUNCATED']);
  });
});
