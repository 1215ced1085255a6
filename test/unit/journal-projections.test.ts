import { describe, expect, it } from 'vitest';
import { Journal, type JournalEvent, metricsProjection, StatusProjection } from '../../src/journal/index.js';
import { createMetrics, parseExposition } from '../../src/metrics/index.js';

const topic = 'market.crypto.trades';

function setup(options: { maxWatermarkSeries?: number; maxSymbols?: number } = {}) {
  let now = Date.UTC(2026, 5, 1);
  const journal = new Journal({ now: () => (now += 1_000) });
  const metrics = createMetrics({ defaultMetrics: false });
  const status = new StatusProjection({ maxSymbols: options.maxSymbols });
  journal.subscribe(metricsProjection(metrics.catalogue, { maxWatermarkSeries: options.maxWatermarkSeries }));
  journal.subscribe(status.apply);
  const append = (...events: JournalEvent[]) => {
    for (const event of events) journal.append(event);
  };
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const samples = parseExposition(await metrics.registry.metrics()).filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
    return samples.length === 0 ? undefined : samples.reduce((sum, s) => sum + Number(s.value), 0);
  };
  return { journal, status, append, value };
}

const assigned = (partition: number): JournalEvent => ({
  type: 'partition.assigned',
  topic,
  partition,
  actorId: `${topic}-${partition}`,
  nextOffset: '100',
});

const watermarks = (partition: number, ...symbols: string[]): JournalEvent => ({
  type: 'sequence.observed',
  topic,
  partition,
  counts: { in_order: symbols.length },
  watermarks: symbols.map((symbol, i) => ({
    exchange: 'BINANCE',
    symbol,
    completeThrough: String(10 + i),
    highest: String(10 + i),
    openGaps: 0,
  })),
});

