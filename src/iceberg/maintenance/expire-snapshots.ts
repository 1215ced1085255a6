import { commitTableUpdate } from '../commit.js';
import type { FileIO } from '../io.js';
import { ancestry, currentSnapshot, type Snapshot, type TableMetadata } from '../metadata.js';
import { OFFSETS_PREFIX } from '../offsets.js';
import type { Table, Warehouse } from '../table.js';
import { reachableFrom } from './reachable.js';

export interface ExpireOptions {
  /** Snapshots older than this (epoch ms) may go. */
  olderThanMs: number;
  /** The newest N snapshots of main are kept whatever their age (at least 1: the current one). */
  retainLast?: number;
  /** Delete the manifest lists, manifests and data files that only expired snapshots referenced (default true). */
  deleteFiles?: boolean;
}

export interface ExpireResult {
  table: Table;
  expired: bigint[];
  deletedFiles: string[];
}

/**
 * The snapshots that must stay: the current one, ref heads, the last `retainLast` of main, the young
 * ones, and for each consumer group the newest snapshot recording its offsets (exactly-once state).
 */
export function snapshotsToKeep(metadata: TableMetadata, options: ExpireOptions): Set<bigint> {
  const keep = new Set<bigint>();
  for (const ref of Object.values(metadata.refs)) keep.add(ref['snapshot-id']);
  const current = currentSnapshot(metadata);
  if (current) keep.add(current['snapshot-id']);
  const seenGroups = new Set<string>();
  let position = 0;
  for (const snapshot of ancestry(metadata)) {
    if (position++ < Math.max(1, options.retainLast ?? 1)) keep.add(snapshot['snapshot-id']);
    for (const key of Object.keys(snapshot.summary)) {
      if (key.startsWith(OFFSETS_PREFIX) && !seenGroups.has(key)) {
        seenGroups.add(key);
        keep.add(snapshot['snapshot-id']);
      }
    }
  }
  for (const snapshot of metadata.snapshots) {
    if (snapshot['timestamp-ms'] >= options.olderThanMs) keep.add(snapshot['snapshot-id']);
  }
  return keep;
}

export function withoutSnapshots(metadata: TableMetadata, keep: Set<bigint>): TableMetadata {
  return {
    ...metadata,
    snapshots: metadata.snapshots.filter((s) => keep.has(s['snapshot-id'])),
    'snapshot-log': metadata['snapshot-log'].filter((e) => keep.has(e['snapshot-id'])),
    ...(Array.isArray(metadata.statistics)
      ? {
          statistics: (metadata.statistics as { 'snapshot-id': bigint }[]).filter((s) =>
            keep.has(BigInt(s['snapshot-id'])),
          ),
        }
      : {}),
  };
}

export async function expireSnapshots(
  warehouse: Warehouse,
  table: Table,
  options: ExpireOptions,
): Promise<ExpireResult> {
  let expired: Snapshot[] = [];
  let retained: Snapshot[] = [];
  const committed = await commitTableUpdate(warehouse, table, (base) => {
    const keep = snapshotsToKeep(base.metadata, options);
    expired = base.metadata.snapshots.filter((s) => !keep.has(s['snapshot-id']));
    retained = base.metadata.snapshots.filter((s) => keep.has(s['snapshot-id']));
    return expired.length === 0 ? undefined : withoutSnapshots(base.metadata, keep);
  });
  const deletedFiles =
    options.deleteFiles === false || expired.length === 0
      ? []
      : await deleteUnreachable(warehouse.io, expired, retained);
  return { table: committed, expired: expired.map((s) => s['snapshot-id']), deletedFiles };
}

/** Files of expired snapshots that no retained snapshot references. */
async function deleteUnreachable(io: FileIO, expired: Snapshot[], retained: Snapshot[]): Promise<string[]> {
  const [gone, kept] = await Promise.all([reachableFrom(io, expired), reachableFrom(io, retained)]);
  const doomed = [
    ...[...gone.manifestLists].filter((f) => !kept.manifestLists.has(f)),
    ...[...gone.manifests].filter((f) => !kept.manifests.has(f)),
    ...[...gone.dataFiles].filter((f) => !kept.liveDataFiles.has(f)),
  ];
  await io.delete(doomed);
  return doomed;
}
