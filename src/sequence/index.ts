export * from './events.js';
export {
  MessageIdWindow,
  type MessageIdWindowSnapshot,
  type MessageIdWindowSnapshotV1,
} from './message-id-window.js';
export { defaultSequencePolicy, type SequencePolicy, sequencePolicy } from './policy.js';
export { type SequenceSnapshot, SequenceSnapshotError, type SymbolSnapshot } from './snapshot.js';
export {
  type SequenceProgress,
  SequenceTracker,
  type SequenceTrackerOptions,
  type SymbolWatermark,
  type TrackedRecord,
} from './tracker.js';
