import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { K2Error } from '../errors/index.js';
import type { FileIO } from '../iceberg/io.js';
import type {
  GapRow,
  MessageIdWindowSnapshot,
  MessageIdWindowSnapshotV1,
  SequenceSnapshot,
} from '../sequence/index.js';
import type { FlushedPartition } from './table-writer.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * A partition's ingest state at exactly the offset a commit records for it: the sequence tracker,
 * the message_id window, the gaps detected in the committed range (so the gaps table can be caught
 * up after a crash between the two commits) and how far the DLQ partition was written. Stored as
 * gzipped next to the table's metadata; the snapshot that records the offsets names it
 * (`k2.checkpoints.<group>`), so a restart restores the state that belongs to where it resumes.
 *
 * Version 2 (written now): one line of JSON, then the message_id window's byte string (its length in
 * the JSON, `messageIds.byteLength`). Version 1 (still read): the JSON alone, the ids as strings.
 */
export interface PartitionCheckpoint {
  version: 1 | 2;
  group: string;
  topic: string;
  partition: number;
  /** The committed range [fromOffset, nextOffset). */
  fromOffset: bigint;
  nextOffset: bigint;
  sequence: SequenceSnapshot | null;
  messageIds: MessageIdWindowSnapshot | MessageIdWindowSnapshotV1 | null;
  gaps: GapRow[];
  /** Next offset of the DLQ partition once this range's poison was written; null when unknown. */
  dlqNextOffset: bigint | null;
}

export class CheckpointError extends K2Error {
  constructor(location: string, reason: string, options: { cause?: unknown } = {}) {
    super('K2_CHECKPOINT_INVALID', `ingest checkpoint ${location}: ${reason}`, options);
  }
}

export function checkpointLocation(
  tableLocation: string,
  checkpoint: Pick<PartitionCheckpoint, 'group' | 'topic' | 'partition' | 'nextOffset'>,
  commitId: string,
): string {
  const base = tableLocation.replace(/\/+$/, '');
  const group = encodeURIComponent(checkpoint.group);
  const topic = encodeURIComponent(checkpoint.topic);
  return `${base}/metadata/k2-checkpoints/${group}/${topic}/${checkpoint.partition}/${checkpoint.nextOffset}-${commitId}.json.gz`;
}

const BIGINT_FIELDS = ['from_sequence', 'to_sequence', 'size', 'detected_at', 'offset'] as const;

/** JSON with every 64-bit value as a decimal string, then the window's bytes, gzipped (the zlib work runs off the main thread). */
export async function encodeCheckpoint(checkpoint: PartitionCheckpoint): Promise<Uint8Array> {
  const ids = checkpoint.messageIds;
  const trailer = ids?.version === 2 ? ids.bytes : undefined;
  const head = {
    ...checkpoint,
    version: 2,
    messageIds:
      ids?.version === 2
        ? { version: 2, capacity: ids.capacity, count: ids.count, byteLength: ids.bytes.length }
        : ids,
  };
  // JSON.stringify without indentation writes no raw newline: the first one ends the JSON.
  const json = JSON.stringify(head, (_key, value: unknown) =>
    typeof value === 'bigint' ? String(value) : value,
  );
  return gzipAsync(Buffer.concat([Buffer.from(`${json}\n`), trailer ?? new Uint8Array(0)]));
}

export async function decodeCheckpoint(location: string, bytes: Uint8Array): Promise<PartitionCheckpoint> {
  let raw: Record<string, unknown>;
  let trailer: Buffer;
  try {
    const content = await gunzipAsync(bytes);
    const newline = content.indexOf(0x0a);
    const end = newline < 0 ? content.length : newline;
    trailer = content.subarray(Math.min(content.length, end + 1));
    raw = JSON.parse(content.subarray(0, end).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new CheckpointError(location, 'not gzipped JSON', { cause: error });
  }
  if (raw.version !== 1 && raw.version !== 2)
    throw new CheckpointError(location, `unsupported version ${String(raw.version)}`);
  const int = (value: unknown, what: string): bigint => {
    if (typeof value !== 'string' || !/^-?\d+$/.test(value))
      throw new CheckpointError(location, `${what} is not an integer string`);
    return BigInt(value);
  };
  if (typeof raw.group !== 'string' || typeof raw.topic !== 'string' || !Number.isInteger(raw.partition))
    throw new CheckpointError(location, 'group, topic or partition missing');
  if (!Array.isArray(raw.gaps)) throw new CheckpointError(location, 'gaps missing');
  const gaps = (raw.gaps as Record<string, unknown>[]).map((gap) => {
    const row = { ...gap } as Record<string, unknown>;
    for (const field of BIGINT_FIELDS) row[field] = int(gap[field], `gap ${field}`);
    return row as unknown as GapRow;
  });
  return {
    version: raw.version,
    group: raw.group,
    topic: raw.topic,
    partition: raw.partition as number,
    fromOffset: int(raw.fromOffset, 'fromOffset'),
    nextOffset: int(raw.nextOffset, 'nextOffset'),
    sequence: (raw.sequence ?? null) as SequenceSnapshot | null,
    messageIds: windowSnapshot(location, raw.messageIds, trailer),
    gaps,
    dlqNextOffset: raw.dlqNextOffset === null ? null : int(raw.dlqNextOffset, 'dlqNextOffset'),
  };
}

/** The window as the file holds it: inline (version 1) or its header and the bytes after the JSON. */
function windowSnapshot(
  location: string,
  raw: unknown,
  trailer: Uint8Array,
): MessageIdWindowSnapshot | MessageIdWindowSnapshotV1 | null {
  const ids = raw as Record<string, unknown> | null | undefined;
  if (ids?.version !== 2) {
    if (trailer.length > 0) throw new CheckpointError(location, `${trailer.length} bytes after the JSON`);
    return (ids ?? null) as MessageIdWindowSnapshotV1 | null;
  }
  if (ids.byteLength !== trailer.length)
    throw new CheckpointError(
      location,
      `message id window of ${String(ids.byteLength)} bytes, the file holds ${trailer.length}`,
    );
  return {
    version: 2,
    capacity: ids.capacity as number,
    count: ids.count as number,
    bytes: new Uint8Array(trailer),
  };
}

export async function writeCheckpoint(
  io: FileIO,
  location: string,
  checkpoint: PartitionCheckpoint,
): Promise<void> {
  await io.write(location, await encodeCheckpoint(checkpoint));
}

export async function readCheckpoint(io: FileIO, location: string): Promise<PartitionCheckpoint> {
  return decodeCheckpoint(location, await io.read(location));
}

/** Each flushed partition's state at its sealed offset, written before the commit that names it. */
export async function writeCheckpoints(
  io: FileIO,
  tableLocation: string,
  group: string,
  flushed: FlushedPartition[],
  commitId: string,
): Promise<void> {
  await Promise.all(
    flushed.map(async (part) => {
      const { sealed } = part;
      const checkpoint: PartitionCheckpoint = {
        version: 2,
        group,
        topic: part.topic,
        partition: part.partition,
        fromOffset: part.fromOffset,
        nextOffset: part.nextOffset,
        sequence: sealed.sequence,
        messageIds: sealed.messageIds,
        gaps: sealed.gaps,
        dlqNextOffset: sealed.dlqNextOffset,
      };
      const path = checkpointLocation(tableLocation, checkpoint, commitId);
      await writeCheckpoint(io, path, checkpoint);
      part.checkpoint = path;
    }),
  );
}
