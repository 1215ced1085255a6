import type { FileIO } from './io.js';
import { EntryStatus, type ManifestEntry, readManifest } from './manifest.js';
import { ManifestContent, type ManifestFile } from './manifest-list.js';
import { type Totals, zeroTotals } from './summary.js';

/** Reads one manifest, with snapshot ids and sequence numbers inherited from its list entry. */
export async function readEntries(io: FileIO, manifest: ManifestFile): Promise<ManifestEntry[]> {
  const bytes = await io.read(manifest.manifestPath);
  return readManifest(bytes, manifest.manifestPath, {
    addedSnapshotId: manifest.addedSnapshotId,
    sequenceNumber: manifest.sequenceNumber,
  });
}

/** Maps over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  f: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The live (added or existing) entries of every manifest, manifest by manifest. */
export async function liveEntries(
  io: FileIO,
  manifests: readonly ManifestFile[],
): Promise<{ manifest: ManifestFile; entries: ManifestEntry[] }[]> {
  return mapLimit(manifests, 8, async (manifest) => ({
    manifest,
    entries: (await readEntries(io, manifest)).filter((e) => e.status !== EntryStatus.DELETED),
  }));
}

/** Totals recomputed from the files themselves, for a parent whose summary lacks them. */
export async function computeTotals(io: FileIO, manifests: readonly ManifestFile[]): Promise<Totals> {
  const totals: Totals = { ...zeroTotals };
  for (const { manifest, entries } of await liveEntries(io, manifests)) {
    for (const { dataFile } of entries) {
      totals.filesSize += BigInt(dataFile.fileSizeInBytes);
      if (manifest.content === ManifestContent.DATA) {
        totals.dataFiles++;
        totals.records += BigInt(dataFile.recordCount);
      } else {
        totals.deleteFiles++;
        if (dataFile.content === 1) totals.positionDeletes += BigInt(dataFile.recordCount);
        else totals.equalityDeletes += BigInt(dataFile.recordCount);
      }
    }
  }
  return totals;
}
