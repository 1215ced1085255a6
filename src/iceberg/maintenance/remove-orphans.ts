import { CHECKPOINTS_PREFIX, decodeCheckpoints } from '../offsets.js';
import type { Table, Warehouse } from '../table.js';
import { reachableFrom } from './reachable.js';

export interface OrphanOptions {
  /** Only files older than this (epoch ms) are candidates: younger ones may belong to a commit in flight. */
  olderThanMs: number;
  dryRun?: boolean;
}

/**
 * Deletes files under the table's location that no metadata references: not the current or a logged
 * metadata file, nor any snapshot's manifest list, manifest or data file (whatever the entry status).
 */
export async function removeOrphanFiles(
  warehouse: Warehouse,
  table: Table,
  options: OrphanOptions,
): Promise<string[]> {
  const { metadata } = table;
  const reachable = await reachableFrom(warehouse.io, metadata.snapshots);
  const referenced = new Set<string>(
    [
      table.metadataLocation,
      ...metadata['metadata-log'].map((e) => e['metadata-file']),
      ...reachable.manifestLists,
      ...reachable.manifests,
      ...reachable.dataFiles,
      ...checkpointFiles(table),
    ].map(objectKey),
  );
  const orphans: string[] = [];
  for await (const object of warehouse.io.list(`${metadata.location}/`)) {
    if (object.lastModifiedMs < options.olderThanMs && !referenced.has(objectKey(object.uri)))
      orphans.push(object.uri);
  }
  if (!options.dryRun) await warehouse.io.delete(orphans);
  return orphans;
}

/** Writers spell the same object s3:// or s3a://; compare bucket and key only. */
function objectKey(uri: string): string {
  return uri.replace(/^s3a?:\/\//, '');
}

/** Ingest checkpoints named by any snapshot's summary (K2's `k2.checkpoints.<group>`). */
function checkpointFiles(table: Table): string[] {
  const files: string[] = [];
  for (const snapshot of table.metadata.snapshots ?? []) {
    for (const [key, value] of Object.entries(snapshot.summary)) {
      if (!key.startsWith(CHECKPOINTS_PREFIX)) continue;
      for (const partitions of decodeCheckpoints(value).values()) files.push(...partitions.values());
    }
  }
  return files;
}
