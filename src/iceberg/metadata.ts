import { randomUUID } from 'node:crypto';
import { CorruptMetadataError, UnsupportedTableError } from '../errors/index.js';
import { parseJson, stringifyJson, toBigInt } from './json.js';
import type { IcebergSchema } from './types.js';

/** Table metadata v2 (Iceberg spec "Table Metadata"), in its JSON shape; 64-bit ids are bigint. */
export interface PartitionField {
  name: string;
  transform: string;
  'source-id': number;
  'field-id': number;
}

export interface PartitionSpec {
  'spec-id': number;
  fields: PartitionField[];
}

export interface SortField {
  transform: string;
  'source-id': number;
  direction: 'asc' | 'desc';
  'null-order': 'nulls-first' | 'nulls-last';
}

export interface SortOrder {
  'order-id': number;
  fields: SortField[];
}

export type Summary = { operation: string } & Record<string, string>;

export interface Snapshot {
  'snapshot-id': bigint;
  'parent-snapshot-id'?: bigint;
  'sequence-number': bigint;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: Summary;
  'schema-id'?: number;
  [extra: string]: unknown;
}

export interface SnapshotRef {
  'snapshot-id': bigint;
  type: 'branch' | 'tag';
  [extra: string]: unknown;
}

export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': bigint;
  'last-updated-ms': number;
  'last-column-id': number;
  schemas: IcebergSchema[];
  'current-schema-id': number;
  'partition-specs': PartitionSpec[];
  'default-spec-id': number;
  'last-partition-id': number;
  properties: Record<string, string>;
  'current-snapshot-id': bigint;
  snapshots: Snapshot[];
  'snapshot-log': { 'snapshot-id': bigint; 'timestamp-ms': number }[];
  'metadata-log': { 'metadata-file': string; 'timestamp-ms': number }[];
  'sort-orders': SortOrder[];
  'default-sort-order-id': number;
  refs: Record<string, SnapshotRef>;
  [extra: string]: unknown;
}

/** `current-snapshot-id` when the table has no snapshot (what Java writes; PyIceberg reads it as none). */
export const NO_SNAPSHOT = -1n;

export interface NewTable {
  location: string;
  schema: IcebergSchema;
  spec: Omit<PartitionSpec, 'spec-id'>;
  sortOrder: Omit<SortOrder, 'order-id'>;
  properties: Record<string, string>;
  nowMs?: number;
}

export function newTableMetadata(table: NewTable): TableMetadata {
  const sortOrders: SortOrder[] = [{ 'order-id': 0, fields: [] }];
  if (table.sortOrder.fields.length > 0) sortOrders.push({ 'order-id': 1, fields: table.sortOrder.fields });
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location: table.location.replace(/\/+$/, ''),
    'last-sequence-number': 0n,
    'last-updated-ms': table.nowMs ?? Date.now(),
    'last-column-id': maxFieldId(table.schema),
    schemas: [table.schema],
    'current-schema-id': table.schema['schema-id'],
    'partition-specs': [{ 'spec-id': 0, fields: table.spec.fields }],
    'default-spec-id': 0,
    'last-partition-id': Math.max(999, ...table.spec.fields.map((f) => f['field-id'])),
    properties: table.properties,
    'current-snapshot-id': NO_SNAPSHOT,
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
    'sort-orders': sortOrders,
    'default-sort-order-id': sortOrders.at(-1)!['order-id'],
    refs: {},
  };
}

function maxFieldId(schema: IcebergSchema): number {
  let max = 0;
  const visit = (type: unknown): void => {
    if (typeof type !== 'object' || type === null) return;
    const t = type as Record<string, unknown>;
    if (t.type === 'struct') {
      for (const field of t.fields as { id: number; type: unknown }[]) {
        max = Math.max(max, field.id);
        visit(field.type);
      }
    } else if (t.type === 'list') {
      max = Math.max(max, t['element-id'] as number);
      visit(t.element);
    } else if (t.type === 'map') {
      max = Math.max(max, t['key-id'] as number, t['value-id'] as number);
      visit(t.key);
      visit(t.value);
    }
  };
  visit(schema);
  return max;
}

export function parseTableMetadata(text: string, uri: string): TableMetadata {
  let raw: Record<string, unknown>;
  try {
    raw = parseJson(text) as Record<string, unknown>;
  } catch (error) {
    throw new CorruptMetadataError(uri, 'metadata is not valid JSON', { cause: error });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CorruptMetadataError(uri, 'metadata is not a JSON object');
  }
  if (raw['format-version'] !== 2) {
    throw new UnsupportedTableError(
      uri,
      `format-version ${String(raw['format-version'])}; K2 writes v2 tables`,
    );
  }
  for (const key of [
    'table-uuid',
    'location',
    'last-sequence-number',
    'schemas',
    'current-schema-id',
    'partition-specs',
    'default-spec-id',
    'sort-orders',
  ]) {
    if (raw[key] === undefined) throw new CorruptMetadataError(uri, `metadata lacks ${key}`);
  }
  try {
    const snapshots = ((raw.snapshots as Record<string, unknown>[] | undefined) ?? []).map((s) => ({
      ...s,
      'snapshot-id': toBigInt(s['snapshot-id'], 'snapshot-id'),
      ...(s['parent-snapshot-id'] === undefined || s['parent-snapshot-id'] === null
        ? { 'parent-snapshot-id': undefined }
        : { 'parent-snapshot-id': toBigInt(s['parent-snapshot-id'], 'parent-snapshot-id') }),
      'sequence-number': toBigInt(s['sequence-number'] ?? 0, 'sequence-number'),
    })) as Snapshot[];
    for (const s of snapshots) if (s['parent-snapshot-id'] === undefined) delete s['parent-snapshot-id'];
    const refs: Record<string, SnapshotRef> = {};
    for (const [name, ref] of Object.entries((raw.refs as Record<string, Record<string, unknown>>) ?? {})) {
      refs[name] = { ...ref, 'snapshot-id': toBigInt(ref['snapshot-id'], 'ref snapshot-id') } as SnapshotRef;
    }
    const current = raw['current-snapshot-id'];
    return {
      ...raw,
      'last-sequence-number': toBigInt(raw['last-sequence-number'], 'last-sequence-number'),
      'current-snapshot-id':
        current === undefined || current === null ? NO_SNAPSHOT : toBigInt(current, 'current-snapshot-id'),
      properties: (raw.properties as Record<string, string>) ?? {},
      snapshots,
      'snapshot-log': ((raw['snapshot-log'] as Record<string, unknown>[]) ?? []).map((e) => ({
        ...e,
        'snapshot-id': toBigInt(e['snapshot-id'], 'snapshot-log snapshot-id'),
      })),
      'metadata-log': (raw['metadata-log'] as TableMetadata['metadata-log']) ?? [],
      refs,
    } as TableMetadata;
  } catch (error) {
    if (error instanceof TypeError) throw new CorruptMetadataError(uri, error.message, { cause: error });
    throw error;
  }
}

