/**
 * Decoded rows in Arrow's memory layout, so a batch crosses the worker boundary as a handful of
 * transferable buffers and becomes an Arrow table without copying. Validity is an Arrow bitmap
 * (bit i set = row i present), or null when every row is present.
 */
export interface Int64Column {
  kind: 'int64';
  /** long and timestamptz values; decimals as unscaled values at the field's scale. */
  values: BigInt64Array;
  validity: Uint8Array | null;
}

export interface Utf8Column {
  kind: 'utf8';
  /** offsets[i]..offsets[i+1] is row i's UTF-8 in `data`. */
  offsets: Int32Array;
  data: Uint8Array;
  validity: Uint8Array | null;
}

export interface ListColumn {
  kind: 'list';
  offsets: Int32Array;
  items: Utf8Column;
  validity: Uint8Array | null;
}

export interface MapColumn {
  kind: 'map';
  offsets: Int32Array;
  keys: Utf8Column;
  values: Utf8Column;
  validity: Uint8Array | null;
}

export type Column = Int64Column | Utf8Column | ListColumn | MapColumn;

/** Columns by Iceberg field name, all of `rowCount` rows. */
export interface ColumnSet {
  rowCount: number;
  columns: Record<string, Column>;
  /**
   * The one buffer every view of the set lies in, when the set owns it whole (a decoded batch):
   * it crosses threads as a single transfer instead of one per column buffer.
   */
  arena?: ArrayBuffer;
}

export function isPresent(validity: Uint8Array | null, row: number): boolean {
  return validity === null || (validity[row >> 3]! & (1 << (row & 7))) !== 0;
}

/**
 * A long column's values as 32-bit words, row i's low word at 2i and its high word at 2i + 1
 * (little-endian, as every platform Node serves on stores them): read without making a bigint.
 */
export function int64Words(column: Int64Column): Int32Array {
  const { buffer, byteOffset, length } = column.values;
  return new Int32Array(buffer, byteOffset, length * 2);
}

/** Row `row` of a string column, or null. */
export function stringAt(column: Utf8Column, row: number): string | null {
  if (!isPresent(column.validity, row)) return null;
  return Buffer.from(column.data.buffer, column.data.byteOffset, column.data.byteLength).toString(
    'utf8',
    column.offsets[row],
    column.offsets[row + 1],
  );
}

export function int64At(column: Int64Column, row: number): bigint | null {
  return isPresent(column.validity, row) ? column.values[row]! : null;
}

export function listAt(column: ListColumn, row: number): string[] | null {
  if (!isPresent(column.validity, row)) return null;
  const out: string[] = [];
  for (let i = column.offsets[row]!; i < column.offsets[row + 1]!; i++) out.push(stringAt(column.items, i)!);
  return out;
}

export function mapAt(column: MapColumn, row: number): Map<string, string> | null {
  if (!isPresent(column.validity, row)) return null;
  const out = new Map<string, string>();
  for (let i = column.offsets[row]!; i < column.offsets[row + 1]!; i++)
    out.set(stringAt(column.keys, i)!, stringAt(column.values, i)!);
  return out;
}

/**
 * The buffer behind a view, when the view spans all of it and it can be transferred; a view into a
 * shared buffer (a Buffer pool slab, say) is left to be copied, so a transfer never detaches bytes
 * that something else still uses.
 */
export function ownedBuffer(view: ArrayBufferView | null): ArrayBuffer | undefined {
  if (view === null || !(view.buffer instanceof ArrayBuffer) || view.byteLength === 0) return undefined;
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view.buffer : undefined;
}

/** The buffers to transfer (not copy) when a column set crosses a thread boundary. */
export function columnBuffers(set: ColumnSet): ArrayBuffer[] {
  if (set.arena !== undefined) return [set.arena];
  const buffers = new Set<ArrayBuffer>();
  const add = <V extends View | null>(view: V): V => {
    const buffer = ownedBuffer(view);
    if (buffer) buffers.add(buffer);
    return view;
  };
  for (const column of Object.values(set.columns)) mapViews(column, add);
  return [...buffers];
}

type View = Uint8Array | Int32Array | BigInt64Array;

/**
 * Copies a column set's views, and `extra` views that belong with it, into one new ArrayBuffer
 * (each part 8-byte aligned), so the set has one owner and crosses threads as one transfer.
 * Decoding builds into reused scratch buffers and packs each batch's result this way: one
 * allocation per batch instead of one per column buffer, which is what kept the garbage
 * collectors of both threads busy.
 */
export function packColumnSet<E extends View[]>(set: ColumnSet, ...extra: E): { set: ColumnSet; extra: E } {
  let size = 0;
  const measure = (view: View | null) => {
    if (view !== null) size += (view.byteLength + 7) & ~7;
    return view;
  };
  const walk = (copy: <V extends View | null>(view: V) => V) => {
    const columns: Record<string, Column> = {};
    for (const [name, column] of Object.entries(set.columns)) columns[name] = mapViews(column, copy);
    return { columns, extra: extra.map((view) => copy(view)) as E };
  };
  walk(measure as <V extends View | null>(view: V) => V);
  const arena = new ArrayBuffer(size);
  let at = 0;
  const copy = <V extends View | null>(view: V): V => {
    if (view === null) return view;
    const bytes = new Uint8Array(arena, at, view.byteLength);
    bytes.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    const moved = new (view.constructor as new (b: ArrayBuffer, o: number, n: number) => View)(
      arena,
      at,
      view.length,
    );
    at += (view.byteLength + 7) & ~7;
    return moved as V;
  };
  const packed = walk(copy);
  return { set: { rowCount: set.rowCount, columns: packed.columns, arena }, extra: packed.extra };
}

function mapViews(column: Column, map: <V extends View | null>(view: V) => V): Column {
  switch (column.kind) {
    case 'int64':
      return { kind: 'int64', values: map(column.values), validity: map(column.validity) };
    case 'utf8':
      return {
        kind: 'utf8',
        offsets: map(column.offsets),
        data: map(column.data),
        validity: map(column.validity),
      };
    case 'list':
      return {
        kind: 'list',
        offsets: map(column.offsets),
        items: mapViews(column.items, map) as Utf8Column,
        validity: map(column.validity),
      };
    case 'map':
      return {
        kind: 'map',
        offsets: map(column.offsets),
        keys: mapViews(column.keys, map) as Utf8Column,
        values: mapViews(column.values, map) as Utf8Column,
        validity: map(column.validity),
      };
  }
}
