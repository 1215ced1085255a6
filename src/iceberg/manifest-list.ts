import { CorruptMetadataError } from '../errors/index.js';
import { type AvroSchema, readAvroFile, writeAvroFile } from './avro.js';

/** Manifest lists (spec "Manifest Lists"): one `manifest_file` record per manifest of a snapshot. */
export interface PartitionFieldSummary {
  containsNull: boolean;
  containsNan: boolean | undefined;
  lowerBound: Uint8Array | undefined;
  upperBound: Uint8Array | undefined;
}

export const ManifestContent = { DATA: 0, DELETES: 1 } as const;

export interface ManifestFile {
  manifestPath: string;
  manifestLength: number;
  partitionSpecId: number;
  content: number;
  sequenceNumber: bigint;
  minSequenceNumber: bigint;
  addedSnapshotId: bigint;
  addedFilesCount: number;
  existingFilesCount: number;
  deletedFilesCount: number;
  addedRowsCount: bigint;
  existingRowsCount: bigint;
  deletedRowsCount: bigint;
  partitions: PartitionFieldSummary[] | undefined;
  keyMetadata: Uint8Array | undefined;
}

const optional = (type: unknown) => ['null', type];

export const manifestFileSchema: AvroSchema = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500, doc: 'Location URI with FS scheme' },
    { name: 'manifest_length', type: 'long', 'field-id': 501, doc: 'Total file size in bytes' },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502, doc: 'Spec ID used to write' },
    { name: 'content', type: 'int', 'field-id': 517, doc: 'Contents of the manifest: 0=data, 1=deletes' },
    {
      name: 'sequence_number',
      type: 'long',
      'field-id': 515,
      doc: 'Sequence number when the manifest was added',
    },
    {
      name: 'min_sequence_number',
      type: 'long',
      'field-id': 516,
      doc: 'Lowest sequence number in the manifest',
    },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503, doc: 'Snapshot ID that added the manifest' },
    { name: 'added_files_count', type: 'int', 'field-id': 504, doc: 'Added entry count' },
    { name: 'existing_files_count', type: 'int', 'field-id': 505, doc: 'Existing entry count' },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506, doc: 'Deleted entry count' },
    { name: 'added_rows_count', type: 'long', 'field-id': 512, doc: 'Added rows count' },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513, doc: 'Existing rows count' },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514, doc: 'Deleted rows count' },
    {
      name: 'partitions',
      type: optional({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            {
              name: 'contains_null',
              type: 'boolean',
              'field-id': 509,
              doc: 'True if any file has a null partition value',
            },
            {
              name: 'contains_nan',
              type: optional('boolean'),
              default: null,
              'field-id': 518,
              doc: 'True if any file has a nan partition value',
            },
            {
              name: 'lower_bound',
              type: optional('bytes'),
              default: null,
              'field-id': 510,
              doc: 'Partition lower bound for all files',
            },
            {
              name: 'upper_bound',
              type: optional('bytes'),
              default: null,
              'field-id': 511,
              doc: 'Partition upper bound for all files',
            },
          ],
        },
      }),
      default: null,
      'field-id': 507,
      doc: 'Summary for each partition',
    },
    {
      name: 'key_metadata',
      type: optional('bytes'),
      default: null,
      'field-id': 519,
      doc: 'Encryption key metadata blob',
    },
  ],
};

export interface ManifestListHeader {
  snapshotId: bigint;
  parentSnapshotId: bigint | undefined;
  sequenceNumber: bigint;
}

const bytesOrNull = (b: Uint8Array | undefined) => (b === undefined ? null : Buffer.from(b));

export function writeManifestList(
  header: ManifestListHeader,
  manifests: readonly ManifestFile[],
): Uint8Array {
  const records = manifests.map((m) => ({
    manifest_path: m.manifestPath,
    manifest_length: BigInt(m.manifestLength),
    partition_spec_id: m.partitionSpecId,
    content: m.content,
    sequence_number: m.sequenceNumber,
    min_sequence_number: m.minSequenceNumber,
    added_snapshot_id: m.addedSnapshotId,
    added_files_count: m.addedFilesCount,
    existing_files_count: m.existingFilesCount,
    deleted_files_count: m.deletedFilesCount,
    added_rows_count: m.addedRowsCount,
    existing_rows_count: m.existingRowsCount,
    deleted_rows_count: m.deletedRowsCount,
    partitions:
      m.partitions?.map((p) => ({
        contains_null: p.containsNull,
        contains_nan: p.containsNan ?? null,
        lower_bound: bytesOrNull(p.lowerBound),
        upper_bound: bytesOrNull(p.upperBound),
      })) ?? null,
    key_metadata: bytesOrNull(m.keyMetadata),
  }));
  return writeAvroFile(manifestFileSchema, records, {
    'snapshot-id': String(header.snapshotId),
    'parent-snapshot-id': header.parentSnapshotId === undefined ? 'null' : String(header.parentSnapshotId),
    'sequence-number': String(header.sequenceNumber),
    'format-version': '2',
  });
}

/** Reads v2 lists, and v1 lists written by other tools (no sequence numbers: 0, per the spec). */
export function readManifestList(bytes: Uint8Array, uri: string): ManifestFile[] {
  let file: ReturnType<typeof readAvroFile>;
  try {
    file = readAvroFile(bytes);
  } catch (error) {
    throw new CorruptMetadataError(uri, `unreadable manifest list: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return file.records.map((r) => {
    if (typeof r.manifest_path !== 'string')
      throw new CorruptMetadataError(uri, 'manifest list entry lacks manifest_path');
    const count = (v2: string, v1: string) => Number((r[v2] ?? r[v1] ?? 0) as number);
    const long = (name: string, v1?: string) =>
      BigInt((r[name] ?? (v1 ? r[v1] : undefined) ?? 0n) as bigint | number);
    const bytes = (v: unknown) => (v === null || v === undefined ? undefined : new Uint8Array(v as Buffer));
    return {
      manifestPath: r.manifest_path,
      manifestLength: Number(r.manifest_length),
      partitionSpecId: Number(r.partition_spec_id ?? 0),
      content: Number(r.content ?? 0),
      sequenceNumber: long('sequence_number'),
      minSequenceNumber: long('min_sequence_number'),
      addedSnapshotId: long('added_snapshot_id'),
      addedFilesCount: count('added_files_count', 'added_data_files_count'),
      existingFilesCount: count('existing_files_count', 'existing_data_files_count'),
      deletedFilesCount: count('deleted_files_count', 'deleted_data_files_count'),
      addedRowsCount: long('added_rows_count'),
      existingRowsCount: long('existing_rows_count'),
      deletedRowsCount: long('deleted_rows_count'),
      partitions: (r.partitions as Record<string, unknown>[] | null | undefined)?.map((p) => ({
        containsNull: Boolean(p.contains_null),
        containsNan: (p.contains_nan as boolean | null | undefined) ?? undefined,
        lowerBound: bytes(p.lower_bound),
        upperBound: bytes(p.upper_bound),
      })),
      keyMetadata: bytes(r.key_metadata),
    };
  });
}
