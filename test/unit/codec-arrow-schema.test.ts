import { DataType, type Field } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { truncateUpper } from '../../src/codec/stats.js';
import { arrowSchema, leafFieldIds, PARQUET_FIELD_ID } from '../../src/iceberg/arrow-schema.js';
import { decodeBound } from '../../src/iceberg/bounds.js';
import { type IcebergType, type TableName, tableNames, tableSchema } from '../../src/iceberg/types.js';

/** Every field id in an Iceberg type tree, depth first, nested ids included. */
function icebergIds(fields: { id: number; type: IcebergType }[]): number[] {
  const out: number[] = [];
  const visit = (type: IcebergType) => {
    if (typeof type === 'string') return;
    if (type.type === 'list') {
      out.push(type['element-id']);
      visit(type.element);
    } else if (type.type === 'map') {
      out.push(type['key-id'], type['value-id']);
      visit(type.key);
      visit(type.value);
    } else
      for (const field of type.fields) {
        out.push(field.id);
        visit(field.type);
      }
  };
  visit({ type: 'struct', fields: fields.map((f) => ({ ...f, name: '', required: true })) });
  return out;
}

/** Every PARQUET:field_id in an Arrow field tree, skipping the map's unnamed entries struct. */
function arrowIds(fields: readonly Field[]): number[] {
  const out: number[] = [];
  for (const field of fields) {
    const id = field.metadata.get(PARQUET_FIELD_ID);
    if (id !== undefined) out.push(Number(id));
    const children = (field.type.children ?? []) as Field[];
    if (DataType.isMap(field.type)) out.push(...arrowIds((children[0]!.type.children ?? []) as Field[]));
    else out.push(...arrowIds(children));
  }
  return out;
}

describe('Arrow schemas derived from the recorded Iceberg schemas', () => {
  it.each(tableNames.map((t) => [t]))(
    '%s: every field, element, key and value carries its Iceberg id',
    (table: TableName) => {
      const iceberg = tableSchema(table);
      const arrow = arrowSchema(iceberg);
      expect(arrowIds(arrow.fields)).toEqual(icebergIds(iceberg.fields));
      expect(arrow.fields.map((f) => f.name)).toEqual(iceberg.fields.map((f) => f.name));
      expect(arrow.fields.map((f) => f.nullable)).toEqual(iceberg.fields.map((f) => !f.required));
    },
  );

  it('maps the types K2 lands to the Arrow types that become the Iceberg Parquet types', () => {
    const fields = Object.fromEntries(
      arrowSchema(tableSchema('trades_v2')).fields.map((f) => [f.name, f.type]),
    );
    expect(String(fields.price)).toBe('Decimal[18e+8]');
    expect(fields.price?.bitWidth).toBe(64);
    expect(String(fields.timestamp)).toBe('Timestamp<MICROSECOND, UTC>');
    expect(String(fields.source_sequence)).toBe('Int64');
    expect(String(fields.symbol)).toBe('Utf8');
    expect(String(fields.trade_conditions)).toBe('List<Utf8>');
    expect(DataType.isMap(fields.vendor_data)).toBe(true);
  });

  it('lists the leaf field ids in Parquet column order', () => {
    expect(leafFieldIds(tableSchema('trades_v2'))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 12, 13, 14, 17, 18,
    ]);
    expect(leafFieldIds(tableSchema('quotes_v2'))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16,
    ]);
  });

  it('field ids are recorded in the repo and unique per table', () => {
    for (const table of tableNames) {
      const ids = icebergIds(tableSchema(table).fields);
      expect(new Set(ids).size, table).toBe(ids.length);
    }
  });
});

describe('string bounds (Iceberg truncate(16))', () => {
  it('keeps short strings, truncates long ones to an upper bound that still sorts after the value', () => {
    expect(decodeBound('string', truncateUpper('BTCUSDT')!)).toBe('BTCUSDT');
    expect(decodeBound('string', truncateUpper('abcdefghijklmnopqrstuvwxyz')!)).toBe('abcdefghijklmnoq');
    const long = `${'\u{10FFFF}'.repeat(15)}a-tail`;
    expect(decodeBound('string', truncateUpper(long)!)).toBe(`${'\u{10FFFF}'.repeat(15)}b`);
    expect(truncateUpper('\u{10FFFF}'.repeat(17))).toBeUndefined();
    expect(decodeBound('string', truncateUpper(`${'x'.repeat(15)}\uD7FFzz`)!)).toBe(
      `${'x'.repeat(15)}\uE000`,
    );
  });
});
