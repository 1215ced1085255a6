import {
  Binary,
  Bool,
  type DataType,
  DateDay,
  Decimal,
  Field,
  FixedSizeBinary,
  Float32,
  Float64,
  Int32,
  Int64,
  List,
  Map_,
  Schema,
  Struct,
  TimeMicrosecond,
  Timestamp,
  TimeUnit,
  Utf8,
} from 'apache-arrow';
import { decimalOf, type IcebergSchema, type IcebergType, type NestedField } from './types.js';

/** The metadata key through which arrow-rs (parquet-wasm) writes a Parquet field_id. */
export const PARQUET_FIELD_ID = 'PARQUET:field_id';

/**
 * The Arrow schema of an Iceberg schema, every field (list elements, map keys and values
 * included) carrying its Iceberg id as `PARQUET:field_id`, so the Parquet file names columns by id.
 */
export function arrowSchema(schema: IcebergSchema): Schema {
  return new Schema(schema.fields.map(arrowField));
}

export function arrowField(field: NestedField): Field {
  return withId(field.name, arrowType(field.type), !field.required, field.id);
}

function withId(name: string, type: DataType, nullable: boolean, id: number): Field {
  return new Field(name, type, nullable, new Map([[PARQUET_FIELD_ID, String(id)]]));
}

export function arrowType(type: IcebergType): DataType {
  if (typeof type === 'object') {
    switch (type.type) {
      case 'list':
        return new List(
          withId('element', arrowType(type.element), !type['element-required'], type['element-id']),
        );
      case 'map':
        return new Map_(
          new Field(
            'key_value',
            new Struct<{ key: DataType; value: DataType }>([
              withId('key', arrowType(type.key), false, type['key-id']),
              withId('value', arrowType(type.value), !type['value-required'], type['value-id']),
            ]),
            false,
          ),
        );
      case 'struct':
        return new Struct(type.fields.map(arrowField));
    }
  }
  switch (type) {
    case 'boolean':
      return new Bool();
    case 'int':
      return new Int32();
    case 'long':
      return new Int64();
    case 'float':
      return new Float32();
    case 'double':
      return new Float64();
    case 'date':
      return new DateDay();
    case 'time':
      return new TimeMicrosecond();
    case 'timestamp':
      return new Timestamp(TimeUnit.MICROSECOND);
    case 'timestamptz':
      return new Timestamp(TimeUnit.MICROSECOND, 'UTC');
    case 'string':
      return new Utf8();
    case 'uuid':
      return new FixedSizeBinary(16);
    case 'binary':
      return new Binary();
  }
  const fixed = /^fixed\[(\d+)\]$/.exec(type);
  if (fixed) return new FixedSizeBinary(Number(fixed[1]));
  const decimal = decimalOf(type);
  // Up to 18 digits fit 64 bits: arrow-rs writes Decimal64 as Parquet INT64 DECIMAL, as Iceberg prefers.
  if (decimal) return new Decimal(decimal.scale, decimal.precision, decimal.precision <= 18 ? 64 : 128);
  throw new TypeError(`no Arrow type for Iceberg type ${type}`);
}

/**
 * Iceberg field ids of the Parquet leaf columns, in the order Parquet stores them (depth first),
 * so column chunk i of a row group belongs to field leafFieldIds[i].
 */
export function leafFieldIds(schema: IcebergSchema): number[] {
  const out: number[] = [];
  const visit = (id: number, type: IcebergType) => {
    if (typeof type === 'string') out.push(id);
    else if (type.type === 'list') visit(type['element-id'], type.element);
    else if (type.type === 'map') {
      visit(type['key-id'], type.key);
      visit(type['value-id'], type.value);
    } else for (const field of type.fields) visit(field.id, field.type);
  };
  for (const field of schema.fields) visit(field.id, field.type);
  return out;
}
