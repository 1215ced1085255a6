import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram, type MetricOf, type MetricSpec } from './typed.js';

const seconds = {
  fast: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  slow: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
};

/**
 * Every metric K2 exposes. Cardinality: labels are topics, partitions, tables, exchanges, stages,
 * error classes, kinds and actors: all bounded by configuration or code. Symbols appear only in
 * `completeThrough`, whose series count the metrics projection caps.
 */
export const metricSpecs = {
  messagesConsumed: counter('k2_messages_consumed_total', 'Records fetched from Kafka', [
    'topic',
    'partition',
  ]),
  messagesWritten: counter('k2_messages_written_total', 'Records committed to Iceberg', ['table']),
  consumerLag: gauge('k2_consumer_lag', 'Messages between the next offset and the high watermark', [
    'topic',
    'partition',
  ]),
  partitionsAssigned: gauge('k2_partitions_assigned', 'Partitions assigned to this process', ['topic']),
  batchRecords: histogram(
    'k2_batch_records',
    'Records per batch handed to the worker pool',
    ['topic'],
    [1, 10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000],
  ),
  decodeDuration: histogram(
    'k2_decode_duration_seconds',
    'Decode task duration per batch',
    ['topic'],
    seconds.fast,
  ),
  encodeDuration: histogram(
    'k2_encode_duration_seconds',
    'Encode and upload duration per data file',
    ['table'],
    seconds.slow,
  ),
  commitDuration: histogram(
    'k2_commit_duration_seconds',
    'Iceberg commit duration (manifests to catalog swap)',
    ['table'],
    seconds.slow,
  ),
  filesWritten: counter('k2_files_written_total', 'Parquet data files uploaded', ['table']),
  fileBytesWritten: counter('k2_file_bytes_written_total', 'Bytes of Parquet data files uploaded', ['table']),
  snapshotsCommitted: counter('k2_snapshots_committed_total', 'Iceberg snapshots committed', ['table']),
  dlqMessages: counter('k2_dlq_messages_total', 'Records quarantined in the DLQ', ['topic', 'error_class']),
  errors: counter('k2_errors_total', 'Errors by pipeline stage and error class', ['stage', 'error_class']),
  offsetCommits: counter('k2_offset_commits_total', 'Kafka offset commits by result', ['topic', 'result']),
  healthLevel: gauge('k2_health_level', 'Health level: 0 NOMINAL, 1 DEGRADED, 2 CRITICAL, 3 SHUTDOWN', [
    'actor',
  ]),
  healthState: gauge('k2_health_state', 'Health level as a state set: 1 for the current level', [
    'actor',
    'level',
  ]),
  breakerState: gauge('k2_circuit_breaker_state', 'Dependency circuit: 0 closed, 1 half open, 2 open', [
    'dependency',
  ]),
  sequenceRecords: counter('k2_sequence_records_total', 'Records by sequence classification', [
    'topic',
    'kind',
  ]),
  sequenceGaps: counter('k2_sequence_gaps_total', 'Sequence gaps detected (kind small, large, reset)', [
    'exchange',
    'kind',
  ]),
  sequenceMissing: counter(
    'k2_sequence_missing_total',
    'Sequence numbers reported missing by detected gaps',
    ['exchange'],
  ),
  sequenceGapsClosed: counter(
    'k2_sequence_gaps_closed_total',
    'Open gaps given up as permanently missing, by reason',
    ['exchange', 'reason'],
  ),
  completeThrough: gauge(
    'k2_sequence_complete_through',
    'Highest sequence through which a symbol is complete (float: exact below 2^53; /status has it exactly)',
    ['exchange', 'symbol'],
  ),
  completeThroughSuppressed: gauge(
    'k2_sequence_complete_through_suppressed',
    'Symbols without a k2_sequence_complete_through series because the series cap was reached',
  ),
  actorTransitions: counter('k2_actor_transitions_total', 'Actor state changes by machine', ['actor']),
  journalEvents: counter('k2_journal_events_total', 'Journal events appended, by type', ['type']),
  journalPersisted: counter('k2_journal_persisted_total', 'Journal entries written to PostgreSQL'),
  journalDropped: counter(
    'k2_journal_dropped_total',
    'Journal entries dropped before reaching PostgreSQL (audit gap; ingestion continues)',
  ),
  journalBacklog: gauge('k2_journal_backlog', 'Journal entries waiting to be written to PostgreSQL'),
} as const;

export type MetricName = keyof typeof metricSpecs;
export type MetricCatalogue = { readonly [K in MetricName]: MetricOf<(typeof metricSpecs)[K]> };

export interface Metrics {
  /** This instance's registry: expose it on /metrics. Never the prom-client global. */
  registry: Registry;
  catalogue: MetricCatalogue;
  /** Names of the default process metrics (heap, RSS, event loop, GC), all prefixed k2_. */
  defaultMetricNames: ReadonlySet<string>;
}

export const metricPrefix = 'k2_';

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: metricPrefix });
  const defaultMetricNames = new Set(registry.getMetricsAsArray().map((metric) => metric.name));
  const catalogue = Object.fromEntries(
    Object.entries(metricSpecs).map(([key, spec]) => [key, instantiate(spec, registry)]),
  ) as unknown as MetricCatalogue;
  return { registry, catalogue, defaultMetricNames };
}

/** A prom-client metric for a spec, registered in `registry` (never prom-client's global one). */
export function instantiate(spec: MetricSpec, registry: Registry) {
  const config = {
    name: spec.name,
    help: spec.help,
    labelNames: [...spec.labelNames],
    registers: [registry],
  };
  switch (spec.kind) {
    case 'counter':
      return new Counter(config);
    case 'gauge':
      return new Gauge(config);
    case 'histogram':
      return new Histogram({ ...config, buckets: [...(spec.buckets ?? [])] });
  }
}