describe('status projection', () => {
  it('shows per-partition state, lag and offsets, the last snapshot, watermarks and the health level', () => {
    const { append, status } = setup();
    append(
      assigned(0),
      {
        type: 'actor.transition',
        actorId: `${topic}-0`,
        machine: 'partition',
        state: 'fetching',
        event: 'xstate.init',
        source: null,
        status: 'active',
      },
      {
        type: 'batch.received',
        topic,
        partition: 0,
        fromOffset: '100',
        nextOffset: '600',
        records: 500,
        bytes: 1,
      },
      { type: 'lag.observed', topic, partition: 0, lag: 1_500, highWatermark: '2100' },
      watermarks(0, 'BTCUSDT'),
      {
        type: 'snapshot.committed',
        table: 'trades_v2',
        snapshotId: '9223372036854775807',
        records: 500,
        files: 2,
        durationMs: 250,
        offsets: [{ topic, partition: 0, nextOffset: '600' }],
      },
      {
        type: 'offsets.committed',
        group: 'k2-ingest',
        offsets: [{ topic, partition: 0, nextOffset: '600' }],
      },
      {
        type: 'level.changed',
        actor: 'health',
        from: 'NOMINAL',
        to: 'DEGRADED',
        reasons: [{ signal: 'consumerLag', value: 12_000, threshold: 10_000, level: 'DEGRADED' }],
        shutdownReason: null,
      },
      { type: 'breaker.changed', dependency: 'registry', from: 'closed', to: 'open' },
    );
    const view = status.view();
    expect(view.partitions).toEqual([
      {
        topic,
        partition: 0,
        actorId: `${topic}-0`,
        state: 'fetching',
        lag: 1_500,
        highWatermark: '2100',
        fetchedThrough: '600',
        committedOffset: '600',
        recordsConsumed: 500,
        dlqRecords: 0,
        gapsDetected: 0,
        lastBatchAt: '2026-06-01T00:00:03.000Z',
      },
    ]);
    expect(view.tables.trades_v2?.lastSnapshot).toEqual({
      snapshotId: '9223372036854775807',
      at: '2026-06-01T00:00:06.000Z',
      records: 500,
      files: 2,
      durationMs: 250,
    });
    expect(view.symbols.watermarks).toEqual([
      {
        exchange: 'BINANCE',
        symbol: 'BTCUSDT',
        topic,
        partition: 0,
        completeThrough: '10',
        highest: '10',
        openGaps: 0,
      },
    ]);
    expect(view.health).toMatchObject({ level: 'DEGRADED', since: '2026-06-01T00:00:08.000Z' });
    expect(view.breakers.registry).toEqual({ state: 'open', since: '2026-06-01T00:00:09.000Z' });
    expect(view.breakers.s3.state).toBe('closed');
    expect(view.journal.lastSeq).toBe(9);
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
  });

  it('drops a revoked partition and its symbols, and ignores its late events', () => {
    const { append, status } = setup();
    append(assigned(0), assigned(1), watermarks(0, 'A'), watermarks(1, 'B'), {
      type: 'partition.revoked',
      topic,
      partition: 0,
    });
    append({ type: 'lag.observed', topic, partition: 0, lag: 5, highWatermark: '9' });
    const view = status.view();
    expect(view.partitions.map((p) => p.partition)).toEqual([1]);
    expect(view.symbols.watermarks.map((w) => w.symbol)).toEqual(['B']);
  });

  it('keeps at most maxSymbols watermarks, the most recently moved, counting evictions', () => {
    const { append, status } = setup({ maxSymbols: 2 });
    append(assigned(0), watermarks(0, 'A', 'B', 'C'), watermarks(0, 'A'));
    const { symbols } = status.view();
    expect(symbols.watermarks.map((w) => w.symbol)).toEqual(['C', 'A']);
    expect(symbols.evicted).toBe(2);
  });

  it('counts gaps and DLQ writes and keeps the recent gaps', () => {
    const { append, status } = setup();
    const gap = {
      topic,
      partition: 0,
      exchange: 'BINANCE',
      symbol: 'A',
      fromSequence: '5',
      toSequence: '6',
      size: '2',
      offset: '9',
    };
    append(
      assigned(0),
      { type: 'gap.detected', ...gap, kind: 'small' },
      { type: 'gap.closed', ...gap, reason: 'expired' },
      {
        type: 'dlq.written',
        topic,
        partition: 0,
        offset: '3',
        dlqTopic: `${topic}.dlq`,
        errorClass: 'DecodeError',
        code: 'X',
        stage: 'decode',
      },
      {
        type: 'commit.failed',
        table: 'trades_v2',
        errorClass: 'CommitConflictError',
        code: 'K2_ICEBERG_COMMIT_CONFLICT',
        retriable: true,
        message: 'lost',
      },
    );
    const view = status.view();
    expect(view.gaps.detected).toBe(1);
    expect(view.gaps.closed).toBe(1);
    expect(view.gaps.recent.map((g) => g.type)).toEqual(['gap.detected', 'gap.closed']);
    expect(view.dlq.total).toBe(1);
    expect(view.partitions[0]).toMatchObject({ dlqRecords: 1, gapsDetected: 1 });
    expect(view.tables.trades_v2).toMatchObject({
      commitFailures: 1,
      lastFailure: { code: 'K2_ICEBERG_COMMIT_CONFLICT' },
    });
  });

  it('returns a copy that later events do not change', () => {
    const { append, status } = setup();
    append(assigned(0));
    const before = status.view();
    append({
      type: 'batch.received',
      topic,
      partition: 0,
      fromOffset: '0',
      nextOffset: '1',
      records: 1,
      bytes: 1,
    });
    expect(before.partitions[0]?.recordsConsumed).toBe(0);
  });
});

