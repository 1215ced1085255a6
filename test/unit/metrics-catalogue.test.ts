import { Counter, register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Journal, type JournalEvent, metricsProjection } from '../../src/journal/index.js';
import { auditExposition, createMetrics, metricSpecs, parseExposition } from '../../src/metrics/index.js';

/** One event of every type, with the labels the supervisor will use. */
const everyEvent: JournalEvent[] = [
  {
    type: 'partition.assigned',
    topic: 'market.crypto.trades',
    partition: 0,
    actorId: 'market.crypto.trades-0',
    nextOffset: '0',
  },
  {
    type: 'batch.received',
    topic: 'market.crypto.trades',
    partition: 0,
    fromOffset: '0',
    nextOffset: '500',
    records: 500,
    bytes: 64_000,
  },
  {
    type: 'batch.decoded',
    topic: 'market.crypto.trades',
    partition: 0,
    records: 500,
    failed: 1,
    durationMs: 4,
  },
  {
    type: 'sequence.observed',
    topic: 'market.crypto.trades',
    partition: 0,
    counts: { in_order: 497, small_gap: 1, duplicate: 1 },
    watermarks: [
      { exchange: 'BINANCE', symbol: 'BTCUSDT', completeThrough: '1000', highest: '1003', openGaps: 1 },
    ],
  },
  {
    type: 'gap.detected',
    topic: 'market.crypto.trades',
    partition: 0,
    exchange: 'BINANCE',
    symbol: 'BTCUSDT',
    fromSequence: '1001',
    toSequence: '1002',
    size: '2',
    offset: '17',
    kind: 'small',
  },
  {
    type: 'gap.closed',
    topic: 'market.crypto.trades',
    partition: 0,
    exchange: 'BINANCE',
    symbol: 'BTCUSDT',
    fromSequence: '1001',
    toSequence: '1002',
    size: '2',
    offset: '99',
    reason: 'expired',
  },
  {
    type: 'file.written',
    table: 'trades_v2',
    filePath: 's3://w/a.parquet',
    records: 499,
    bytes: 40_000,
    durationMs: 120,
  },
  {
    type: 'snapshot.committed',
    table: 'trades_v2',
    snapshotId: '7241927360427384113',
    records: 499,
    files: 1,
    durationMs: 340,
    offsets: [{ topic: 'market.crypto.trades', partition: 0, nextOffset: '500' }],
  },
  {
    type: 'commit.failed',
    table: 'trades_v2',
    errorClass: 'CommitConflictError',
    code: 'K2_ICEBERG_COMMIT_CONFLICT',
    retriable: true,
    message: 'lost CAS',
  },
  {
    type: 'offsets.committed',
    group: 'k2-ingest',
    offsets: [{ topic: 'market.crypto.trades', partition: 0, nextOffset: '500' }],
  },
  {
    type: 'offsets.commit_failed',
    group: 'k2-ingest',
    offsets: [{ topic: 'market.crypto.trades', partition: 0, nextOffset: '500' }],
    errorClass: 'KafkaJSError',
    code: 'REBALANCE_IN_PROGRESS',
    retriable: true,
    message: 'rebalancing',
  },
  { type: 'lag.observed', topic: 'market.crypto.trades', partition: 0, lag: 1_200, highWatermark: '1700' },
  {
    type: 'level.changed',
    actor: 'health',
    from: 'NOMINAL',
    to: 'DEGRADED',
    reasons: [],
    shutdownReason: null,
  },
  { type: 'breaker.changed', dependency: 's3', from: 'closed', to: 'open' },
  {
    type: 'dlq.written',
    topic: 'market.crypto.trades',
    partition: 0,
    offset: '42',
    dlqTopic: 'market.crypto.trades.dlq',
    errorClass: 'DecodeError',
    code: 'K2_DECODE_UNKNOWN_SCHEMA',
    stage: 'decode',
  },
  {
    type: 'error.raised',
    stage: 'encode',
    errorClass: 'StorageError',
    code: 'K2_ICEBERG_STORAGE',
    retriable: true,
    message: 'slow down',
  },
  {
    type: 'actor.transition',
    actorId: 'market.crypto.trades-0',
    machine: 'partition',
    state: 'fetching',
    event: 'batch',
    source: null,
    status: 'active',
  },
];

