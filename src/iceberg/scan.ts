import { UnsupportedTableError } from '../errors/index.js';
import { decodeBound } from './bounds.js';
import { type Comparable, compareValues } from './compare.js';
import type { DataFile } from './datafile.js';
import { liveEntries } from './entries.js';
import { ManifestContent, type ManifestFile, type PartitionFieldSummary } from './manifest-list.js';
import {
  currentSchema,
  currentSnapshot,
  type PartitionSpec,
  type Snapshot,
  snapshotById,
  specById,
} from './metadata.js';
import { partitionValue } from './partition-summary.js';
import { readManifestFiles, type Table, tableName, type Warehouse } from './table.js';
import { applyTransform, parseTransform, resultType } from './transforms.js';
import type { IcebergSchema, PrimitiveType } from './types.js';

/**
 * Scan planning: which data files can hold rows matching a filter. Manifests are skipped by their
 * partition summaries, files by their partition tuple and then by column bounds. Never drops a file
 * that might match; a file it keeps may still hold no matching row.
 */

/** A condition on one column: a half-open range [from, to) or one of a set of values. */
export type Predicate =
  | { column: string; from?: Comparable; to?: Comparable }
  | { column: string; in: readonly Comparable[] };

/** What K2's queries ask: a time window (microseconds UTC, [from, to)), venues and symbols. */
export interface MarketFilter {
  from?: bigint;
  to?: bigint;
  exchanges?: readonly string[];
  symbols?: readonly string[];
  /** The event-time column: `timestamp` for trades and quotes, `valid_from` for reference data. */
  timeColumn?: string;
}

export function marketPredicates(filter: MarketFilter): Predicate[] {
  const predicates: Predicate[] = [];
  if (filter.from !== undefined || filter.to !== undefined) {
    predicates.push({
      column: filter.timeColumn ?? 'timestamp',
      ...(filter.from === undefined ? {} : { from: filter.from }),
      ...(filter.to === undefined ? {} : { to: filter.to }),
    });
  }
  if (filter.exchanges) predicates.push({ column: 'exchange', in: filter.exchanges });
  if (filter.symbols) predicates.push({ column: 'symbol', in: filter.symbols });
  return predicates;
}

interface BoundPredicate {
  fieldId: number;
  type: PrimitiveType;
  predicate: Predicate;
}

export function bindPredicates(schema: IcebergSchema, predicates: readonly Predicate[]): BoundPredicate[] {
  return predicates.map((predicate) => {
    const field = schema.fields.find((f) => f.name === predicate.column);
    if (!field || typeof field.type !== 'string') {
      throw new TypeError(`cannot filter on ${predicate.column}: not a primitive top-level column`);
    }
    return { fieldId: field.id, type: field.type, predicate };
  });
}

/** An inclusive interval of values, either end open. */
interface Interval {
  lower?: Comparable;
  upper?: Comparable;
}

/**
 * The predicate projected through a partition transform: an inclusive interval, a set, or
 * undefined when the transform says nothing about it (bucket on a range, void).
 */
function project(
  transform: string,
  bound: BoundPredicate,
): { interval: Interval } | { values: Comparable[] } | undefined {
  const t = parseTransform(transform);
  const p = bound.predicate;
  if ('in' in p) {
    if (t.kind === 'void') return undefined;
    return { values: p.in.map((v) => applyTransform(t, bound.type, v) as Comparable) };
  }
  if (t.kind === 'bucket' || t.kind === 'void' || t.kind === 'truncate') return undefined;
  const interval: Interval = {};
  if (p.from !== undefined) interval.lower = applyTransform(t, bound.type, p.from) as Comparable;
  if (p.to !== undefined) interval.upper = applyTransform(t, bound.type, predecessor(p.to)) as Comparable;
  return { interval };
}

/** The largest value below `v` for integer-like values, so [from, to) becomes [from, to - 1]. */
function predecessor(v: Comparable): Comparable {
  if (typeof v === 'bigint') return v - 1n;
  if (typeof v === 'number' && Number.isInteger(v)) return v - 1;
  return v;
}

/** Can any value in [min, max] satisfy the predicate? Unknown bounds mean yes. */
function mayMatch(predicate: Predicate, min: Comparable | undefined, max: Comparable | undefined): boolean {
  if ('in' in predicate) {
    return predicate.in.some(
      (v) =>
        (min === undefined || compareValues(v, min) >= 0) &&
        (max === undefined || compareValues(v, max) <= 0),
    );
  }
  if (predicate.from !== undefined && max !== undefined && compareValues(max, predicate.from) < 0)
    return false;
  if (predicate.to !== undefined && min !== undefined && compareValues(min, predicate.to) >= 0) return false;
  return true;
}

