import { type Int64Column, int64At, type Utf8Column } from '../codec/columns.js';
import type { DecodedBatch } from '../codec/decode.js';
import { Interner } from '../codec/interner.js';
import type { TableName } from '../iceberg/types.js';
import { type GapRow, gapRow, type SequenceEvent } from '../sequence/events.js';
import {
  type MessageIdWindowSnapshot,
  type SequencePolicy,
  type SequenceSnapshot,
  SequenceTracker,
} from '../sequence/index.js';
import { MessageIdWindow } from '../sequence/message-id-window.js';
import type { PartitionCheckpoint } from './checkpoint.js';
import type { EncodedFile } from './table-writer.js';

/** Encodes decoded batches (the rows `keep` names) into Parquet files; the batches' buffers move. */
export type EncodeRows = (chunks: DecodedBatch[], keep: (Int32Array | null)[]) => Promise<EncodedFile[]>;

/**
 * Rows waiting for the next commit: files already encoded from the range's earlier rows, and the
 * decoded batches since, with which of their rows survive dedupe.
 */
export interface SealedRows {
  topic: string;
  partition: number;
  table: TableName;
  /** Files encoded ahead of the commit, oldest first (see PartitionIngest.encodeAhead). */
  encodedAhead: Promise<EncodedFile[]>[];
  chunks: DecodedBatch[];
  keep: (Int32Array | null)[];
  /** Rows of `chunks` that survive dedupe (`rows` counts the whole range, encoded ahead or not). */
  unencodedRows: number;
  /** The offsets these rows complete: [fromOffset, nextOffset). */
  fromOffset: bigint;
  nextOffset: bigint;
  rows: number;
  bytes: number;
  /** Gaps detected in this range: the rows of `market_data.sequence_gaps`. */
  gaps: GapRow[];
  /** The DLQ partition's next offset after this range's poison was written (null: unknown). */
  dlqNextOffset: bigint | null;
  /** Tracker and message_id window at `nextOffset`, taken when sealed (the checkpoint's state). */
  sequence: SequenceSnapshot | null;
  messageIds: MessageIdWindowSnapshot | null;
}

export interface Accepted {
  kept: number;
  duplicates: number;
  events: SequenceEvent[];
}

/**
 * One topic-partition's ingest state: where it stands in Kafka, its sequence tracker and
 * message_id window, and the rows buffered since the last seal. Pure bookkeeping, no I/O.
 */