function projected() {
  const metrics = createMetrics();
  const journal = new Journal({ now: () => 0 });
  journal.subscribe(metricsProjection(metrics.catalogue));
  for (const event of everyEvent) journal.append(event);
  metrics.catalogue.journalPersisted.inc(3);
  metrics.catalogue.journalDropped.inc();
  metrics.catalogue.journalBacklog.set(4);
  return metrics;
}

describe('metric catalogue', () => {
  it('checks label sets at compile time, and prom-client refuses an unknown label at run time too', () => {
    const { catalogue } = createMetrics({ defaultMetrics: false });
    catalogue.messagesConsumed.inc({ topic: 'market.crypto.trades', partition: 0 });
    catalogue.journalDropped.inc();
    // @ts-expect-error a label outside the catalogue does not compile
    expect(() => catalogue.messagesConsumed.inc({ topic: 't', partition: 0, symbol: 'BTCUSDT' })).toThrow(
      /symbol/,
    );
    // @ts-expect-error a misspelt label does not compile
    expect(() => catalogue.dlqMessages.inc({ topic: 't', errorClass: 'DecodeError' })).toThrow();
    const compileOnly = () => {
      // @ts-expect-error a missing label does not compile
      catalogue.consumerLag.set({ topic: 't' }, 1);
      // @ts-expect-error an unlabelled metric takes no labels
      catalogue.journalDropped.inc({ topic: 't' });
      // @ts-expect-error a gauge of the catalogue has no observe
      catalogue.consumerLag.observe({ topic: 't', partition: 0 }, 1);
      // @ts-expect-error there is no metric by that name
      catalogue.messagesConsumd.inc({ topic: 't', partition: 0 });
    };
    expect(compileOnly).toBeTypeOf('function');
  });

  it('exposes only catalogue series with exactly their labels, plus the k2_ default process metrics', async () => {
    const { registry, defaultMetricNames } = projected();
    const text = await registry.metrics();
    expect(auditExposition(text, defaultMetricNames)).toEqual([]);
    const names = new Set(parseExposition(text).map((s) => s.name));
    for (const name of [
      'k2_process_resident_memory_bytes',
      'k2_nodejs_heap_size_used_bytes',
      'k2_nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(names).toContain(name);
    }
  });

  it('emits every catalogue metric from the journal projection', async () => {
    const { registry } = projected();
    const names = new Set(
      parseExposition(await registry.metrics()).map((s) => s.name.replace(/_(bucket|sum|count)$/, '')),
    );
    expect(
      Object.values(metricSpecs)
        .filter((spec) => !names.has(spec.name))
        .map((s) => s.name),
    ).toEqual([]);
  });

  it('catches, at run time, a series outside the catalogue or with the wrong labels', async () => {
    const { registry, catalogue, defaultMetricNames } = createMetrics();
    new Counter({ name: 'k2_rogue_total', help: 'not catalogued', registers: [registry] }).inc();
    new Counter({ name: 'process_unprefixed_total', help: 'unprefixed', registers: [registry] }).inc();
    // Partial labels type-check nowhere but in code that casts; prom-client accepts them, the audit does not.
    (catalogue.consumerLag as unknown as { set(labels: object, v: number): void }).set({ topic: 't' }, 5);
    expect(auditExposition(await registry.metrics(), defaultMetricNames)).toEqual([
      'k2_consumer_lag: labels {topic}, catalogue has {partition,topic}',
      'k2_rogue_total: not in the catalogue',
      'process_unprefixed_total: not in the catalogue',
    ]);
  });

  it('keeps each instance in its own registry, never the global one', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.catalogue.messagesWritten.inc({ table: 'trades_v2' }, 5);
    expect(await b.registry.getSingleMetricAsString('k2_messages_written_total')).not.toContain('trades_v2');
    expect(globalRegistry.getMetricsAsArray().filter((m) => m.name.startsWith('k2_'))).toEqual([]);
  });

  it('parses escaped label values in the exposition', () => {
    expect(parseExposition('k2_x_total{a="q\\"uote",b="2"} 3\n# HELP k2_x_total x\n')).toEqual([
      { name: 'k2_x_total', labels: { a: 'q\\"uote', b: '2' }, value: '3' },
    ]);
  });
});
