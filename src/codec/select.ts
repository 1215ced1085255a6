import {
  type Column,
  type ColumnSet,
  type Int64Column,
  int64Words,
  type ListColumn,
  type MapColumn,
  type Utf8Column,
} from './columns.js';

/** Rows picked from several column sets of one table: row i is `rows[i]` of `sets[sources[i]]`. */
export interface RowPicks {
  sources: Int32Array;
  rows: Int32Array;
}

/**
 * Gathers rows from column sets into a new one, in pick order: how dedupe drops rows, and how a
 * flush merges a partition's batches, splits them by Iceberg partition and sorts them.
 */
export function gatherRows(sets: readonly ColumnSet[], picks: RowPicks): ColumnSet {
  const first = sets[0];
  if (!first) return { rowCount: 0, columns: {} };
  const columns: Record<string, Column> = {};
  for (const name of Object.keys(first.columns)) {
    columns[name] = gather(
      sets.map((set) => set.columns[name]!),
      picks,
    );
  }
  return { rowCount: picks.rows.length, columns };
}

/** The rows of one set, in the given order. */
export function takeRows(set: ColumnSet, rows: Int32Array): ColumnSet {
  return gatherRows([set], { sources: new Int32Array(rows.length), rows });
}

function gather(columns: Column[], picks: RowPicks): Column {
  switch (columns[0]!.kind) {
    case 'int64':
      return gatherInt64(columns as Int64Column[], picks);
    case 'utf8':
      return gatherUtf8(columns as Utf8Column[], picks);
    case 'list': {
      const lists = columns as ListColumn[];
      const { offsets, items } = gatherRanges(lists, picks);
      return {
        kind: 'list',
        offsets,
        items: gatherUtf8(
          lists.map((c) => c.items),
          items,
        ),
        validity: gatherValidity(lists, picks),
      };
    }
    case 'map': {
      const maps = columns as MapColumn[];
      const { offsets, items } = gatherRanges(maps, picks);
      return {
        kind: 'map',
        offsets,
        keys: gatherUtf8(
          maps.map((c) => c.keys),
          items,
        ),
        values: gatherUtf8(
          maps.map((c) => c.values),
          items,
        ),
        validity: gatherValidity(maps, picks),
      };
    }
  }
}

function gatherValidity(columns: { validity: Uint8Array | null }[], picks: RowPicks): Uint8Array | null {
  if (columns.every((c) => c.validity === null)) return null;
  const out = new Uint8Array((picks.rows.length + 7) >> 3);
  for (let i = 0; i < picks.rows.length; i++) {
    const validity = columns[picks.sources[i]!]!.validity;
    const row = picks.rows[i]!;
    if (validity === null || validity[row >> 3]! & (1 << (row & 7))) out[i >> 3]! |= 1 << (i & 7);
  }
  return out;
}

function gatherInt64(columns: Int64Column[], picks: RowPicks): Int64Column {
  // Copied as 32-bit word pairs: reading a BigInt64Array element makes a bigint, garbage per row.
  const count = picks.rows.length;
  const values = new BigInt64Array(count);
  const out = new Int32Array(values.buffer);
  const words = columns.map(int64Words);
  for (let i = 0; i < count; i++) {
    const from = words[picks.sources[i]!]!;
    const row = picks.rows[i]!;
    out[2 * i] = from[2 * row]!;
    out[2 * i + 1] = from[2 * row + 1]!;
  }
  return { kind: 'int64', values, validity: gatherValidity(columns, picks) };
}

function gatherUtf8(columns: Utf8Column[], picks: RowPicks): Utf8Column {
  const count = picks.rows.length;
  const offsets = new Int32Array(count + 1);
  for (let i = 0; i < count; i++) {
    const column = columns[picks.sources[i]!]!;
    const row = picks.rows[i]!;
    offsets[i + 1] = offsets[i]! + column.offsets[row + 1]! - column.offsets[row]!;
  }
  const data = new Uint8Array(offsets[count]!);
  for (let i = 0; i < count; i++) {
    const column = columns[picks.sources[i]!]!;
    const row = picks.rows[i]!;
    const start = column.offsets[row]!;
    const end = column.offsets[row + 1]!;
    // Short values byte by byte: a subarray per value was most of this loop's cost, and garbage.
    if (end - start > 64) data.set(column.data.subarray(start, end), offsets[i]!);
    else for (let from = start, to = offsets[i]!; from < end; ) data[to++] = column.data[from++]!;
  }
  return { kind: 'utf8', offsets, data, validity: gatherValidity(columns, picks) };
}

/** For list and map rows: the new offsets, and which items (of which source) they hold. */
function gatherRanges(
  columns: { offsets: Int32Array }[],
  picks: RowPicks,
): { offsets: Int32Array; items: RowPicks } {
  const count = picks.rows.length;
  const offsets = new Int32Array(count + 1);
  for (let i = 0; i < count; i++) {
    const source = columns[picks.sources[i]!]!.offsets;
    offsets[i + 1] = offsets[i]! + source[picks.rows[i]! + 1]! - source[picks.rows[i]!]!;
  }
  const sources = new Int32Array(offsets[count]!);
  const rows = new Int32Array(offsets[count]!);
  let k = 0;
  for (let i = 0; i < count; i++) {
    const source = columns[picks.sources[i]!]!.offsets;
    for (let j = source[picks.rows[i]!]!; j < source[picks.rows[i]! + 1]!; j++) {
      sources[k] = picks.sources[i]!;
      rows[k++] = j;
    }
  }
  return { offsets, items: { sources, rows } };
}
