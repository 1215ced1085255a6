export * from './events.js';
export { journalInspector, stateValueString } from './inspect.js';
export { Journal, type JournalListener, type JournalOptions } from './journal.js';
export { type MetricsProjectionOptions, metricsProjection } from './metrics-projection.js';
export {
  type JournalPoolConfig,
  journalPool,
  PgJournalStore,
  type PgJournalStoreOptions,
  persistedByDefault,
  type Queryable,
} from './pg-store.js';
export {
  type PartitionStatus,
  StatusProjection,
  type StatusProjectionOptions,
  type StatusView,
  type SymbolStatus,
  type TableStatus,
} from './status-projection.js';
