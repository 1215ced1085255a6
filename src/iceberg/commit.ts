import { randomUUID } from 'node:crypto';
import { CommitConflictError, CommitStateUnknownError } from '../errors/index.js';
import { backoffDelay, type RetryPolicy, sleep } from '../util/retry.js';
import { identifierString, type TableIdentifier } from './identifier.js';
import { type ManifestFile, writeManifestList } from './manifest-list.js';
import {
  ancestry,
  currentSnapshot,
  newSnapshotId,
  nextMetadataFile,
  type Snapshot,
  type Summary,
  type TableMetadata,
  withPreviousFile,
  withSnapshot,
} from './metadata.js';
import { COMMIT_ID_KEY } from './offsets.js';
import { loadTable, type Table, type Warehouse, writeMetadata } from './table.js';

/** What a change contributes to a new snapshot built on `base`. */
export interface PendingSnapshot {
  /** Every manifest of the new snapshot, the carried ones included. */
  manifests: ManifestFile[];
  summary: Summary;
}

/**
 * A change to commit: an append, a compaction. `apply` runs once per attempt against the freshest
 * table, so a lost compare-and-swap rebases the change on whatever won.
 */
export interface SnapshotProducer {
  /** Idempotency token recorded as `k2.commit-id`: finding it in the ancestry means "already committed". */
  readonly commitId: string;
  apply(base: Table, snapshotId: bigint, sequenceNumber: bigint): Promise<PendingSnapshot>;
  /** Removes files this change wrote, once it is certain that no snapshot references them. */
  abort(): Promise<void>;
}

export interface CommitOptions {
  /** Backoff between attempts after a lost compare-and-swap. */
  retry?: Partial<RetryPolicy>;
  now?: () => number;
  signal?: AbortSignal;
}

export interface CommitResult {
  table: Table;
  snapshot: Snapshot;
  attempts: number;
  /** The commit id was already in the ancestry: nothing new was written. */
  alreadyCommitted: boolean;
}

export const defaultCommitRetry: RetryPolicy = {
  attempts: 30,
  initialDelayMs: 5,
  maxDelayMs: 500,
  factor: 1.6,
  jitter: 0.5,
};

/** The snapshot carrying `commitId` among the current snapshot's ancestors, if any. */
export function findCommit(table: Table, commitId: string): Snapshot | undefined {
  for (const snapshot of ancestry(table.metadata))
    if (snapshot.summary[COMMIT_ID_KEY] === commitId) return snapshot;
  return undefined;
}

/**
 * The commit protocol (DESIGN §4): write the manifest list and metadata file, then compare-and-swap
 * metadata_location. Conflict: remove this attempt's files, back off, reload, re-apply. Unknown
 * outcome: reload and look for the commit id; only when it is absent try again. Never two snapshots
 * for one commit id, and no lock is held across S3 I/O.
 */
