import type { NewTable, PartitionField, SortField } from './metadata.js';
import { nameMapping } from './name-mapping.js';
import { type IcebergSchema, type K2TableName, tableSchema } from './types.js';

/** The namespace K2's tables live in. */
export const MARKET_DATA = 'market_data';

/**
 * How each K2 table is laid out. Trades and quotes: day(timestamp) + identity(exchange), sorted by
 * symbol then time, so a day's files per venue prune by partition and a symbol prunes by column bounds.
 * Reference data has no event time and is small: identity(exchange) only, sorted by symbol, valid_from.
 */
const layouts: Record<K2TableName, { partition: [string, string][]; sort: string[] }> = {
  trades_v2: {
    partition: [
      ['timestamp', 'day'],
      ['exchange', 'identity'],
    ],
    sort: ['symbol', 'timestamp'],
  },
  quotes_v2: {
    partition: [
      ['timestamp', 'day'],
      ['exchange', 'identity'],
    ],
    sort: ['symbol', 'timestamp'],
  },
  reference_data_v2: { partition: [['exchange', 'identity']], sort: ['symbol', 'valid_from'] },
  // Few rows: by detection day only, sorted so one symbol's gaps sit together.
  sequence_gaps: { partition: [['detected_at', 'day']], sort: ['exchange', 'symbol', 'from_sequence'] },
};

/** Writer properties every K2 table carries; readers and other writers honour the standard ones. */
const baseProperties: Record<string, string> = {
  'write.format.default': 'parquet',
  'write.avro.compression-codec': 'gzip',
  'write.metadata.previous-versions-max': '100',
  'commit.retry.num-retries': '10',
};

export function k2TableDefinition(table: K2TableName, location: string): NewTable {
  const schema = tableSchema(table);
  const layout = layouts[table];
  return {
    location,
    schema,
    spec: {
      fields: layout.partition.map(
        ([column, transform], i): PartitionField => ({
          name: transform === 'identity' ? column : `${column}_${transform}`,
          transform,
          'source-id': fieldId(schema, column),
          'field-id': 1000 + i,
        }),
      ),
    },
    sortOrder: {
      fields: layout.sort.map(
        (column): SortField => ({
          transform: 'identity',
          'source-id': fieldId(schema, column),
          direction: 'asc',
          'null-order': 'nulls-first',
        }),
      ),
    },
    properties: {
      ...baseProperties,
      'schema.name-mapping.default': JSON.stringify(nameMapping(schema)),
      'k2.table': table,
    },
  };
}

export function fieldId(schema: IcebergSchema, column: string): number {
  const field = schema.fields.find((f) => f.name === column);
  if (!field) throw new TypeError(`schema has no column ${column}`);
  return field.id;
}
