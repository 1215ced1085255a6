import { CorruptMetadataError, UnsupportedTableError } from '../errors/index.js';
import { type AvroSchema, readAvroFile, writeAvroFile } from './avro.js';
import type { DataFile, PartitionValue } from './datafile.js';
import type { PartitionSpec } from './metadata.js';
import { parseTransform, resultType } from './transforms.js';
import type { IcebergSchema, NestedField, PrimitiveType } from './types.js';

/** Manifest files (spec "Manifests"): Avro records `manifest_entry`, every field with its Iceberg field id. */
export const EntryStatus = { EXISTING: 0, ADDED: 1, DELETED: 2 } as const;
export type EntryStatus = (typeof EntryStatus)[keyof typeof EntryStatus];

export interface ManifestEntry {
  status: EntryStatus;
  /** Null in the file for added entries of a v2 commit whose id is inherited; always set after reading. */
  snapshotId: bigint | undefined;
  /** Data sequence number; undefined while inherited from the manifest list. */
  sequenceNumber: bigint | undefined;
  fileSequenceNumber: bigint | undefined;
  dataFile: DataFile & { content: number };
}

const optional = (type: unknown) => ['null', type];

function intMap(fieldId: number, keyId: number, valueId: number, value: 'long' | 'bytes', name: string) {
  return {
    name,
    type: optional({
      type: 'array',
      logicalType: 'map',
      items: {
        type: 'record',
        name: `k${keyId}_v${valueId}`,
        fields: [
          { name: 'key', type: 'int', 'field-id': keyId },
          { name: 'value', type: value, 'field-id': valueId },
        ],
      },
    }),
    default: null,
    'field-id': fieldId,
  };
}

/** The Avro type of a partition value, by the transform's result type. */
function partitionAvroType(type: PrimitiveType): unknown {
  switch (type) {
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'int':
    case 'long':
    case 'string':
    case 'boolean':
      return type;
    case 'timestamptz':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true };
    case 'timestamp':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false };
    default:
      throw new UnsupportedTableError('partition spec', `K2 does not write partition values of type ${type}`);
  }
}

export interface PartitionFieldType {
  fieldId: number;
  name: string;
  type: PrimitiveType;
}

/** The partition tuple's fields with their result types. */
export function partitionType(spec: PartitionSpec, schema: IcebergSchema): PartitionFieldType[] {
  return spec.fields.map((field) => {
    const source = schema.fields.find((f: NestedField) => f.id === field['source-id']);
    if (!source) {
      throw new UnsupportedTableError(
        'partition spec',
        `source column ${field['source-id']} is not a top-level column`,
      );
    }
    return {
      fieldId: field['field-id'],
      name: field.name,
      type: resultType(parseTransform(field.transform), source.type),
    };
  });
}

export function manifestEntrySchema(partition: PartitionFieldType[]): AvroSchema {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: optional('long'), default: null, 'field-id': 1 },
      { name: 'sequence_number', type: optional('long'), default: null, 'field-id': 3 },
      { name: 'file_sequence_number', type: optional('long'), default: null, 'field-id': 4 },
      {
        name: 'data_file',
        'field-id': 2,
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            {
              name: 'content',
              type: 'int',
              'field-id': 134,
              doc: 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes',
            },
            { name: 'file_path', type: 'string', 'field-id': 100, doc: 'Location URI with FS scheme' },
            {
              name: 'file_format',
              type: 'string',
              'field-id': 101,
              doc: 'File format name: avro, orc, or parquet',
            },
            {
              name: 'partition',
              'field-id': 102,
              doc: 'Partition data tuple, schema based on the partition spec',
              type: {
                type: 'record',
                name: 'r102',
                fields: partition.map((p) => ({
                  name: p.name,
                  type: optional(partitionAvroType(p.type)),
                  default: null,
                  'field-id': p.fieldId,
                })),
              },
            },
            { name: 'record_count', type: 'long', 'field-id': 103, doc: 'Number of records in the file' },
            { name: 'file_size_in_bytes', type: 'long', 'field-id': 104, doc: 'Total file size in bytes' },
            intMap(108, 117, 118, 'long', 'column_sizes'),
            intMap(109, 119, 120, 'long', 'value_counts'),
            intMap(110, 121, 122, 'long', 'null_value_counts'),
            intMap(137, 138, 139, 'long', 'nan_value_counts'),
            intMap(125, 126, 127, 'bytes', 'lower_bounds'),
            intMap(128, 129, 130, 'bytes', 'upper_bounds'),
            { name: 'key_metadata', type: optional('bytes'), default: null, 'field-id': 131 },
            {
              name: 'split_offsets',
              type: optional({ type: 'array', items: 'long', 'element-id': 133 }),
              default: null,
              'field-id': 132,
            },
            {
              name: 'equality_ids',
              type: optional({ type: 'array', items: 'int', 'element-id': 136 }),
              default: null,
              'field-id': 135,
            },
            { name: 'sort_order_id', type: optional('int'), default: null, 'field-id': 140 },
          ],
        },
      },
    ],
  };
}

