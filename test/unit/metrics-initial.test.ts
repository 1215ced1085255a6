import { describe, expect, it } from 'vitest';
import { dependencies } from '../../src/health/circuit-breaker.js';
import {
  auditExposition,
  countedErrors,
  createMetrics,
  initialiseSeries,
  parseExposition,
} from '../../src/metrics/index.js';

const known = { topics: ['market.crypto.trades', 'market.equities.trades'], tables: ['trades_v2'] };

async function initialised() {
  const metrics = createMetrics({ defaultMetrics: false });
  initialiseSeries(metrics.catalogue, known);
  const text = await metrics.registry.metrics();
  const samples = parseExposition(text);
  const value = (name: string, labels: Record<string, string | number>) =>
    samples.find(
      (s) =>
        s.name === name &&
        Object.keys(s.labels).length === Object.keys(labels).length &&
        Object.entries(labels).every(([k, v]) => s.labels[k] === String(v)),
    )?.value;
  return { metrics, text, samples, value };
}

describe('initialiseSeries', () => {
  it('starts every counter whose labels are known at zero: failures and errors have a rate before the first', async () => {
    const { value } = await initialised();
    for (const topic of known.topics) {
      expect(value('k2_offset_commits_total', { topic, result: 'failure' })).toBe('0');
      expect(value('k2_offset_commits_total', { topic, result: 'success' })).toBe('0');
      expect(value('k2_dlq_messages_total', { topic, error_class: 'PoisonRecordError' })).toBe('0');
      expect(value('k2_sequence_records_total', { topic, kind: 'duplicate' })).toBe('0');
      expect(value('k2_partitions_assigned', { topic })).toBe('0');
    }
    for (const name of [
      'k2_messages_written_total',
      'k2_snapshots_committed_total',
      'k2_files_written_total',
    ])
      expect(value(name, { table: 'trades_v2' })).toBe('0');
    expect(countedErrors.length).toBeGreaterThan(0);
    for (const { stage, errorClass } of countedErrors)
      expect(value('k2_errors_total', { stage, error_class: errorClass })).toBe('0');
    expect(value('k2_errors_total', { stage: 'decode', error_class: 'RegistryUnavailableError' })).toBe('0');
  });

  it('starts the health actor at NOMINAL and every dependency circuit closed', async () => {
    const { value } = await initialised();
    expect(value('k2_health_level', { actor: 'health' })).toBe('0');
    expect(value('k2_health_state', { actor: 'health', level: 'NOMINAL' })).toBe('1');
    for (const level of ['DEGRADED', 'CRITICAL', 'SHUTDOWN'])
      expect(value('k2_health_state', { actor: 'health', level })).toBe('0');
    expect(dependencies.map((dependency) => value('k2_circuit_breaker_state', { dependency }))).toEqual(
      dependencies.map(() => '0'),
    );
  });

  it('leaves series labelled by partition, exchange or symbol to the first record that names them', async () => {
    const { samples } = await initialised();
    const names = new Set(samples.map((s) => s.name));
    for (const name of [
      'k2_messages_consumed_total',
      'k2_consumer_lag',
      'k2_sequence_gaps_total',
      'k2_sequence_gaps_closed_total',
      'k2_sequence_complete_through',
    ])
      expect(names).not.toContain(name);
  });

  it('keeps counts already made and exposes only catalogue labels', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.catalogue.errors.inc({ stage: 'commit', error_class: 'StorageError' }, 2);
    initialiseSeries(metrics.catalogue, known);
    const text = await metrics.registry.metrics();
    expect(text).toContain('k2_errors_total{stage="commit",error_class="StorageError"} 2');
    expect(auditExposition(text, metrics.defaultMetricNames)).toEqual([]);
  });
});