describe('metrics projection', () => {
  it('counts consumed records, batches, gaps, DLQ writes and offset commits by their labels', async () => {
    const { append, value } = setup();
    append(
      assigned(0),
      {
        type: 'batch.received',
        topic,
        partition: 0,
        fromOffset: '0',
        nextOffset: '300',
        records: 300,
        bytes: 1,
      },
      {
        type: 'batch.received',
        topic,
        partition: 0,
        fromOffset: '300',
        nextOffset: '500',
        records: 200,
        bytes: 1,
      },
      {
        type: 'gap.detected',
        topic,
        partition: 0,
        exchange: 'BINANCE',
        symbol: 'A',
        fromSequence: '1',
        toSequence: '1000',
        size: '1000',
        offset: '1',
        kind: 'large',
      },
      {
        type: 'gap.detected',
        topic,
        partition: 0,
        exchange: 'BINANCE',
        symbol: 'A',
        fromSequence: '99',
        toSequence: '0',
        size: '0',
        offset: '2',
        kind: 'reset',
      },
      {
        type: 'offsets.committed',
        group: 'g',
        offsets: [
          { topic, partition: 0, nextOffset: '500' },
          { topic, partition: 1, nextOffset: '7' },
        ],
      },
    );
    expect(await value('k2_messages_consumed_total', { topic, partition: '0' })).toBe(500);
    expect(await value('k2_batch_records_count', { topic })).toBe(2);
    expect(await value('k2_sequence_gaps_total', { exchange: 'BINANCE', kind: 'large' })).toBe(1);
    expect(await value('k2_sequence_gaps_total', { exchange: 'BINANCE', kind: 'reset' })).toBe(1);
    expect(await value('k2_sequence_missing_total', { exchange: 'BINANCE' })).toBe(1000);
    expect(await value('k2_offset_commits_total', { topic, result: 'success' })).toBe(1);
    expect(await value('k2_partitions_assigned', { topic })).toBe(1);
    expect(await value('k2_journal_events_total', { type: 'batch.received' })).toBe(2);
  });

  it('starts the health gauges at NOMINAL and the circuits closed, then follows the changes as a state set', async () => {
    const { append, value } = setup();
    expect(await value('k2_health_level', { actor: 'health' })).toBe(0);
    expect(await value('k2_circuit_breaker_state', { dependency: 'catalog' })).toBe(0);
    append(
      {
        type: 'level.changed',
        actor: 'health',
        from: 'NOMINAL',
        to: 'CRITICAL',
        reasons: [],
        shutdownReason: null,
      },
      { type: 'breaker.changed', dependency: 'catalog', from: 'closed', to: 'open' },
    );
    expect(await value('k2_health_level', { actor: 'health' })).toBe(2);
    expect(await value('k2_health_state', { actor: 'health', level: 'CRITICAL' })).toBe(1);
    expect(await value('k2_health_state', { actor: 'health', level: 'NOMINAL' })).toBe(0);
    expect(await value('k2_circuit_breaker_state', { dependency: 'catalog' })).toBe(2);
  });

  it('caps the per-symbol watermark series and removes those of a revoked partition', async () => {
    const { append, value } = setup({ maxWatermarkSeries: 2 });
    append(assigned(0), assigned(1), watermarks(0, 'A'), watermarks(1, 'B', 'C', 'D'));
    expect(await value('k2_sequence_complete_through', { symbol: 'A' })).toBe(10);
    expect(await value('k2_sequence_complete_through', { symbol: 'B' })).toBe(10);
    expect(await value('k2_sequence_complete_through', { symbol: 'C' })).toBeUndefined();
    expect(await value('k2_sequence_complete_through_suppressed')).toBe(2);
    append({ type: 'partition.revoked', topic, partition: 0 }, watermarks(1, 'C'));
    expect(await value('k2_sequence_complete_through', { symbol: 'A' })).toBeUndefined();
    expect(await value('k2_sequence_complete_through', { symbol: 'C' })).toBe(10);
    expect(await value('k2_consumer_lag', { partition: '0' })).toBeUndefined();
  });
});