export function serializeTableMetadata(metadata: TableMetadata): string {
  return stringifyJson(metadata);
}

export function currentSnapshot(metadata: TableMetadata): Snapshot | undefined {
  const id = metadata['current-snapshot-id'];
  return id === NO_SNAPSHOT ? undefined : snapshotById(metadata, id);
}

export function snapshotById(metadata: TableMetadata, id: bigint): Snapshot | undefined {
  return metadata.snapshots.find((s) => s['snapshot-id'] === id);
}

/** The snapshot and its ancestors, newest first, as far as the metadata still holds them. */
export function* ancestry(metadata: TableMetadata, from: Snapshot | undefined = currentSnapshot(metadata)) {
  const byId = new Map(metadata.snapshots.map((s) => [s['snapshot-id'], s]));
  for (
    let s = from;
    s;
    s = s['parent-snapshot-id'] === undefined ? undefined : byId.get(s['parent-snapshot-id'])
  ) {
    yield s;
  }
}

export function currentSchema(metadata: TableMetadata): IcebergSchema {
  const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  if (!schema) throw new CorruptMetadataError(metadata.location, 'current-schema-id names no schema');
  return schema;
}

export function specById(metadata: TableMetadata, specId: number): PartitionSpec {
  const spec = metadata['partition-specs'].find((s) => s['spec-id'] === specId);
  if (!spec) throw new CorruptMetadataError(metadata.location, `no partition spec ${specId}`);
  return spec;
}

/** `metadata.previous-versions-max`: how many previous metadata files the metadata-log keeps. */
const DEFAULT_PREVIOUS_VERSIONS_MAX = 100;

/**
 * The next metadata after adding `snapshot` as the new head of main. `previousFile` is the metadata
 * file being replaced; it enters the metadata-log (bounded by metadata.previous-versions-max).
 */
export function withSnapshot(
  metadata: TableMetadata,
  snapshot: Snapshot,
  previousFile: string,
  nowMs: number = Date.now(),
): TableMetadata {
  const updatedMs = Math.max(nowMs, metadata['last-updated-ms'] + 1, snapshot['timestamp-ms']);
  return {
    ...metadata,
    'last-sequence-number': snapshot['sequence-number'],
    'last-updated-ms': updatedMs,
    'current-snapshot-id': snapshot['snapshot-id'],
    snapshots: [...metadata.snapshots, snapshot],
    'snapshot-log': [
      ...metadata['snapshot-log'],
      { 'snapshot-id': snapshot['snapshot-id'], 'timestamp-ms': snapshot['timestamp-ms'] },
    ],
    'metadata-log': withPreviousFile(metadata, previousFile),
    refs: { ...metadata.refs, main: { 'snapshot-id': snapshot['snapshot-id'], type: 'branch' } },
  };
}

export function withPreviousFile(
  metadata: TableMetadata,
  previousFile: string,
): TableMetadata['metadata-log'] {
  const max = Number(
    metadata.properties['write.metadata.previous-versions-max'] ?? DEFAULT_PREVIOUS_VERSIONS_MAX,
  );
  const log = [
    ...metadata['metadata-log'],
    { 'metadata-file': previousFile, 'timestamp-ms': metadata['last-updated-ms'] },
  ];
  return log.slice(Math.max(0, log.length - max));
}

/** `<location>/metadata/NNNNN-<uuid>.metadata.json`, numbered one past `previousFile`. */
export function nextMetadataFile(location: string, previousFile: string | undefined): string {
  const version = previousFile === undefined ? 0 : metadataVersion(previousFile) + 1;
  return `${location}/metadata/${String(version).padStart(5, '0')}-${randomUUID()}.metadata.json`;
}

export function metadataVersion(file: string): number {
  const match = /\/(\d+)-[^/]*\.metadata\.json$/.exec(file);
  return match ? Number(match[1]) : -1;
}

/** Snapshot ids: random positive 63-bit values, like Java's (UUID-derived) ids. */
export function newSnapshotId(): bigint {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  const id = new DataView(bytes.buffer).getBigUint64(0) & 0x7fff_ffff_ffff_ffffn;
  return id === 0n ? 1n : id;
}
