import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Iceberg's JSON schema model (spec "Schemas and Data Types"), as it appears in table metadata. */
export type PrimitiveType =
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'string'
  | 'uuid'
  | 'binary'
  | `decimal(${number}, ${number})`
  | `fixed[${number}]`;

export interface ListType {
  type: 'list';
  'element-id': number;
  element: IcebergType;
  'element-required': boolean;
}

export interface MapType {
  type: 'map';
  'key-id': number;
  key: IcebergType;
  'value-id': number;
  value: IcebergType;
  'value-required': boolean;
}

export interface StructType {
  type: 'struct';
  fields: NestedField[];
}

export type IcebergType = PrimitiveType | ListType | MapType | StructType;

export interface NestedField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
  doc?: string;
}

export interface IcebergSchema extends StructType {
  'schema-id': number;
  'identifier-field-ids'?: number[];
}

/** The tables K2 lands from Kafka, named as in the catalog (namespace `market_data`). */
export const tableNames = ['trades_v2', 'quotes_v2', 'reference_data_v2'] as const;
export type TableName = (typeof tableNames)[number];

/** The table of sequence gaps the supervisor detects while landing trades and quotes. */
export const GAPS_TABLE = 'sequence_gaps';
/** Every table K2 writes: the landed ones and the gaps. */
export type K2TableName = TableName | typeof GAPS_TABLE;

/**
 * The committed schema of a K2 table. Field ids are recorded in schemas/iceberg/*.json and never
 * recomputed at run time: Parquet files and manifests refer to columns by these ids forever.
 */
export function tableSchema(table: K2TableName): IcebergSchema {
  const path = fileURLToPath(new URL(`../../schemas/iceberg/${table}.json`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as IcebergSchema;
}

/** Precision and scale of a `decimal(P, S)` type, or undefined for any other type. */
export function decimalOf(type: IcebergType): { precision: number; scale: number } | undefined {
  if (typeof type !== 'string') return undefined;
  const match = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  return match ? { precision: Number(match[1]), scale: Number(match[2]) } : undefined;
}
