import { type BreakerState, dependencies } from '../health/circuit-breaker.js';
import { healthLevels, levelRank } from '../health/levels.js';
import type { MetricCatalogue } from '../metrics/catalogue.js';
import type { JournalEntry, OffsetEntry } from './events.js';
import type { JournalListener } from './journal.js';

export interface MetricsProjectionOptions {
  /** Most k2_sequence_complete_through series at once; later symbols are counted as suppressed. */
  maxWatermarkSeries?: number;
  /** The HealthActor's id, whose gauges start at NOMINAL. */
  healthActor?: string;
}

const breakerValue: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };
/** Bound of the set that counts suppressed symbols; the gauge saturates there. */
const suppressedCap = 100_000;

/** Applies journal entries to the metric catalogue: the metrics are a projection of the journal. */
export function metricsProjection(
  catalogue: MetricCatalogue,
  options: MetricsProjectionOptions = {},
): JournalListener {
  const m = catalogue;
  const maxSeries = options.maxWatermarkSeries ?? 500;
  const watermarkSeries = new Map<
    string,
    { topic: string; partition: number; exchange: string; symbol: string }
  >();
  const suppressed = new Set<string>();
  const setLevel = (actor: string, level: (typeof healthLevels)[number]) => {
    m.healthLevel.set({ actor }, levelRank(level));
    for (const l of healthLevels) m.healthState.set({ actor, level: l }, l === level ? 1 : 0);
  };
  const offsetCommits = (offsets: OffsetEntry[], result: 'success' | 'failure') => {
    for (const topic of new Set(offsets.map((o) => o.topic))) m.offsetCommits.inc({ topic, result });
  };

  setLevel(options.healthActor ?? 'health', 'NOMINAL');
  for (const dependency of dependencies) m.breakerState.set({ dependency }, 0);

  return ({ event: e }: JournalEntry) => {
    m.journalEvents.inc({ type: e.type });
    switch (e.type) {
      case 'partition.assigned':
        m.partitionsAssigned.inc({ topic: e.topic });
        return;
      case 'partition.revoked':
        m.partitionsAssigned.dec({ topic: e.topic });
        m.consumerLag.remove({ topic: e.topic, partition: e.partition });
        for (const [key, series] of watermarkSeries) {
          if (series.topic !== e.topic || series.partition !== e.partition) continue;
          m.completeThrough.remove({ exchange: series.exchange, symbol: series.symbol });
          watermarkSeries.delete(key);
        }
        return;
      case 'batch.received':
        m.messagesConsumed.inc({ topic: e.topic, partition: e.partition }, e.records);
        m.batchRecords.observe({ topic: e.topic }, e.records);
        return;
      case 'batch.decoded':
        m.decodeDuration.observe({ topic: e.topic }, e.durationMs / 1_000);
        return;
      case 'sequence.observed':
        for (const [kind, n] of Object.entries(e.counts)) m.sequenceRecords.inc({ topic: e.topic, kind }, n);
        for (const w of e.watermarks) {
          const key = `${w.exchange}\u0000${w.symbol}`;
          if (!watermarkSeries.has(key) && watermarkSeries.size >= maxSeries) {
            if (suppressed.size < suppressedCap) suppressed.add(key);
            continue;
          }
          watermarkSeries.set(key, {
            topic: e.topic,
            partition: e.partition,
            exchange: w.exchange,
            symbol: w.symbol,
          });
          m.completeThrough.set({ exchange: w.exchange, symbol: w.symbol }, Number(w.completeThrough));
        }
        m.completeThroughSuppressed.set(suppressed.size);
        return;
      case 'gap.detected':
        m.sequenceGaps.inc({ exchange: e.exchange, kind: e.kind });
        if (e.kind !== 'reset') m.sequenceMissing.inc({ exchange: e.exchange }, Number(e.size));
        return;
      case 'gap.closed':
        m.sequenceGapsClosed.inc({ exchange: e.exchange, reason: e.reason });
        return;
      case 'file.written':
        m.filesWritten.inc({ table: e.table });
        m.fileBytesWritten.inc({ table: e.table }, e.bytes);
        m.encodeDuration.observe({ table: e.table }, e.durationMs / 1_000);
        return;
      case 'snapshot.committed':
        m.snapshotsCommitted.inc({ table: e.table });
        m.messagesWritten.inc({ table: e.table }, e.records);
        m.commitDuration.observe({ table: e.table }, e.durationMs / 1_000);
        return;
      case 'commit.failed':
        m.errors.inc({ stage: 'commit', error_class: e.errorClass });
        return;
      case 'offsets.committed':
        offsetCommits(e.offsets, 'success');
        return;
      case 'offsets.commit_failed':
        offsetCommits(e.offsets, 'failure');
        m.errors.inc({ stage: 'offset_commit', error_class: e.errorClass });
        return;
      case 'lag.observed':
        m.consumerLag.set({ topic: e.topic, partition: e.partition }, e.lag);
        return;
      case 'level.changed':
        setLevel(e.actor, e.to);
        return;
      case 'breaker.changed':
        m.breakerState.set({ dependency: e.dependency }, breakerValue[e.to]);
        return;
      case 'dlq.written':
        m.dlqMessages.inc({ topic: e.topic, error_class: e.errorClass });
        return;
      case 'error.raised':
        m.errors.inc({ stage: e.stage, error_class: e.errorClass });
        return;
      case 'actor.transition':
        m.actorTransitions.inc({ actor: e.machine });
        return;
      default:
        e satisfies never;
    }
  };
}