export class PartitionIngest {
  readonly tracker: SequenceTracker;
  readonly messageIds: MessageIdWindow;
  /** Exchange and symbol strings, one per distinct value. */
  readonly #interner = new Interner();
  /** Next offset this partition expects (offsets below were buffered or committed). */
  nextOffset: bigint;
  /** Next offset of this partition's DLQ partition, as far as this process knows (null: unknown). */
  dlqNextOffset: bigint | null = null;
  /**
   * Source offsets already in the DLQ (written by an earlier run past the checkpoint), each with its
   * offset in the DLQ partition: not written again, and a checkpoint's DLQ offset never passes one
   * still ahead (see #dlqResumeOffset).
   */
  readonly quarantined = new Map<string, bigint>();
  #pending: SealedRows;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly table: TableName,
    startOffset: bigint,
    options: { policy?: Partial<SequencePolicy>; dedupeWindow?: number } = {},
  ) {
    this.tracker = new SequenceTracker(topic, partition, { policy: options.policy });
    this.messageIds = new MessageIdWindow(options.dedupeWindow ?? 100_000);
    this.nextOffset = startOffset;
    this.#pending = this.#empty(startOffset);
  }

  /** Rows and source bytes of the pending range; `unencodedRows` of them are still decoded columns. */
  get buffered(): { rows: number; bytes: number; unencodedRows: number } {
    const { rows, bytes, unencodedRows } = this.#pending;
    return { rows, bytes, unencodedRows };
  }

  /**
   * Takes a decoded batch covering [batchFrom, batchNext): rows seen before (same message_id, or a
   * sequence the tracker has already seen) are dropped, the rest are buffered. Failed records are
   * the DLQ's; their offsets are covered by the range all the same.
   */
  accept(decoded: DecodedBatch, batchFrom: bigint, batchNext: bigint, bytes: number): Accepted {
    if (batchFrom !== this.nextOffset) {
      throw new RangeError(
        `${this.topic}/${this.partition}: batch starts at ${batchFrom}, expected ${this.nextOffset}`,
      );
    }
    const hasSequence = this.table !== 'reference_data_v2';
    const ids = decoded.columns.message_id as Utf8Column;
    const exchanges = decoded.columns.exchange as Utf8Column;
    const symbols = decoded.columns.symbol as Utf8Column;
    const sequences = hasSequence ? (decoded.columns.source_sequence as Int64Column) : undefined;
    const keep: number[] = [];
    const events: SequenceEvent[] = [];
    let duplicates = 0;
    const interner = this.#interner;
    for (let row = 0; row < decoded.rowCount; row++) {
      // message_id is required: every decoded row has one (an empty id is still an id).
      const fresh = this.messageIds.admitBytes(ids.data, ids.offsets[row]!, ids.offsets[row + 1]!);
      let duplicate = !fresh;
      if (sequences) {
        const observation = this.tracker.observe({
          exchange: interner.at(exchanges, row)!,
          symbol: interner.at(symbols, row)!,
          sequence: int64At(sequences, row),
          offset: decoded.offsets[row]!,
        });
        if (observation.events.length > 0) events.push(...observation.events);
        duplicate ||= observation.duplicate;
      }
      if (duplicate) duplicates++;
      else keep.push(row);
    }
    const pending = this.#pending;
    for (const event of events) if (event.type === 'gap.detected') pending.gaps.push(gapRow(event));
    this.nextOffset = batchNext;
    this.#forgetPassedQuarantines();
    pending.dlqNextOffset = this.#dlqResumeOffset();
    pending.chunks.push(decoded);
    pending.keep.push(keep.length === decoded.rowCount ? null : Int32Array.from(keep));
    pending.rows += keep.length;
    pending.unencodedRows += keep.length;
    pending.bytes += bytes;
    pending.nextOffset = batchNext;
    return { kept: keep.length, duplicates, events };
  }

  /** Quarantines behind the partition's position were met (or are no longer poison): forgotten. */
  #forgetPassedQuarantines(): void {
    if (this.quarantined.size === 0) return;
    for (const offset of this.quarantined.keys())
      if (BigInt(offset) < this.nextOffset) this.quarantined.delete(offset);
  }

  /**
   * Where a restart at `nextOffset` must start reading the DLQ partition back: its known end, but no
   * further than the earliest record an earlier run quarantined from beyond `nextOffset`. The scan on
   * assignment moves `dlqNextOffset` to the DLQ's end; a checkpoint taken before this partition
   * reaches those records must still lead the next run to them, or it would quarantine them again.
   */
  #dlqResumeOffset(): bigint | null {
    let resume = this.dlqNextOffset;
    if (resume === null) return null;
    for (const at of this.quarantined.values()) if (at < resume) resume = at;
    return resume;
  }

  /**
   * Hands the buffered batches to `encode` now, ahead of the commit: rows then wait as Parquet bytes
   * (~5 B a row) instead of decoded columns (~200 B). The range stays pending until sealed, so
   * offsets, checkpoint and gaps are exactly as if the rows were encoded at the commit.
   */
  encodeAhead(encode: EncodeRows): void {
    const pending = this.#pending;
    if (pending.unencodedRows === 0) return;
    const files = encode(pending.chunks, pending.keep);
    // A failure is the commit's to handle: it awaits these files when it encodes the range.
    files.catch(() => undefined);
    pending.encodedAhead.push(files);
    pending.chunks = [];
    pending.keep = [];
    pending.unencodedRows = 0;
  }

  /** Hands over everything buffered (possibly only offsets of dropped records), or undefined if nothing moved. */
  seal(): SealedRows | undefined {
    const sealed = this.#pending;
    if (sealed.nextOffset === sealed.fromOffset) return undefined;
    sealed.sequence = this.table === 'reference_data_v2' ? null : this.tracker.snapshot();
    sealed.messageIds = this.messageIds.snapshot();
    this.#pending = this.#empty(sealed.nextOffset);
    return sealed;
  }

  /** Takes over the state a checkpoint recorded at this partition's start offset. */
  restore(checkpoint: PartitionCheckpoint): void {
    if (checkpoint.nextOffset !== this.nextOffset) {
      throw new RangeError(
        `${this.topic}/${this.partition}: checkpoint at ${checkpoint.nextOffset}, partition starts at ${this.nextOffset}`,
      );
    }
    if (checkpoint.sequence) this.tracker.restore(checkpoint.sequence);
    if (checkpoint.messageIds) this.messageIds.restore(checkpoint.messageIds);
    this.dlqNextOffset = checkpoint.dlqNextOffset;
    this.#pending.dlqNextOffset = checkpoint.dlqNextOffset;
  }

  #empty(from: bigint): SealedRows {
    const { topic, partition, table } = this;
    return {
      topic,
      partition,
      table,
      encodedAhead: [],
      chunks: [],
      keep: [],
      unencodedRows: 0,
      fromOffset: from,
      nextOffset: from,
      rows: 0,
      bytes: 0,
      gaps: [],
      dlqNextOffset: this.#dlqResumeOffset(),
      sequence: null,
      messageIds: null,
    };
  }
}