function mapToAvro<V>(map: Map<number, V> | undefined, convert: (v: V) => unknown = (v) => v) {
  if (!map || map.size === 0) return null;
  return [...map].sort(([a], [b]) => a - b).map(([key, value]) => ({ key, value: convert(value) }));
}

function partitionToAvro(value: PartitionValue, type: PrimitiveType): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'long' || type === 'timestamptz' || type === 'timestamp')
    return BigInt(value as number | bigint);
  if (type === 'date' || type === 'int') return Number(value);
  return value;
}

export interface ManifestContext {
  schema: IcebergSchema;
  spec: PartitionSpec;
}

export function writeManifest(context: ManifestContext, entries: readonly ManifestEntry[]): Uint8Array {
  const partition = partitionType(context.spec, context.schema);
  const records = entries.map((entry) => {
    const file = entry.dataFile;
    const tuple: Record<string, unknown> = {};
    for (const p of partition) {
      if (!file.partition.has(p.fieldId)) {
        throw new UnsupportedTableError(
          file.filePath,
          `data file lacks partition field ${p.name} (${p.fieldId})`,
        );
      }
      tuple[p.name] = partitionToAvro(file.partition.get(p.fieldId) ?? null, p.type);
    }
    return {
      status: entry.status,
      snapshot_id: entry.snapshotId ?? null,
      sequence_number: entry.sequenceNumber ?? null,
      file_sequence_number: entry.fileSequenceNumber ?? null,
      data_file: {
        content: file.content,
        file_path: file.filePath,
        file_format: file.fileFormat,
        partition: tuple,
        record_count: BigInt(file.recordCount),
        file_size_in_bytes: BigInt(file.fileSizeInBytes),
        column_sizes: mapToAvro(file.columnSizes, BigInt),
        value_counts: mapToAvro(file.valueCounts, BigInt),
        null_value_counts: mapToAvro(file.nullValueCounts, BigInt),
        nan_value_counts: mapToAvro(file.nanValueCounts, BigInt),
        lower_bounds: mapToAvro(file.lowerBounds, (b) => Buffer.from(b)),
        upper_bounds: mapToAvro(file.upperBounds, (b) => Buffer.from(b)),
        key_metadata: null,
        split_offsets: file.splitOffsets.length > 0 ? file.splitOffsets.map(BigInt) : null,
        equality_ids: null,
        sort_order_id: file.sortOrderId ?? null,
      },
    };
  });
  return writeAvroFile(manifestEntrySchema(partition), records, {
    schema: JSON.stringify(context.schema),
    'schema-id': String(context.schema['schema-id']),
    'partition-spec': JSON.stringify(context.spec.fields),
    'partition-spec-id': String(context.spec['spec-id']),
    'format-version': '2',
    content: 'data',
  });
}

/** What inheritance fills in (spec "Sequence Number Inheritance"): from the manifest's list entry. */
export interface Inherited {
  addedSnapshotId: bigint;
  sequenceNumber: bigint;
}

