import {
  Bool,
  type Data,
  type DataType,
  DateDay,
  Decimal,
  Field,
  Float64,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import type { Cell, ColumnType, QueryResult } from '../result.js';

/**
 * Arrow IPC stream: decimals as Decimal128 at their scale, timestamps as timestamp[us, UTC], longs as
 * int64, exact values all the way; the answer's metadata as JSON in the schema's `k2.meta`.
 */
export function toArrow(result: QueryResult): Uint8Array {
  const length = result.rows.length;
  const fields = result.columns.map((c) => new Field(c.name, arrowType(c.type), true));
  const children = result.columns.map((c, i) =>
    columnData(
      fields[i]!.type,
      c.type,
      result.rows.map((row) => row[i] ?? null),
    ),
  );
  const schema = new Schema(fields, new Map([['k2.meta', JSON.stringify(result.meta)]]));
  const batch = new RecordBatch(
    schema,
    makeData({ type: new Struct(fields), length, children, nullCount: 0 }),
  );
  return tableToIPC(new Table(schema, [batch]), 'stream');
}

function arrowType(type: ColumnType): DataType {
  switch (type.kind) {
    case 'long':
      return new Int64();
    case 'int':
      return new Int32();
    case 'double':
      return new Float64();
    case 'boolean':
      return new Bool();
    case 'timestamp':
      return new TimestampMicrosecond('UTC');
    case 'date':
      return new DateDay();
    case 'decimal':
      return new Decimal(type.scale, type.precision, 128);
    default:
      return new Utf8();
  }
}

function columnData(arrow: DataType, type: ColumnType, cells: Cell[]): Data {
  const length = cells.length;
  const nullBitmap = new Uint8Array(Math.ceil(length / 8));
  let nullCount = 0;
  cells.forEach((cell, i) => {
    if (cell === null) nullCount++;
    else nullBitmap[i >> 3]! |= 1 << (i & 7);
  });
  const nulls = { nullBitmap, nullCount };
  switch (type.kind) {
    case 'long':
    case 'timestamp':
      return makeData({
        type: arrow,
        length,
        data: BigInt64Array.from(cells, (c) => (c ?? 0n) as bigint),
        ...nulls,
      } as never);
    case 'int':
    case 'date':
      return makeData({
        type: arrow,
        length,
        data: Int32Array.from(cells, (c) => Number(c ?? 0)),
        ...nulls,
      } as never);
    case 'double':
      return makeData({
        type: arrow,
        length,
        data: Float64Array.from(cells, (c) => Number(c ?? 0)),
        ...nulls,
      } as never);
    case 'decimal': {
      // 128-bit two's complement, little-endian 32-bit words.
      const words = new Uint32Array(length * 4);
      cells.forEach((cell, i) => {
        let v = BigInt.asUintN(128, (cell ?? 0n) as bigint);
        for (let w = 0; w < 4; w++) {
          words[i * 4 + w] = Number(v & 0xffff_ffffn);
          v >>= 32n;
        }
      });
      return makeData({ type: arrow, length, data: words, ...nulls } as never);
    }
    case 'boolean':
      return vectorFromArray(cells as (boolean | null)[], new Bool()).data[0]!;
    default:
      return vectorFromArray(
        cells.map((c) => (c === null ? null : String(c))),
        new Utf8(),
      ).data[0]!;
  }
}