export async function commitSnapshot(
  warehouse: Warehouse,
  target: Table | string | TableIdentifier,
  producer: SnapshotProducer,
  options: CommitOptions = {},
): Promise<CommitResult> {
  const policy = { ...defaultCommitRetry, ...options.retry };
  const now = options.now ?? Date.now;
  const identifier = isTable(target) ? target.identifier : target;
  let base = isTable(target) ? target : await loadTable(warehouse, identifier);
  const snapshotId = newSnapshotId();
  // Files may be removed on failure only if no attempt could have landed: none had an unknown outcome.
  let applied = false;
  let uncertain = false;
  try {
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted();
      const existing = findCommit(base, producer.commitId);
      if (existing) return { table: base, snapshot: existing, attempts: attempt, alreadyCommitted: true };

      const parent = currentSnapshot(base.metadata);
      const sequenceNumber = base.metadata['last-sequence-number'] + 1n;
      applied = true;
      const pending = await producer.apply(base, snapshotId, sequenceNumber);
      const location = base.metadata.location;
      const manifestList = `${location}/metadata/snap-${snapshotId}-${attempt}-${randomUUID()}.avro`;
      await warehouse.io.write(
        manifestList,
        writeManifestList(
          { snapshotId, parentSnapshotId: parent?.['snapshot-id'], sequenceNumber },
          pending.manifests,
        ),
      );
      const snapshot: Snapshot = {
        'snapshot-id': snapshotId,
        ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
        'sequence-number': sequenceNumber,
        'timestamp-ms': now(),
        'manifest-list': manifestList,
        summary: { ...pending.summary, [COMMIT_ID_KEY]: producer.commitId },
        'schema-id': base.metadata['current-schema-id'],
      };
      const metadata = withSnapshot(base.metadata, snapshot, base.metadataLocation, now());
      const metadataLocation = nextMetadataFile(location, base.metadataLocation);
      await writeMetadata(warehouse.io, metadataLocation, metadata);
      const committed: Table = { identifier: base.identifier, metadataLocation, metadata };

      let outcome: 'committed' | 'conflict' | 'unknown';
      try {
        outcome = await warehouse.catalog.swapMetadataLocation(
          base.identifier,
          base.metadataLocation,
          metadataLocation,
        );
      } catch (error) {
        if (!(error instanceof CommitStateUnknownError)) {
          await warehouse.io.delete([manifestList, metadataLocation]).catch(() => undefined);
          throw error;
        }
        outcome = 'unknown';
        uncertain = true;
      }
      if (outcome === 'committed')
        return { table: committed, snapshot, attempts: attempt, alreadyCommitted: false };

      if (outcome === 'conflict') {
        await warehouse.io.delete([manifestList, metadataLocation]).catch(() => undefined);
      }
      if (attempt >= policy.attempts) {
        if (outcome === 'unknown')
          throw new CommitStateUnknownError(identifierString(base.identifier), metadataLocation);
        throw new CommitConflictError(identifierString(base.identifier), attempt);
      }
      if (outcome === 'conflict') await sleep(backoffDelay(policy, attempt), options.signal);
      try {
        base = await loadTable(warehouse, base.identifier);
      } catch (error) {
        if (outcome === 'unknown') {
          throw new CommitStateUnknownError(identifierString(base.identifier), metadataLocation, {
            cause: error,
          });
        }
        throw error;
      }
      if (outcome === 'unknown' && base.metadataLocation === metadataLocation) {
        return { table: base, snapshot, attempts: attempt, alreadyCommitted: false };
      }
    }
  } catch (error) {
    if (applied && !uncertain) await producer.abort().catch(() => undefined);
    throw error;
  }
}

/**
 * A metadata-only change (no new snapshot), e.g. expiring snapshots: `update` maps the freshest
 * metadata to the next one, or undefined when there is nothing to do. Retried on a lost swap.
 */
export async function commitTableUpdate(
  warehouse: Warehouse,
  target: Table,
  update: (base: Table) => TableMetadata | undefined,
  options: CommitOptions = {},
): Promise<Table> {
  const policy = { ...defaultCommitRetry, ...options.retry };
  let base = target;
  for (let attempt = 1; ; attempt++) {
    const next = update(base);
    if (!next) return base;
    const metadata = {
      ...next,
      'last-updated-ms': Math.max((options.now ?? Date.now)(), base.metadata['last-updated-ms'] + 1),
      'metadata-log': withPreviousFile(base.metadata, base.metadataLocation),
    };
    const metadataLocation = nextMetadataFile(base.metadata.location, base.metadataLocation);
    await writeMetadata(warehouse.io, metadataLocation, metadata);
    const outcome = await warehouse.catalog.swapMetadataLocation(
      base.identifier,
      base.metadataLocation,
      metadataLocation,
    );
    if (outcome === 'committed') return { identifier: base.identifier, metadataLocation, metadata };
    await warehouse.io.delete([metadataLocation]).catch(() => undefined);
    if (attempt >= policy.attempts) throw new CommitConflictError(identifierString(base.identifier), attempt);
    await sleep(backoffDelay(policy, attempt), options.signal);
    base = await loadTable(warehouse, base.identifier);
  }
}

function isTable(target: Table | string | TableIdentifier): target is Table {
  return typeof target === 'object' && 'metadata' in target;
}
