import { randomUUID } from 'node:crypto';
import { InvalidDataFileError, OffsetConflictError } from '../errors/index.js';
import { type CommitOptions, type CommitResult, commitSnapshot, type SnapshotProducer } from './commit.js';
import type { DataFile } from './datafile.js';
import { computeTotals, mapLimit } from './entries.js';
import { identifierString, type TableIdentifier } from './identifier.js';
import { EntryStatus, partitionType, writeManifest } from './manifest.js';
import { ManifestContent, type ManifestFile } from './manifest-list.js';
import { currentSchema, currentSnapshot, type Summary, specById } from './metadata.js';
import {
  type OffsetCommit,
  offsetSummary,
  overlappingRange,
  recordedCheckpoints,
  recordedOffsets,
  WRITER_ID_KEY,
} from './offsets.js';
import { summarisePartitions } from './partition-summary.js';
import { summarise, totalsOf } from './summary.js';
import { readManifestFiles, type Table, type Warehouse } from './table.js';

export interface AppendRequest {
  /** Parquet files already uploaded, with their stats and partition tuples. */
  files: readonly DataFile[];
  /** Idempotency token: the batch id. Re-running a batch with the same id commits nothing new. */
  commitId: string;
  /** Who commits (host, process, instance): recorded as `k2.writer-id`. */
  writerId: string;
  /** The Kafka offsets this batch completes, recorded per consumer group. */
  offsets?: OffsetCommit;
  /** HEAD every file first and compare its size with the stats (default true). */
  checkFiles?: boolean;
}

/**
 * Appends data files as one snapshot (operation `append`): a new manifest for the files, a manifest
 * list carrying the parent's manifests, the offsets of the batch. Exactly once per commit id.
 */
export async function appendFiles(
  warehouse: Warehouse,
  target: Table | string | TableIdentifier,
  request: AppendRequest,
  options: CommitOptions = {},
): Promise<CommitResult> {
  if (request.files.length === 0 && !request.offsets) throw new TypeError('an append needs files or offsets');
  checkDataFiles(request.files);
  if (request.checkFiles ?? true) await checkUploaded(warehouse, request.files);
  return commitSnapshot(warehouse, target, appendProducer(warehouse, request), options);
}

export function appendProducer(warehouse: Warehouse, request: AppendRequest): SnapshotProducer {
  let written: { manifest: ManifestFile; files: DataFile[] }[] | undefined;
  return {
    commitId: request.commitId,
    async apply(base, snapshotId, sequenceNumber) {
      const table = identifierString(base.identifier);
      const recorded = recordedOffsets(base.metadata);
      if (request.offsets) {
        const overlap = overlappingRange(
          recorded.get(request.offsets.group) ?? new Map(),
          request.offsets.ranges,
        );
        if (overlap) {
          const { range, committed } = overlap;
          throw new OffsetConflictError(
            table,
            request.offsets.group,
            range.topic,
            range.partition,
            committed,
            range.fromOffset!,
          );
        }
      }
      written ??= await writeManifests(warehouse, base, request.files);
      const parent = currentSnapshot(base.metadata);
      const carried = await readManifestFiles(warehouse.io, parent);
      const added = written.map(({ manifest }) => ({
        ...manifest,
        sequenceNumber,
        minSequenceNumber: sequenceNumber,
        addedSnapshotId: snapshotId,
      }));
      const parentTotals = totalsOf(parent?.summary) ?? (await computeTotals(warehouse.io, carried));
      const summary: Summary = {
        ...summarise({ operation: 'append', added: request.files, removed: [] }, parentTotals),
        ...offsetSummary(recorded, request.offsets, recordedCheckpoints(base.metadata)),
        [WRITER_ID_KEY]: request.writerId,
      };
      return { manifests: [...added, ...carried], summary };
    },
    async abort() {
      if (written) await warehouse.io.delete(written.map((w) => w.manifest.manifestPath));
    },
  };
}

/** One manifest per partition spec among the files; entries inherit snapshot id and sequence number. */
async function writeManifests(warehouse: Warehouse, base: Table, files: readonly DataFile[]) {
  const schema = currentSchema(base.metadata);
  const bySpec = new Map<number, DataFile[]>();
  for (const file of files) bySpec.set(file.specId, [...(bySpec.get(file.specId) ?? []), file]);
  const out: { manifest: ManifestFile; files: DataFile[] }[] = [];
  const prefix = `${base.metadata.location}/metadata/${randomUUID()}`;
  for (const [specId, specFiles] of bySpec) {
    const spec = specById(base.metadata, specId);
    const fields = partitionType(spec, schema);
    for (const file of specFiles) {
      for (const field of fields) {
        if (!file.partition.has(field.fieldId)) {
          throw new InvalidDataFileError(
            file.filePath,
            `no value for partition field ${field.name} (${field.fieldId})`,
          );
        }
      }
    }
    const bytes = writeManifest(
      { schema, spec },
      specFiles.map((dataFile) => ({
        status: EntryStatus.ADDED,
        snapshotId: undefined,
        sequenceNumber: undefined,
        fileSequenceNumber: undefined,
        dataFile: { ...dataFile, content: 0 },
      })),
    );
    const path = `${prefix}-m${out.length}.avro`;
    await warehouse.io.write(path, bytes);
    out.push({
      files: specFiles,
      manifest: {
        manifestPath: path,
        manifestLength: bytes.byteLength,
        partitionSpecId: specId,
        content: ManifestContent.DATA,
        sequenceNumber: -1n,
        minSequenceNumber: -1n,
        addedSnapshotId: -1n,
        addedFilesCount: specFiles.length,
        existingFilesCount: 0,
        deletedFilesCount: 0,
        addedRowsCount: specFiles.reduce((n, f) => n + BigInt(f.recordCount), 0n),
        existingRowsCount: 0n,
        deletedRowsCount: 0n,
        partitions: summarisePartitions(fields, specFiles),
        keyMetadata: undefined,
      },
    });
  }
  return out;
}

/** The contract with the encoder: Parquet, each file once, sane counts. */
function checkDataFiles(files: readonly DataFile[]): void {
  const seen = new Set<string>();
  for (const file of files) {
    if (file.fileFormat !== 'PARQUET')
      throw new InvalidDataFileError(file.filePath, `format ${file.fileFormat}`);
    if (seen.has(file.filePath)) throw new InvalidDataFileError(file.filePath, 'appears twice in one append');
    seen.add(file.filePath);
    if (!Number.isSafeInteger(file.recordCount) || file.recordCount < 0) {
      throw new InvalidDataFileError(file.filePath, `record count ${file.recordCount}`);
    }
  }
}

/** Each file is on the warehouse store, exactly the size the stats say. */
async function checkUploaded(warehouse: Warehouse, files: readonly DataFile[]): Promise<void> {
  await mapLimit(files, 16, async (file) => {
    const size = await warehouse.io.size(file.filePath);
    if (size === undefined) throw new InvalidDataFileError(file.filePath, 'not found in the warehouse');
    if (size !== file.fileSizeInBytes) {
      throw new InvalidDataFileError(
        file.filePath,
        `object is ${size} bytes, the stats say ${file.fileSizeInBytes}`,
      );
    }
  });
}
