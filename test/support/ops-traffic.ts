import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Journal, type JournalEvent, metricsProjection, StatusProjection } from '../../src/journal/index.js';
import { createMetrics } from '../../src/metrics/index.js';
import { startHttp } from '../../src/supervisor/http.js';
import { storageSlowDown } from './journal-events.js';

/**
 * Journal traffic shaped like the supervisor's, through the real projections: every metric of the
 * catalogue gets series, and /status gets partitions, tables, actors and symbols. For `k2 status`
 * unit tests, which need a /status without services; the ops Prometheus test runs the real supervisor.
 */
const partitions = [
  { topic: 'market.crypto.trades', partition: 0, table: 'trades_v2', exchange: 'BINANCE', symbol: 'BTCUSDT' },
  { topic: 'market.crypto.trades', partition: 1, table: 'trades_v2', exchange: 'BINANCE', symbol: 'ETHUSDT' },
  { topic: 'market.equities.quotes', partition: 0, table: 'quotes_v2', exchange: 'NASDAQ', symbol: 'AAPL' },
];
const recordsPerBatch = 500;

export class JournalTraffic {
  private round = 0;

  constructor(private readonly journal: Journal) {}

  /** Assignment, the actors, and one level and breaker change. */
  start(): void {
    for (const p of partitions) {
      const actorId = `${p.topic}-${p.partition}`;
      this.append({
        type: 'partition.assigned',
        topic: p.topic,
        partition: p.partition,
        actorId,
        nextOffset: '0',
      });
      this.append({
        type: 'actor.transition',
        actorId,
        machine: 'partition',
        state: 'fetching',
        event: 'xstate.init',
        source: null,
        status: 'active',
      });
    }
    this.append({
      type: 'level.changed',
      actor: 'health',
      from: 'NOMINAL',
      to: 'DEGRADED',
      reasons: [{ signal: 'consumerLag', value: 12_000, threshold: 10_000, level: 'DEGRADED' }],
      shutdownReason: null,
    });
    this.append({ type: 'breaker.changed', dependency: 'registry', from: 'closed', to: 'open' });
  }

  /** One round of ingest per partition, a snapshot per table, and each kind of trouble once. */
  tick(): void {
    const from = BigInt(this.round * recordsPerBatch);
    const next = from + BigInt(recordsPerBatch);
    this.round++;
    for (const p of partitions) {
      const ref = { topic: p.topic, partition: p.partition };
      this.append({
        type: 'batch.received',
        ...ref,
        fromOffset: String(from),
        nextOffset: String(next),
        records: recordsPerBatch,
        bytes: recordsPerBatch * 120,
      });
      this.append({ type: 'batch.decoded', ...ref, records: recordsPerBatch, failed: 1, durationMs: 3 });
      this.append({
        type: 'sequence.observed',
        ...ref,
        counts: { in_order: recordsPerBatch - 3, small_gap: 1, large_gap: 1, duplicate: 1 },
        watermarks: [
          {
            exchange: p.exchange,
            symbol: p.symbol,
            completeThrough: String(next - 3n),
            highest: String(next),
            openGaps: 1,
          },
        ],
      });
      const gap = {
        ...ref,
        exchange: p.exchange,
        symbol: p.symbol,
        fromSequence: String(next - 2n),
        toSequence: String(next - 1n),
        size: '2',
        offset: String(next - 1n),
      };
      for (const kind of ['small', 'large', 'reset'] as const)
        this.append({ type: 'gap.detected', ...gap, kind });
      this.append({ type: 'gap.closed', ...gap, reason: 'expired' });
      this.append({
        type: 'lag.observed',
        ...ref,
        lag: 12_000 + this.round,
        highWatermark: String(next + 12_000n),
      });
      this.append({
        type: 'dlq.written',
        ...ref,
        offset: String(from),
        dlqTopic: `${p.topic}.dlq`,
        errorClass: 'DecodeError',
        code: 'K2_DECODE_UNKNOWN_SCHEMA',
        stage: 'decode',
      });
    }
    for (const table of new Set(partitions.map((p) => p.table))) {
      const offsets = partitions
        .filter((p) => p.table === table)
        .map((p) => ({ topic: p.topic, partition: p.partition, nextOffset: String(next) }));
      const records = offsets.length * recordsPerBatch;
      this.append({
        type: 'file.written',
        table,
        filePath: `s3://k2/${table}/${this.round}.parquet`,
        records,
        bytes: records * 40,
        durationMs: 80,
      });
      this.append({
        type: 'snapshot.committed',
        table,
        snapshotId: String(1_000_000_000_000n + BigInt(this.round)),
        records,
        files: 1,
        durationMs: 150 + (this.round % 5) * 100,
        offsets,
      });
      this.append({ type: 'offsets.committed', group: 'k2-ingest', offsets });
      this.append({
        type: 'offsets.commit_failed',
        group: 'k2-ingest',
        offsets,
        errorClass: 'KafkaJSProtocolError',
        code: 'REBALANCE_IN_PROGRESS',
        retriable: true,
        message: 'rebalancing',
      });
      this.append({
        type: 'commit.failed',
        table,
        errorClass: 'CommitConflictError',
        code: 'K2_ICEBERG_COMMIT_CONFLICT',
        retriable: true,
        message: 'lost the swap',
      });
    }
    this.append(storageSlowDown);
  }

  private append(event: JournalEvent): void {
    this.journal.append(event);
  }
}

export interface StandInTarget {
  /** host:port of /metrics and /status. */
  address: string;
  stop(): Promise<void>;
}

/**
 * A stand-in supervisor in this process: the real catalogue (createMetrics) and HTTP endpoints
 * (startHttp) fed by JournalTraffic every `tickMs`.
 */
export async function startStandInTarget(tickMs = 100): Promise<StandInTarget> {
  const { registry, catalogue } = createMetrics();
  const journal = new Journal();
  const status = new StatusProjection();
  journal.subscribe(metricsProjection(catalogue));
  journal.subscribe(status.apply);
  // /metrics counts the journal's own persistence, which no event drives here.
  catalogue.journalPersisted.inc(0);
  catalogue.journalDropped.inc(0);
  catalogue.journalBacklog.set(0);
  const traffic = new JournalTraffic(journal);
  traffic.start();
  traffic.tick();
  const timer = setInterval(() => traffic.tick(), tickMs);
  const server: Server = await startHttp('127.0.0.1', 0, {
    metrics: registry,
    healthy: () => true,
    ready: () => true,
    status: () => ({ state: 'running', writerId: 'stand-in', ...status.view() }),
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    stop: async () => {
      clearInterval(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
