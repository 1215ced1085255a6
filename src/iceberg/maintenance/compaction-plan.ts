import type { DataFile } from '../datafile.js';
import type { ManifestEntry } from '../manifest.js';
import type { PartitionSpec } from '../metadata.js';

export interface CompactionOptions {
  /** Output files aim at this size (default 128 MiB, Iceberg's write.target-file-size-bytes). */
  targetFileSizeBytes?: number;
  /** Files below this are small (default 3/4 of the target). */
  smallFileBytes?: number;
  /** A bin is rewritten only when it merges at least this many files (default 2). */
  minInputFiles?: number;
  /**
   * Partitions are closed when their day is before this epoch day; partitions without a day field
   * when every file was added before `closedBeforeMs`.
   */
  closedBeforeDay: number;
  closedBeforeMs: number;
}

export interface CompactionGroup {
  specId: number;
  partitionKey: string;
  files: DataFile[];
}

const defaults = { targetFileSizeBytes: 128 * 1024 * 1024, minInputFiles: 2 };

/**
 * Which small files to merge (pure): live files grouped by partition, only in closed partitions,
 * packed first-fit-decreasing into bins of at most the target size. Streaming appends never touch
 * closed partitions, so a rewrite there does not race the ingest path for the same data.
 */
export function planCompaction(
  entries: readonly { entry: ManifestEntry; addedAtMs: number }[],
  specs: readonly PartitionSpec[],
  options: CompactionOptions,
): CompactionGroup[] {
  const target = options.targetFileSizeBytes ?? defaults.targetFileSizeBytes;
  const small = options.smallFileBytes ?? Math.floor(target * 0.75);
  const minInputs = Math.max(2, options.minInputFiles ?? defaults.minInputFiles);
  const byPartition = new Map<string, { specId: number; files: DataFile[]; newestMs: number }>();
  for (const { entry, addedAtMs } of entries) {
    const file = entry.dataFile;
    const key = partitionKey(file);
    const group = byPartition.get(key) ?? { specId: file.specId, files: [], newestMs: 0 };
    group.files.push(file);
    group.newestMs = Math.max(group.newestMs, addedAtMs);
    byPartition.set(key, group);
  }
  const groups: CompactionGroup[] = [];
  for (const [key, group] of byPartition) {
    const spec = specs.find((s) => s['spec-id'] === group.specId);
    if (!spec || !isClosed(spec, group.files[0]!, group.newestMs, options)) continue;
    const candidates = group.files
      .filter((f) => f.fileSizeInBytes < small)
      .sort((a, b) => b.fileSizeInBytes - a.fileSizeInBytes);
    const bins: { size: number; files: DataFile[] }[] = [];
    for (const file of candidates) {
      const bin = bins.find((b) => b.size + file.fileSizeInBytes <= target);
      if (bin) {
        bin.files.push(file);
        bin.size += file.fileSizeInBytes;
      } else bins.push({ size: file.fileSizeInBytes, files: [file] });
    }
    for (const bin of bins) {
      if (bin.files.length >= minInputs)
        groups.push({ specId: group.specId, partitionKey: key, files: bin.files });
    }
  }
  return groups;
}

function isClosed(
  spec: PartitionSpec,
  sample: DataFile,
  newestMs: number,
  options: CompactionOptions,
): boolean {
  const day = spec.fields.find((f) => f.transform === 'day');
  if (!day) return newestMs < options.closedBeforeMs;
  const value = sample.partition.get(day['field-id']);
  return typeof value === 'number' && value < options.closedBeforeDay;
}

export function partitionKey(file: DataFile): string {
  const values = [...file.partition]
    .sort(([a], [b]) => a - b)
    .map(([id, v]) => [id, v instanceof Uint8Array ? [...v] : String(v)]);
  return JSON.stringify([file.specId, values]);
}
