import { randomUUID } from 'node:crypto';
import { IcebergError } from '../../errors/index.js';
import { type CommitOptions, type CommitResult, commitSnapshot, type SnapshotProducer } from '../commit.js';
import type { DataFile } from '../datafile.js';
import { liveEntries, mapLimit, readEntries } from '../entries.js';
import { EntryStatus, type ManifestEntry, partitionType, writeManifest } from '../manifest.js';
import { ManifestContent, type ManifestFile } from '../manifest-list.js';
import { currentSchema, currentSnapshot, type Summary, specById } from '../metadata.js';
import { offsetSummary, recordedCheckpoints, recordedOffsets, WRITER_ID_KEY } from '../offsets.js';
import { summarisePartitions } from '../partition-summary.js';
import { summarise, totalsOf } from '../summary.js';
import { readManifestFiles, type Table, type Warehouse } from '../table.js';
import { type CompactionGroup, type CompactionOptions, planCompaction } from './compaction-plan.js';
import { mergeStats } from './merge-stats.js';
import { concatParquet } from './rewrite.js';

/** A file chosen for rewriting is no longer live: another writer replaced or removed it first. */
export class CompactionConflictError extends IcebergError {
  constructor(readonly filePath: string) {
    super(
      'K2_ICEBERG_COMPACTION_CONFLICT',
      `${filePath} is no longer live; compaction abandoned, nothing committed`,
    );
  }
}

export interface CompactResult {
  groups: number;
  rewritten: number;
  added: number;
  commit: CommitResult | undefined;
}

/**
 * Rewrites small files of closed partitions into large ones, committed as one `replace` snapshot:
 * the same rows, fewer files. The snapshot carries every group's recorded offsets forward, so the
 * exactly-once state is unchanged; a concurrent append only makes the commit rebase.
 */
export async function compactTable(
  warehouse: Warehouse,
  table: Table,
  options: CompactionOptions & { writerId: string; commitId?: string },
  commitOptions: CommitOptions = {},
): Promise<CompactResult> {
  const snapshot = currentSnapshot(table.metadata);
  const manifests = await readManifestFiles(warehouse.io, snapshot);
  const timestamps = new Map(table.metadata.snapshots.map((s) => [s['snapshot-id'], s['timestamp-ms']]));
  const entries = (
    await liveEntries(
      warehouse.io,
      manifests.filter((m) => m.content === ManifestContent.DATA),
    )
  ).flatMap(({ entries }) =>
    entries.map((entry) => ({ entry, addedAtMs: timestamps.get(entry.snapshotId ?? -1n) ?? 0 })),
  );
  const groups = planCompaction(entries, table.metadata['partition-specs'], options);
  if (groups.length === 0) return { groups: 0, rewritten: 0, added: 0, commit: undefined };

  const added: DataFile[] = await mapLimit(groups, 1, (group) => rewriteGroup(warehouse, table, group));
  const removed = groups.flatMap((g) => g.files);
  const producer = replaceProducer(warehouse, {
    commitId: options.commitId ?? `compaction-${randomUUID()}`,
    writerId: options.writerId,
    added,
    removed,
  });
  const commit = await commitSnapshot(warehouse, table, producer, commitOptions);
  return { groups: groups.length, rewritten: removed.length, added: added.length, commit };
}

async function rewriteGroup(warehouse: Warehouse, table: Table, group: CompactionGroup): Promise<DataFile> {
  const schema = currentSchema(table.metadata);
  const inputs = await mapLimit(group.files, 4, (f) => warehouse.io.read(f.filePath));
  const { bytes, columnSizes, splitOffsets } = await concatParquet(schema, inputs);
  const filePath = `${table.metadata.location}/data/compacted-${randomUUID()}.parquet`;
  await warehouse.io.write(filePath, bytes);
  const sample = group.files[0]!;
  return {
    ...mergeStats(schema, group.files),
    columnSizes,
    splitOffsets,
    filePath,
    fileFormat: 'PARQUET',
    fileSizeInBytes: bytes.byteLength,
    partition: new Map(sample.partition),
    specId: group.specId,
  };
}