function mayMatchProjected(
  projected: NonNullable<ReturnType<typeof project>>,
  min: Comparable | undefined,
  max: Comparable | undefined,
): boolean {
  if ('values' in projected) return mayMatch({ column: '', in: projected.values }, min, max);
  const { lower, upper } = projected.interval;
  if (lower !== undefined && max !== undefined && compareValues(max, lower) < 0) return false;
  if (upper !== undefined && min !== undefined && compareValues(min, upper) > 0) return false;
  return true;
}

/** Partition fields of a spec with the predicates that constrain them. */
function partitionChecks(spec: PartitionSpec, schema: IcebergSchema, bound: readonly BoundPredicate[]) {
  const checks: {
    index: number;
    fieldId: number;
    type: PrimitiveType;
    projected: NonNullable<ReturnType<typeof project>>;
  }[] = [];
  spec.fields.forEach((field, index) => {
    const source = schema.fields.find((f) => f.id === field['source-id']);
    if (!source) return;
    for (const b of bound.filter((x) => x.fieldId === field['source-id'])) {
      const projected = project(field.transform, b);
      if (projected) {
        checks.push({
          index,
          fieldId: field['field-id'],
          type: resultType(parseTransform(field.transform), source.type),
          projected,
        });
      }
    }
  });
  return checks;
}

/** Manifest pruning by the list's partition summaries. */
export function manifestMayMatch(
  manifest: ManifestFile,
  spec: PartitionSpec,
  schema: IcebergSchema,
  bound: readonly BoundPredicate[],
): boolean {
  const summaries = manifest.partitions;
  if (!summaries) return true;
  return partitionChecks(spec, schema, bound).every(({ index, type, projected }) => {
    const summary: PartitionFieldSummary | undefined = summaries[index];
    if (!summary) return true;
    if (summary.lowerBound === undefined && summary.upperBound === undefined) return !summary.containsNull;
    const min = summary.lowerBound && (decodeBound(type, summary.lowerBound) as Comparable);
    const max = summary.upperBound && (decodeBound(type, summary.upperBound) as Comparable);
    return mayMatchProjected(projected, min, max);
  });
}

/** File pruning: by partition tuple, then by column bounds and null counts. */
export function fileMayMatch(
  file: DataFile,
  spec: PartitionSpec,
  schema: IcebergSchema,
  bound: readonly BoundPredicate[],
): boolean {
  for (const { fieldId, type, projected } of partitionChecks(spec, schema, bound)) {
    const value = file.partition.get(fieldId);
    if (value === undefined) continue;
    if (value === null) return false;
    const v = partitionValue(type, value) as Comparable;
    if (!mayMatchProjected(projected, v, v)) return false;
  }
  for (const { fieldId, type, predicate } of bound) {
    const values = file.valueCounts.get(fieldId);
    const nulls = file.nullValueCounts.get(fieldId);
    if (values !== undefined && nulls !== undefined && values === nulls) return false;
    const lower = file.lowerBounds.get(fieldId);
    const upper = file.upperBounds.get(fieldId);
    const min = lower && (decodeBound(type, lower) as Comparable);
    const max = upper && (decodeBound(type, upper) as Comparable);
    if (!mayMatch(predicate, min, max)) return false;
  }
  return true;
}

export interface ScanPlan {
  snapshot: Snapshot | undefined;
  files: DataFile[];
  manifests: { total: number; scanned: number };
  dataFiles: { total: number; matched: number };
}

/** Plans a scan of the table at its current snapshot, or at `snapshotId`. */
export async function planScan(
  warehouse: Warehouse,
  table: Table,
  predicates: readonly Predicate[],
  snapshotId?: bigint,
): Promise<ScanPlan> {
  const metadata = table.metadata;
  const snapshot = snapshotId === undefined ? currentSnapshot(metadata) : snapshotById(metadata, snapshotId);
  if (snapshotId !== undefined && !snapshot)
    throw new UnsupportedTableError(tableName(table), `no snapshot ${snapshotId}`);
  const schema = currentSchema(metadata);
  const bound = bindPredicates(schema, predicates);
  const manifests = await readManifestFiles(warehouse.io, snapshot);
  if (manifests.some((m) => m.content !== ManifestContent.DATA)) {
    throw new UnsupportedTableError(
      tableName(table),
      'the snapshot has delete files, which K2 does not apply',
    );
  }
  const candidates = manifests.filter((m) =>
    manifestMayMatch(m, specById(metadata, m.partitionSpecId), schema, bound),
  );
  const files: DataFile[] = [];
  let total = 0;
  for (const { manifest, entries } of await liveEntries(warehouse.io, candidates)) {
    const spec = specById(metadata, manifest.partitionSpecId);
    for (const entry of entries) {
      total++;
      if (fileMayMatch(entry.dataFile, spec, schema, bound)) files.push(entry.dataFile);
    }
  }
  return {
    snapshot,
    files,
    manifests: { total: manifests.length, scanned: candidates.length },
    dataFiles: { total, matched: files.length },
  };
}
