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
}

export function isPresent(validity: Uint8Array | null, row: number): boolean {
  return validity === null || (validity[row >> 3]! & (1 << (row & 7))) !== 0;
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
  const buffers = new Set<ArrayBuffer>();
  const add = (view: ArrayBufferView | null) => {
    const buffer = ownedBuffer(view);
    if (buffer) buffers.add(buffer);
  };
  const visit = (column: Column) => {
    add(column.validity);
    switch (column.kind) {
      case 'int64':
        add(column.values);
        break;
      case 'utf8':
        add(column.offsets);
        add(column.data);
        break;
      case 'list':
        add(column.offsets);
        visit(column.items);
        break;
      case 'map':
        add(column.offsets);
        visit(column.keys);
        visit(column.values);
        break;
    }
  };
  for (const column of Object.values(set.columns)) visit(column);
  return [...buffers];
}
