import type { DataFile } from './datafile.js';
import type { Summary } from './metadata.js';

/**
 * Standard snapshot summary counters (spec "Snapshot Summary", Java's SnapshotSummary). Totals are
 * the parent's plus what was added minus what was removed; other readers derive their own totals
 * from these, so they must be exact.
 */
export interface Totals {
  dataFiles: bigint;
  deleteFiles: bigint;
  records: bigint;
  filesSize: bigint;
  positionDeletes: bigint;
  equalityDeletes: bigint;
}

export const zeroTotals: Totals = {
  dataFiles: 0n,
  deleteFiles: 0n,
  records: 0n,
  filesSize: 0n,
  positionDeletes: 0n,
  equalityDeletes: 0n,
};

const totalKeys: Record<keyof Totals, string> = {
  dataFiles: 'total-data-files',
  deleteFiles: 'total-delete-files',
  records: 'total-records',
  filesSize: 'total-files-size',
  positionDeletes: 'total-position-deletes',
  equalityDeletes: 'total-equality-deletes',
};

/** The totals a summary states, or undefined if any is missing (then they must be recomputed). */
export function totalsOf(summary: Record<string, string> | undefined): Totals | undefined {
  if (!summary) return zeroTotals;
  const out = {} as Totals;
  for (const [field, key] of Object.entries(totalKeys) as [keyof Totals, string][]) {
    const value = summary[key];
    if (value === undefined || !/^\d+$/.test(value)) return undefined;
    out[field] = BigInt(value);
  }
  return out;
}

export interface Change {
  operation: 'append' | 'replace' | 'overwrite' | 'delete';
  added: readonly DataFile[];
  removed: readonly DataFile[];
}

export function summarise(change: Change, parent: Totals): Summary {
  const sum = (files: readonly DataFile[], f: (d: DataFile) => number) =>
    files.reduce((acc, d) => acc + BigInt(f(d)), 0n);
  const addedRecords = sum(change.added, (d) => d.recordCount);
  const addedSize = sum(change.added, (d) => d.fileSizeInBytes);
  const removedRecords = sum(change.removed, (d) => d.recordCount);
  const removedSize = sum(change.removed, (d) => d.fileSizeInBytes);
  const totals: Totals = {
    ...parent,
    dataFiles: parent.dataFiles + BigInt(change.added.length) - BigInt(change.removed.length),
    records: parent.records + addedRecords - removedRecords,
    filesSize: parent.filesSize + addedSize - removedSize,
  };
  const summary: Summary = { operation: change.operation };
  if (change.added.length > 0) {
    summary['added-data-files'] = String(change.added.length);
    summary['added-records'] = String(addedRecords);
    summary['added-files-size'] = String(addedSize);
  }
  if (change.removed.length > 0) {
    summary['deleted-data-files'] = String(change.removed.length);
    summary['deleted-records'] = String(removedRecords);
    summary['removed-files-size'] = String(removedSize);
  }
  summary['changed-partition-count'] = String(changedPartitions([...change.added, ...change.removed]));
  for (const [field, key] of Object.entries(totalKeys) as [keyof Totals, string][]) {
    summary[key] = String(totals[field]);
  }
  return summary;
}

function changedPartitions(files: readonly DataFile[]): number {
  const keys = new Set(
    files.map((f) =>
      JSON.stringify([
        f.specId,
        [...f.partition].map(([id, v]) => [id, v instanceof Uint8Array ? [...v] : String(v)]),
      ]),
    ),
  );
  return keys.size;
}
