import type { LevelChanged } from '../actors/health.machine.js';
import type { FailureStage } from '../dlq/record.js';
import type { BreakerChange, BreakerState, Dependency } from '../health/circuit-breaker.js';
import type { HealthLevel } from '../health/levels.js';
import type { Reason } from '../health/policy.js';
import type { GapCloseReason, GapKind, SequenceEvent, SequenceKind } from '../sequence/events.js';
import type { SequenceProgress } from '../sequence/tracker.js';

/** 64-bit values (offsets, sequences, snapshot ids) are decimal strings: the journal is plain JSON. */
export type Int64 = string;

/** Where in the pipeline an error happened: the `stage` metric label, so a closed set. */
export type PipelineStage = FailureStage | 'fetch' | 'commit' | 'offset_commit' | 'dlq' | 'journal';

export interface PartitionRef {
  topic: string;
  partition: number;
}

export interface OffsetEntry extends PartitionRef {
  /** The next offset to read. */
  nextOffset: Int64;
}

export interface FailureInfo {
  /** The error's class name, e.g. DecodeError: the `error_class` metric label. */
  errorClass: string;
  code: string;
  retriable: boolean;
  message: string;
}

export interface PartitionAssigned extends PartitionRef {
  type: 'partition.assigned';
  /** The partition actor's id, to join its state into /status. */
  actorId: string;
  /** Where consumption resumes (from the Iceberg snapshot). */
  nextOffset: Int64;
}

export interface PartitionRevoked extends PartitionRef {
  type: 'partition.revoked';
}

export interface BatchReceived extends PartitionRef {
  type: 'batch.received';
  fromOffset: Int64;
  nextOffset: Int64;
  records: number;
  bytes: number;
}

export interface BatchDecoded extends PartitionRef {
  type: 'batch.decoded';
  records: number;
  /** Records that failed to decode (each also has a dlq.written). */
  failed: number;
  durationMs: number;
}

export interface SequenceObserved extends PartitionRef {
  type: 'sequence.observed';
  counts: Partial<Record<SequenceKind, number>>;
  /** Symbols that moved in this batch. */
  watermarks: {
    exchange: string;
    symbol: string;
    completeThrough: Int64;
    highest: Int64;
    openGaps: number;
  }[];
}

interface GapFields extends PartitionRef {
  exchange: string;
  symbol: string;
  fromSequence: Int64;
  toSequence: Int64;
  size: Int64;
  offset: Int64;
}

export interface GapDetectedEvent extends GapFields {
  type: 'gap.detected';
  kind: GapKind;
}

export interface GapClosedEvent extends GapFields {
  type: 'gap.closed';
  reason: GapCloseReason;
}

export interface FileWritten {
  type: 'file.written';
  table: string;
  filePath: string;
  records: number;
  bytes: number;
  durationMs: number;
}

export interface SnapshotCommitted {
  type: 'snapshot.committed';
  table: string;
  snapshotId: Int64;
  records: number;
  files: number;
  durationMs: number;
  offsets: OffsetEntry[];
}

export interface CommitFailed extends FailureInfo {
  type: 'commit.failed';
  table: string;
}

export interface OffsetsCommitted {
  type: 'offsets.committed';
  group: string;
  offsets: OffsetEntry[];
}

export interface OffsetsCommitFailed extends FailureInfo {
  type: 'offsets.commit_failed';
  group: string;
  offsets: OffsetEntry[];
}

export interface LagObserved extends PartitionRef {
  type: 'lag.observed';
  lag: number;
  highWatermark: Int64;
}

export interface LevelChangedEvent {
  type: 'level.changed';
  actor: string;
  from: HealthLevel;
  to: HealthLevel;
  reasons: Reason[];
  shutdownReason: string | null;
}

export interface BreakerChanged {
  type: 'breaker.changed';
  dependency: Dependency;
  from: BreakerState;
  to: BreakerState;
}

export interface DlqWritten extends PartitionRef {
  type: 'dlq.written';
  offset: Int64;
  dlqTopic: string;
  errorClass: string;
  code: string;
  stage: FailureStage;
}

export interface ErrorRaised extends FailureInfo {
  type: 'error.raised';
  stage: PipelineStage;
  topic?: string;
  partition?: number;
}

export interface ActorTransition {
  type: 'actor.transition';
  actorId: string;
  /** The machine's id (bounded: one per actor kind), the `actor` metric label. */
  machine: string;
  /** The state value, e.g. `DEGRADED.calming`; parallel regions as `CRITICAL.{recovery.holding,dependencies.up}`. */
  state: string;
  /** The event that caused it (`xstate.init` on start). */
  event: string;
  /** The sending actor, when the inspector saw one. */
  source: string | null;
  status: 'active' | 'done' | 'error' | 'stopped';
}

export type JournalEvent =
  | PartitionAssigned
  | PartitionRevoked
  | BatchReceived
  | BatchDecoded
  | SequenceObserved
  | GapDetectedEvent
  | GapClosedEvent
  | FileWritten
  | SnapshotCommitted
  | CommitFailed
  | OffsetsCommitted
  | OffsetsCommitFailed
  | LagObserved
  | LevelChangedEvent
  | BreakerChanged
  | DlqWritten
  | ErrorRaised
  | ActorTransition;

export type JournalEventType = JournalEvent['type'];

export interface JournalEntry<E extends JournalEvent = JournalEvent> {
  /** Gapless and increasing within one process: a hole in the persisted journal is a dropped entry. */
  seq: number;
  /** ISO-8601 UTC. */
  at: string;
  event: E;
}

/** A tracker event as a journal event. */
export function gapEvent(event: SequenceEvent): GapDetectedEvent | GapClosedEvent {
  const fields: GapFields = {
    topic: event.topic,
    partition: event.partition,
    exchange: event.exchange,
    symbol: event.symbol,
    fromSequence: String(event.fromSequence),
    toSequence: String(event.toSequence),
    size: String(event.size),
    offset: String(event.offset),
  };
  return event.type === 'gap.detected'
    ? { type: 'gap.detected', ...fields, kind: event.kind }
    : { type: 'gap.closed', ...fields, reason: event.reason };
}

/** A tracker's `takeProgress()` as a journal event. */
export function sequenceObserved(ref: PartitionRef, progress: SequenceProgress): SequenceObserved {
  const counts: Partial<Record<SequenceKind, number>> = {};
  for (const [kind, n] of Object.entries(progress.counts) as [SequenceKind, number][])
    if (n > 0) counts[kind] = n;
  return {
    type: 'sequence.observed',
    topic: ref.topic,
    partition: ref.partition,
    counts,
    watermarks: progress.watermarks.map((w) => ({
      exchange: w.exchange,
      symbol: w.symbol,
      completeThrough: String(w.completeThrough),
      highest: String(w.highest),
      openGaps: w.openGaps,
    })),
  };
}

/** The HealthActor's emitted event as a journal event. */
export function levelChanged(actor: string, event: LevelChanged): LevelChangedEvent {
  return { ...event, actor };
}

/** A circuit breaker's change as a journal event. */
export function breakerChanged(change: BreakerChange): BreakerChanged {
  return { type: 'breaker.changed', dependency: change.dependency, from: change.from, to: change.to };
}
