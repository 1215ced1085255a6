import type { PartitionValue } from '../iceberg/datafile.js';
import type { PartitionField } from '../iceberg/metadata.js';
import { applyTransform, parseTransform } from '../iceberg/transforms.js';
import type { IcebergSchema, NestedField } from '../iceberg/types.js';
import { type Column, type ColumnSet, isPresent } from './columns.js';
import type { RowPicks } from './select.js';

/** How a table's rows are laid out in files: its partition spec and sort order. */
export interface FileLayout {
  specId: number;
  partitionFields: readonly PartitionField[];
  /** Sort columns, ascending, nulls first (K2's tables sort by symbol then time). */
  sortColumns: readonly string[];
}

export interface PartitionRows {
  partition: Map<number, PartitionValue>;
  picks: RowPicks;
}

/**
 * Splits the kept rows of `sets` by partition tuple and sorts each part by the layout's sort
 * columns: one part becomes one data file. `keep[i]` null keeps every row of set i.
 */
export function partitionRows(
  schema: IcebergSchema,
  layout: FileLayout,
  sets: readonly ColumnSet[],
  keep: readonly (Int32Array | null)[],
): PartitionRows[] {
  const byName = new Map(schema.fields.map((f) => [f.name, f]));
  const byId = new Map(schema.fields.map((f) => [f.id, f]));
  const sources = layout.partitionFields.map((field) => {
    const source = byId.get(field['source-id']);
    if (!source) throw new TypeError(`partition field ${field.name} has no source column`);
    return { field, source, transform: parseTransform(field.transform) };
  });
  const groups = new Map<
    string,
    { partition: Map<number, PartitionValue>; sources: number[]; rows: number[] }
  >();
  sets.forEach((set, s) => {
    const rows = keep[s] ?? Int32Array.from({ length: set.rowCount }, (_, i) => i);
    for (const row of rows) {
      const values = sources.map(({ source, transform }) =>
        applyTransform(transform, source.type, valueAt(set.columns[source.name], source, row)),
      );
      const key = values.map((v) => (typeof v === 'bigint' ? `${v}n` : JSON.stringify(v))).join('\u0000');
      let group = groups.get(key);
      if (!group) {
        group = {
          partition: new Map(sources.map(({ field }, i) => [field['field-id'], values[i] as PartitionValue])),
          sources: [],
          rows: [],
        };
        groups.set(key, group);
      }
      group.sources.push(s);
      group.rows.push(row);
    }
  });
  const sortFields = layout.sortColumns.map((name) => {
    const field = byName.get(name);
    if (!field) throw new TypeError(`sort column ${name} is not in the schema`);
    return field;
  });
  return [...groups.values()].map((group) => ({
    partition: group.partition,
    picks: sortPicks(sets, sortFields, Int32Array.from(group.sources), Int32Array.from(group.rows)),
  }));
}

function valueAt(column: Column | undefined, field: NestedField, row: number): bigint | string | null {
  if (!column) throw new TypeError(`no column for ${field.name}`);
  if (!isPresent(column.validity, row)) return null;
  if (column.kind === 'int64') return column.values[row]!;
  if (column.kind === 'utf8') {
    return Buffer.from(column.data.buffer, column.data.byteOffset, column.data.byteLength).toString(
      'utf8',
      column.offsets[row],
      column.offsets[row + 1],
    );
  }
  throw new TypeError(`cannot partition by the nested column ${field.name}`);
}

function sortPicks(
  sets: readonly ColumnSet[],
  fields: readonly NestedField[],
  sources: Int32Array,
  rows: Int32Array,
): RowPicks {
  if (fields.length === 0) return { sources, rows };
  const order = Int32Array.from({ length: rows.length }, (_, i) => i);
  const columns = fields.map((f) => sets.map((set) => set.columns[f.name]!));
  order.sort((a, b) => {
    for (const perSet of columns) {
      const c = compareRows(perSet[sources[a]!]!, rows[a]!, perSet[sources[b]!]!, rows[b]!);
      if (c !== 0) return c;
    }
    return a - b;
  });
  return { sources: order.map((i) => sources[i]!), rows: order.map((i) => rows[i]!) };
}

/** Nulls first, then by value: bytes for strings (UTF-8 order is code-point order), numbers for longs. */
function compareRows(x: Column, i: number, y: Column, j: number): number {
  const xp = isPresent(x.validity, i);
  const yp = isPresent(y.validity, j);
  if (!xp || !yp) return xp === yp ? 0 : xp ? 1 : -1;
  if (x.kind === 'int64' && y.kind === 'int64') {
    const a = x.values[i]!;
    const b = y.values[j]!;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (x.kind === 'utf8' && y.kind === 'utf8') {
    return Buffer.compare(
      x.data.subarray(x.offsets[i]!, x.offsets[i + 1]!),
      y.data.subarray(y.offsets[j]!, y.offsets[j + 1]!),
    );
  }
  return 0;
}