export function readManifest(bytes: Uint8Array, uri: string, inherited: Inherited): ManifestEntry[] {
  let file: ReturnType<typeof readAvroFile>;
  try {
    file = readAvroFile(bytes);
  } catch (error) {
    throw new CorruptMetadataError(uri, `unreadable manifest: ${(error as Error).message}`, { cause: error });
  }
  const partitionIds = partitionFieldIds(file.meta['avro.schema']!, uri);
  const specId = Number(file.meta['partition-spec-id'] ?? 0);
  return file.records.map((record) => {
    const r = record as Record<string, unknown>;
    const d = r.data_file as Record<string, unknown> | undefined;
    if (typeof r.status !== 'number' || !d || typeof d.file_path !== 'string') {
      throw new CorruptMetadataError(uri, 'manifest entry lacks status or data_file');
    }
    const status = r.status as EntryStatus;
    const snapshotId = (r.snapshot_id as bigint | null) ?? inherited.addedSnapshotId;
    const inheritsSequence = r.sequence_number === null || r.sequence_number === undefined;
    // Only added entries may inherit; the others carry explicit sequence numbers (spec).
    const sequenceNumber =
      inheritsSequence && status === EntryStatus.ADDED
        ? inherited.sequenceNumber
        : ((r.sequence_number as bigint | undefined) ?? 0n);
    const fileSeq =
      (r.file_sequence_number as bigint | null | undefined) ??
      (status === EntryStatus.ADDED ? inherited.sequenceNumber : sequenceNumber);
    const partition = new Map<number, PartitionValue>();
    for (const [name, value] of Object.entries((d.partition as Record<string, unknown>) ?? {})) {
      const id = partitionIds.get(name);
      if (id !== undefined) partition.set(id, fromAvroPartition(value));
    }
    return {
      status,
      snapshotId,
      sequenceNumber,
      fileSequenceNumber: fileSeq,
      dataFile: {
        content: (d.content as number | undefined) ?? 0,
        filePath: d.file_path,
        fileFormat: String(d.file_format).toUpperCase() as 'PARQUET',
        partition,
        specId,
        recordCount: Number(d.record_count),
        fileSizeInBytes: Number(d.file_size_in_bytes),
        columnSizes: mapFromAvro(d.column_sizes, Number),
        valueCounts: mapFromAvro(d.value_counts, Number),
        nullValueCounts: mapFromAvro(d.null_value_counts, Number),
        nanValueCounts: mapFromAvro(d.nan_value_counts, Number),
        lowerBounds: mapFromAvro(d.lower_bounds, (b) => new Uint8Array(b as Buffer)),
        upperBounds: mapFromAvro(d.upper_bounds, (b) => new Uint8Array(b as Buffer)),
        splitOffsets: ((d.split_offsets as bigint[] | null) ?? []).map(Number),
        ...(d.sort_order_id === null || d.sort_order_id === undefined
          ? {}
          : { sortOrderId: d.sort_order_id as number }),
      },
    };
  });
}

function fromAvroPartition(value: unknown): PartitionValue {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return new Uint8Array(value);
  return value as PartitionValue;
}

function mapFromAvro<V>(value: unknown, convert: (v: unknown) => V): Map<number, V> {
  const map = new Map<number, V>();
  for (const item of (value as { key: number; value: unknown }[] | null) ?? [])
    map.set(item.key, convert(item.value));
  return map;
}

/** Partition field names to ids, read from the writer's Avro schema (names may differ between writers). */
function partitionFieldIds(schemaText: string, uri: string): Map<string, number> {
  const schema = JSON.parse(schemaText) as { fields: { name: string; type: { fields?: unknown[] } }[] };
  const dataFile = schema.fields.find((f) => f.name === 'data_file')?.type as
    | { fields: { name: string; type: { fields?: { name: string; 'field-id'?: number }[] } }[] }
    | undefined;
  const partition = dataFile?.fields.find((f) => f.name === 'partition')?.type;
  if (!partition?.fields) throw new CorruptMetadataError(uri, 'manifest schema has no data_file.partition');
  return new Map(
    partition.fields.map((f) => {
      if (f['field-id'] === undefined)
        throw new CorruptMetadataError(uri, `partition field ${f.name} has no field-id`);
      return [f.name, f['field-id']];
    }),
  );
}
