import { mapLimit, readEntries } from '../entries.js';
import type { FileIO } from '../io.js';
import type { ManifestEntry } from '../manifest.js';
import { type ManifestFile, readManifestList } from '../manifest-list.js';
import type { Snapshot } from '../metadata.js';

/** What snapshots reference: their manifest lists, manifests, and data files (every entry, any status). */
export interface Reachable {
  manifestLists: Set<string>;
  manifests: Set<string>;
  dataFiles: Set<string>;
  /** Data files live (added or existing) in at least one of the snapshots. */
  liveDataFiles: Set<string>;
}

/** Reads each manifest list and manifest once, however many snapshots share it. */
export async function reachableFrom(io: FileIO, snapshots: readonly Snapshot[]): Promise<Reachable> {
  const reachable: Reachable = {
    manifestLists: new Set(),
    manifests: new Set(),
    dataFiles: new Set(),
    liveDataFiles: new Set(),
  };
  const lists = await mapLimit(snapshots, 8, async (s) =>
    readManifestList(await io.read(s['manifest-list']), s['manifest-list']),
  );
  const manifests = new Map<string, ManifestFile>();
  snapshots.forEach((s, i) => {
    reachable.manifestLists.add(s['manifest-list']);
    for (const m of lists[i]!) manifests.set(m.manifestPath, m);
  });
  const entries: ManifestEntry[][] = await mapLimit([...manifests.values()], 8, (m) => readEntries(io, m));
  for (const path of manifests.keys()) reachable.manifests.add(path);
  for (const entry of entries.flat()) {
    reachable.dataFiles.add(entry.dataFile.filePath);
    if (entry.status !== 2) reachable.liveDataFiles.add(entry.dataFile.filePath);
  }
  return reachable;
}
