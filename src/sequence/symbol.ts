import type { GapCloseReason, GapKind, SequenceEvent, SequenceKind } from './events.js';
import type { SequencePolicy } from './policy.js';

/** A range of sequences not seen yet, still expected (a late record may fill it). */
export interface OpenGap {
  from: bigint;
  to: bigint;
  /** Partition offset of the record that revealed the gap: expiry counts from here. */
  detectedOffset: bigint;
}

/** What the tracker remembers of one (exchange, symbol). */
export interface SymbolState {
  readonly exchange: string;
  readonly symbol: string;
  /** Lowest sequence the tracker can vouch for; below it a record is late, never a duplicate. */
  knownFrom: bigint;
  highest: bigint;
  /** Disjoint and ascending, all below `highest`; ascending is also the order of detection. */
  gaps: OpenGap[];
}

/** Where a step happens: the record's position, the policy, a clock and the event sink. */
export interface StepContext {
  readonly topic: string;
  readonly partition: number;
  offset: bigint;
  readonly policy: SequencePolicy;
  readonly now: () => number;
  readonly emit: (event: SequenceEvent) => void;
}

export function startSymbol(exchange: string, symbol: string, sequence: bigint): SymbolState {
  return { exchange, symbol, knownFrom: sequence, highest: sequence, gaps: [] };
}

/**
 * The highest s such that every sequence from the start of tracking (or the last reset) up to s has
 * been seen or reported permanently missing.
 */
export function completeThrough(state: SymbolState): bigint {
  const oldest = state.gaps[0];
  return oldest ? oldest.from - 1n : state.highest;
}

/** Classifies `sequence` for a symbol already tracked and updates its state, emitting gap events. */
export function advance(state: SymbolState, sequence: bigint, step: StepContext): SequenceKind {
  expireGaps(state, step);
  if (sequence > state.highest) {
    const missing = sequence - state.highest - 1n;
    const from = state.highest + 1n;
    state.highest = sequence;
    if (missing === 0n) return 'in_order';
    const kind: GapKind = missing >= step.policy.largeGap ? 'large' : 'small';
    state.gaps.push({ from, to: sequence - 1n, detectedOffset: step.offset });
    step.emit(detected(state, from, sequence - 1n, missing, kind, step));
    boundGaps(state, step);
    return kind === 'large' ? 'large_gap' : 'small_gap';
  }
  const index = gapIndexOf(state.gaps, sequence);
  if (index >= 0) {
    fill(state.gaps, index, sequence);
    boundGaps(state, step);
    return 'out_of_order';
  }
  if (isReset(state.highest, sequence, step.policy)) {
    resetSymbol(state, sequence, step);
    return 'reset';
  }
  return sequence >= state.knownFrom ? 'duplicate' : 'late';
}

/**
 * The reset rule: a sequence at or below the highest that fills no open gap starts a new session when
 * it dropped at least `resetDrop` below the highest, or when it is a restart value (≤ `restartAt`,
 * i.e. 0 or 1 by default) at least `restartDrop` below the highest. Anything closer is a duplicate
 * or a late record, since producers do resend recent messages.
 */
export function isReset(highest: bigint, sequence: bigint, policy: SequencePolicy): boolean {
  const drop = highest - sequence;
  return drop >= policy.resetDrop || (sequence <= policy.restartAt && drop >= policy.restartDrop);
}

/** Stops waiting for every open gap of a symbol, e.g. when it is forgotten. */
export function closeAllGaps(state: SymbolState, reason: GapCloseReason, step: StepContext): void {
  for (const gap of state.gaps) step.emit(closed(state, gap, reason, step));
  state.gaps = [];
}

function resetSymbol(state: SymbolState, sequence: bigint, step: StepContext): void {
  closeAllGaps(state, 'reset', step);
  step.emit(detected(state, state.highest, sequence, 0n, 'reset', step));
  state.knownFrom = sequence;
  state.highest = sequence;
}

function expireGaps(state: SymbolState, step: StepContext): void {
  const expiry = step.policy.gapExpiryOffsets;
  if (expiry === null) return;
  while (state.gaps[0] && step.offset - state.gaps[0].detectedOffset >= expiry)
    giveUpOldest(state, 'expired', step);
}

function boundGaps(state: SymbolState, step: StepContext): void {
  while (state.gaps.length > step.policy.maxOpenGaps) giveUpOldest(state, 'evicted', step);
}

function giveUpOldest(state: SymbolState, reason: GapCloseReason, step: StepContext): void {
  const gap = state.gaps.shift()!;
  // A record arriving in this range later can no longer be told from a duplicate.
  state.knownFrom = gap.to + 1n;
  step.emit(closed(state, gap, reason, step));
}

/** Index of the open gap holding `sequence`, or -1. */
export function gapIndexOf(gaps: readonly OpenGap[], sequence: bigint): number {
  let low = 0;
  let high = gaps.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const gap = gaps[mid]!;
    if (sequence < gap.from) high = mid - 1;
    else if (sequence > gap.to) low = mid + 1;
    else return mid;
  }
  return -1;
}

function fill(gaps: OpenGap[], index: number, sequence: bigint): void {
  const gap = gaps[index]!;
  if (gap.from === gap.to) gaps.splice(index, 1);
  else if (sequence === gap.from) gap.from = sequence + 1n;
  else if (sequence === gap.to) gap.to = sequence - 1n;
  else {
    const upper = { from: sequence + 1n, to: gap.to, detectedOffset: gap.detectedOffset };
    gap.to = sequence - 1n;
    gaps.splice(index + 1, 0, upper);
  }
}

function detected(
  state: SymbolState,
  fromSequence: bigint,
  toSequence: bigint,
  size: bigint,
  kind: GapKind,
  step: StepContext,
): SequenceEvent {
  return {
    type: 'gap.detected',
    exchange: state.exchange,
    symbol: state.symbol,
    fromSequence,
    toSequence,
    size,
    kind,
    detectedAt: step.now(),
    topic: step.topic,
    partition: step.partition,
    offset: step.offset,
  };
}

function closed(state: SymbolState, gap: OpenGap, reason: GapCloseReason, step: StepContext): SequenceEvent {
  return {
    type: 'gap.closed',
    exchange: state.exchange,
    symbol: state.symbol,
    fromSequence: gap.from,
    toSequence: gap.to,
    size: gap.to - gap.from + 1n,
    reason,
    closedAt: step.now(),
    topic: step.topic,
    partition: step.partition,
    offset: step.offset,
  };
}
