import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TableName } from '../iceberg/types.js';

/** The Avro record schemas in schemas/avro, by file name (= record name). */
export const avroSchemaNames = [
  'trade_v2',
  'quote_v2',
  'reference_data_v2',
  'trade',
  'quote',
  'reference_data',
] as const;
export type AvroSchemaName = (typeof avroSchemaNames)[number];

export const avroNamespace = 'com.k2.marketdata';

/** Which records land in which table: the current (v2) record, and the v1 record upgraded on decode. */
export const tableRecords: Record<TableName, { current: AvroSchemaName; legacy: AvroSchemaName }> = {
  trades_v2: { current: 'trade_v2', legacy: 'trade' },
  quotes_v2: { current: 'quote_v2', legacy: 'quote' },
  reference_data_v2: { current: 'reference_data_v2', legacy: 'reference_data' },
};

export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: { name: string; type: unknown; default?: unknown; doc?: string }[];
}

const cache = new Map<AvroSchemaName, string>();

/** The schema's JSON text as committed in the repo. */
export function avroSchemaText(name: AvroSchemaName): string {
  let text = cache.get(name);
  if (text === undefined) {
    const path = fileURLToPath(new URL(`../../schemas/avro/${name}.avsc`, import.meta.url));
    text = JSON.stringify(JSON.parse(readFileSync(path, 'utf8')));
    cache.set(name, text);
  }
  return text;
}

export function avroSchema(name: AvroSchemaName): AvroRecordSchema {
  return JSON.parse(avroSchemaText(name)) as AvroRecordSchema;
}

/** `com.k2.marketdata.trade_v2` for a schema object or text. */
export function fullName(schema: AvroRecordSchema): string {
  return schema.name.includes('.') || !schema.namespace ? schema.name : `${schema.namespace}.${schema.name}`;
}

/** The data type segment of `market.<asset_class>.<data_type>` topics, to the table it lands in. */
const topicDataTypes: Record<string, TableName> = {
  trades: 'trades_v2',
  quotes: 'quotes_v2',
  reference_data: 'reference_data_v2',
};

export function tableForTopic(topic: string): TableName | undefined {
  const match = /^market\.[a-z0-9_]+\.([a-z_]+)$/.exec(topic);
  return match ? topicDataTypes[match[1]!] : undefined;
}
