/**
 * How the tracker classified one record:
 * - first: the first sequence of a symbol since tracking began (or since it was forgotten)
 * - in_order: highest + 1
 * - duplicate: a sequence already seen (the pipeline may drop it)
 * - out_of_order: a late record that fills (part of) an open gap
 * - small_gap / large_gap: a forward jump; the missing range is reported as a gap
 * - reset: a new session (see SequencePolicy.resetDrop / restartAt); tracking restarts here
 * - late: below what the tracker can vouch for (before tracking began, or in a gap already given up);
 *   accepted, because it may never have been seen
 * - unsequenced: the record carries no sequence; never a gap, never a duplicate
 */
export type SequenceKind =
  | 'first'
  | 'in_order'
  | 'duplicate'
  | 'out_of_order'
  | 'small_gap'
  | 'large_gap'
  | 'reset'
  | 'late'
  | 'unsequenced';

export const sequenceKinds: readonly SequenceKind[] = [
  'first',
  'in_order',
  'duplicate',
  'out_of_order',
  'small_gap',
  'large_gap',
  'reset',
  'late',
  'unsequenced',
];

export type GapKind = 'small' | 'large' | 'reset';

/** Why an open gap stopped being waited for; every reason means the range is reported permanently missing. */
export type GapCloseReason = 'expired' | 'evicted' | 'reset' | 'symbol_evicted';

interface GapIdentity {
  exchange: string;
  symbol: string;
  /** First missing sequence (inclusive). For kind 'reset', the last sequence of the old session. */
  fromSequence: bigint;
  /** Last missing sequence (inclusive). For kind 'reset', the first sequence of the new session. */
  toSequence: bigint;
  /** Number of missing sequences; 0 for a reset, which is a discontinuity rather than a known range. */
  size: bigint;
  topic: string;
  partition: number;
  /** Offset of the record that revealed (or closed) the gap: with topic and partition a replay-stable identity. */
  offset: bigint;
}

export interface GapDetected extends GapIdentity {
  type: 'gap.detected';
  kind: GapKind;
  /** Epoch milliseconds of the detection. */
  detectedAt: number;
}

export interface GapClosed extends GapIdentity {
  type: 'gap.closed';
  reason: GapCloseReason;
  closedAt: number;
}

export type SequenceEvent = GapDetected | GapClosed;

export interface SequenceObservation {
  readonly kind: SequenceKind;
  /** True only for a sequence the tracker knows it has seen: safe to drop. */
  readonly duplicate: boolean;
  readonly events: readonly SequenceEvent[];
}

/** A row of the `market_data.sequence_gaps` table, column names as in the table. */
export interface GapRow {
  exchange: string;
  symbol: string;
  from_sequence: bigint;
  to_sequence: bigint;
  size: bigint;
  /** Microseconds since the epoch, UTC (Iceberg timestamptz). */
  detected_at: bigint;
  kind: GapKind;
  topic: string;
  partition: number;
  offset: bigint;
}

export function gapRow(gap: GapDetected): GapRow {
  return {
    exchange: gap.exchange,
    symbol: gap.symbol,
    from_sequence: gap.fromSequence,
    to_sequence: gap.toSequence,
    size: gap.size,
    detected_at: BigInt(gap.detectedAt) * 1000n,
    kind: gap.kind,
    topic: gap.topic,
    partition: gap.partition,
    offset: gap.offset,
  };
}