/** A `replace` snapshot: manifests holding removed files are rewritten with those entries DELETED. */
export function replaceProducer(
  warehouse: Warehouse,
  change: { commitId: string; writerId: string; added: DataFile[]; removed: DataFile[] },
): SnapshotProducer {
  const written: string[] = [];
  const removedPaths = new Set(change.removed.map((f) => f.filePath));
  return {
    commitId: change.commitId,
    async apply(base, snapshotId, sequenceNumber) {
      const parent = currentSnapshot(base.metadata);
      const carried = await readManifestFiles(warehouse.io, parent);
      const manifests: ManifestFile[] = [];
      const found = new Set<string>();
      for (const manifest of carried) {
        const entries = await readEntries(warehouse.io, manifest);
        const live = entries.filter((e) => e.status !== EntryStatus.DELETED);
        if (!live.some((e) => removedPaths.has(e.dataFile.filePath))) {
          manifests.push(manifest);
          continue;
        }
        const rewritten: ManifestEntry[] = live.map((e) => {
          const removed = removedPaths.has(e.dataFile.filePath);
          if (removed) found.add(e.dataFile.filePath);
          return {
            ...e,
            status: removed ? EntryStatus.DELETED : EntryStatus.EXISTING,
            snapshotId: removed ? snapshotId : e.snapshotId,
          };
        });
        manifests.push(
          await writeEntries(
            warehouse,
            base,
            manifest.partitionSpecId,
            rewritten,
            snapshotId,
            sequenceNumber,
          ),
        );
      }
      const missing = [...removedPaths].find((p) => !found.has(p));
      if (missing) throw new CompactionConflictError(missing);
      const addedEntries: ManifestEntry[] = change.added.map((dataFile) => ({
        status: EntryStatus.ADDED,
        snapshotId: undefined,
        sequenceNumber: undefined,
        fileSequenceNumber: undefined,
        dataFile: { ...dataFile, content: 0 },
      }));
      const specIds = [...new Set(change.added.map((f) => f.specId))];
      const addedManifests = await Promise.all(
        specIds.map((specId) =>
          writeEntries(
            warehouse,
            base,
            specId,
            addedEntries.filter((e) => e.dataFile.specId === specId),
            snapshotId,
            sequenceNumber,
          ),
        ),
      );
      const parentTotals = totalsOf(parent?.summary);
      if (!parentTotals) throw new CompactionConflictError('the parent snapshot has no totals');
      const summary: Summary = {
        ...summarise({ operation: 'replace', added: change.added, removed: change.removed }, parentTotals),
        ...offsetSummary(recordedOffsets(base.metadata), undefined, recordedCheckpoints(base.metadata)),
        [WRITER_ID_KEY]: change.writerId,
      };
      return { manifests: [...addedManifests, ...manifests], summary };
    },
    async abort() {
      await warehouse.io.delete([...written, ...change.added.map((f) => f.filePath)]);
    },
  };

  async function writeEntries(
    warehouse: Warehouse,
    base: Table,
    specId: number,
    entries: ManifestEntry[],
    snapshotId: bigint,
    sequenceNumber: bigint,
  ): Promise<ManifestFile> {
    const schema = currentSchema(base.metadata);
    const spec = specById(base.metadata, specId);
    const bytes = writeManifest({ schema, spec }, entries);
    const path = `${base.metadata.location}/metadata/${randomUUID()}-m${written.length}.avro`;
    await warehouse.io.write(path, bytes);
    written.push(path);
    const count = (status: number) => entries.filter((e) => e.status === status);
    const rows = (list: ManifestEntry[]) => list.reduce((n, e) => n + BigInt(e.dataFile.recordCount), 0n);
    const sequences = entries.map((e) => e.sequenceNumber ?? sequenceNumber);
    return {
      manifestPath: path,
      manifestLength: bytes.byteLength,
      partitionSpecId: specId,
      content: ManifestContent.DATA,
      sequenceNumber,
      minSequenceNumber: lowest(sequences, sequenceNumber),
      addedSnapshotId: snapshotId,
      addedFilesCount: count(EntryStatus.ADDED).length,
      existingFilesCount: count(EntryStatus.EXISTING).length,
      deletedFilesCount: count(EntryStatus.DELETED).length,
      addedRowsCount: rows(count(EntryStatus.ADDED)),
      existingRowsCount: rows(count(EntryStatus.EXISTING)),
      deletedRowsCount: rows(count(EntryStatus.DELETED)),
      partitions: summarisePartitions(
        partitionType(spec, schema),
        entries.map((e) => e.dataFile),
      ),
      keyMetadata: undefined,
    };
  }
}

function lowest(values: readonly bigint[], fallback: bigint): bigint {
  let min = fallback;
  for (const v of values) if (v < min) min = v;
  return min;
}
