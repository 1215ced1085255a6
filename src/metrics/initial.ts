import { PoisonRecordError, RegistryUnavailableError } from '../errors/codec.js';
import {
  CatalogUnavailableError,
  CommitConflictError,
  CommitStateUnknownError,
  StorageError,
} from '../errors/iceberg.js';
import { dependencies } from '../health/circuit-breaker.js';
import { healthLevels, levelRank } from '../health/levels.js';
import { sequenceKinds } from '../sequence/events.js';
import type { MetricCatalogue } from './catalogue.js';

export interface KnownLabels {
  /** The topics this process consumes. */
  topics: readonly string[];
  /** The tables they land in. */
  tables: readonly string[];
  /** The HealthActor's id. */
  healthActor?: string;
}

/** The retriable errors the supervisor counts (and retries) by stage: the error-rate panel's zero lines. */
export const countedErrors: readonly { stage: string; errorClass: string }[] = [
  { stage: 'decode', errorClass: RegistryUnavailableError.name },
  ...[CatalogUnavailableError, CommitConflictError, CommitStateUnknownError, StorageError].map((error) => ({
    stage: 'commit',
    errorClass: error.name,
  })),
];

/**
 * Puts every series whose labels are known at start-up at zero (health at NOMINAL, circuits
 * closed), so rates and alerts have data before the first error, failure or poison record, as
 * Prometheus advises for labelled metrics. Call once, before any event: it sets gauges.
 * Series labelled by partition, exchange or symbol appear with the first record that names them.
 */
export function initialiseSeries(catalogue: MetricCatalogue, known: KnownLabels): void {
  const m = catalogue;
  for (const topic of known.topics) {
    m.partitionsAssigned.set({ topic }, 0);
    m.dlqMessages.inc({ topic, error_class: PoisonRecordError.name }, 0);
    for (const result of ['success', 'failure']) m.offsetCommits.inc({ topic, result }, 0);
    for (const kind of sequenceKinds) m.sequenceRecords.inc({ topic, kind }, 0);
  }
  for (const table of known.tables) {
    m.messagesWritten.inc({ table }, 0);
    m.filesWritten.inc({ table }, 0);
    m.fileBytesWritten.inc({ table }, 0);
    m.snapshotsCommitted.inc({ table }, 0);
  }
  for (const { stage, errorClass } of countedErrors) m.errors.inc({ stage, error_class: errorClass }, 0);
  const actor = known.healthActor ?? 'health';
  m.healthLevel.set({ actor }, levelRank('NOMINAL'));
  for (const level of healthLevels) m.healthState.set({ actor, level }, level === 'NOMINAL' ? 1 : 0);
  for (const dependency of dependencies) m.breakerState.set({ dependency }, 0);
}
