import type { BreakerState, Dependency } from '../health/circuit-breaker.js';
import { dependencies } from '../health/circuit-breaker.js';
import type { HealthLevel } from '../health/levels.js';
import type { Reason } from '../health/policy.js';
import type { GapClosedEvent, GapDetectedEvent, Int64, JournalEntry } from './events.js';

export interface PartitionStatus {
  topic: string;
  partition: number;
  actorId: string | null;
  /** The partition actor's state value, from its transitions. */
  state: string | null;
  lag: number | null;
  highWatermark: Int64 | null;
  /** Next offset after the last batch received. */
  fetchedThrough: Int64 | null;
  /** Next offset committed to Kafka (after the Iceberg commit). */
  committedOffset: Int64 | null;
  recordsConsumed: number;
  dlqRecords: number;
  gapsDetected: number;
  lastBatchAt: string | null;
}

export interface TableStatus {
  lastSnapshot: { snapshotId: Int64; at: string; records: number; files: number; durationMs: number } | null;
  snapshots: number;
  filesWritten: number;
  commitFailures: number;
  lastFailure: { at: string; code: string; message: string } | null;
}

export interface SymbolStatus {
  exchange: string;
  symbol: string;
  topic: string;
  partition: number;
  completeThrough: Int64;
  highest: Int64;
  openGaps: number;
}

export interface StatusView {
  health: { level: HealthLevel; since: string | null; reasons: Reason[]; shutdownReason: string | null };
  breakers: Record<Dependency, { state: BreakerState; since: string | null }>;
  partitions: PartitionStatus[];
  tables: Record<string, TableStatus>;
  /** Per-symbol complete-through watermarks, most recently moved last, capped at `maxSymbols`; `evicted` counts symbols pushed out. */
  symbols: { shown: number; evicted: number; watermarks: SymbolStatus[] };
  gaps: { detected: number; closed: number; recent: (GapDetectedEvent | GapClosedEvent)[] };
  dlq: { total: number };
  actors: Record<string, { machine: string; state: string; status: string; at: string }>;
  journal: { lastSeq: number; lastAt: string | null };
}

export interface StatusProjectionOptions {
  maxSymbols?: number;
  recentGaps?: number;
  /** The HealthActor whose level changes are shown. */
  healthActor?: string;
}

/** /status as a projection of the journal: apply entries in order, read `view()`. */
export class StatusProjection {
  private health: StatusView['health'] = { level: 'NOMINAL', since: null, reasons: [], shutdownReason: null };
  private readonly breakers = Object.fromEntries(
    dependencies.map((d) => [d, { state: 'closed' as BreakerState, since: null as string | null }]),
  ) as StatusView['breakers'];
  private readonly partitions = new Map<string, PartitionStatus>();
  private readonly tables = new Map<string, TableStatus>();
  /** Least recently moved first. */
  private readonly symbols = new Map<string, SymbolStatus>();
  private symbolsEvicted = 0;
  private readonly gaps: StatusView['gaps'] = { detected: 0, closed: 0, recent: [] };
  private dlqTotal = 0;
  private readonly actors = new Map<string, StatusView['actors'][string]>();
  private journal: StatusView['journal'] = { lastSeq: 0, lastAt: null };
  private readonly maxSymbols: number;
  private readonly recentGaps: number;
  private readonly healthActor: string;

  constructor(options: StatusProjectionOptions = {}) {
    this.maxSymbols = options.maxSymbols ?? 1_000;
    this.recentGaps = options.recentGaps ?? 20;
    this.healthActor = options.healthActor ?? 'health';
  }

  /** A journal listener. */
  readonly apply = ({ seq, at, event: e }: JournalEntry): void => {
    this.journal = { lastSeq: seq, lastAt: at };
    switch (e.type) {
      case 'partition.assigned':
        this.partitions.set(key(e.topic, e.partition), {
          topic: e.topic,
          partition: e.partition,
          actorId: e.actorId,
          state: this.actors.get(e.actorId)?.state ?? null,
          lag: null,
          highWatermark: null,
          fetchedThrough: null,
          committedOffset: e.nextOffset,
          recordsConsumed: 0,
          dlqRecords: 0,
          gapsDetected: 0,
          lastBatchAt: null,
        });
        return;
      case 'partition.revoked':
        this.partitions.delete(key(e.topic, e.partition));
        for (const [k, s] of this.symbols)
          if (s.topic === e.topic && s.partition === e.partition) this.symbols.delete(k);
        return;
      case 'batch.received': {
        const p = this.assigned(e.topic, e.partition);
        if (!p) return;
        p.fetchedThrough = e.nextOffset;
        p.recordsConsumed += e.records;
        p.lastBatchAt = at;
        return;
      }
      case 'lag.observed': {
        const p = this.assigned(e.topic, e.partition);
        if (!p) return;
        p.lag = e.lag;
        p.highWatermark = e.highWatermark;
        return;
      }
      case 'offsets.committed':
        for (const o of e.offsets) {
          const p = this.assigned(o.topic, o.partition);
          if (p) p.committedOffset = o.nextOffset;
        }
        return;
      case 'sequence.observed':
        for (const w of e.watermarks) {
          const k = `${w.exchange}\u0000${w.symbol}`;
          this.symbols.delete(k);
          this.symbols.set(k, { ...w, topic: e.topic, partition: e.partition });
          if (this.symbols.size > this.maxSymbols) {
            this.symbols.delete(this.symbols.keys().next().value!);
            this.symbolsEvicted++;
          }
        }
        return;
      case 'gap.detected': {
        this.gaps.detected++;
        const p = this.assigned(e.topic, e.partition);
        if (p) p.gapsDetected++;
        this.rememberGap(e);
        return;
      }
      case 'gap.closed':
        this.gaps.closed++;
        this.rememberGap(e);
        return;
      case 'file.written':
        this.table(e.table).filesWritten++;
        return;
      case 'snapshot.committed': {
        const t = this.table(e.table);
        t.snapshots++;
        t.lastSnapshot = {
          snapshotId: e.snapshotId,
          at,
          records: e.records,
          files: e.files,
          durationMs: e.durationMs,
        };
        return;
      }
      case 'commit.failed': {
        const t = this.table(e.table);
        t.commitFailures++;
        t.lastFailure = { at, code: e.code, message: e.message };
        return;
      }
      case 'level.changed':
        if (e.actor === this.healthActor) {
          this.health = { level: e.to, since: at, reasons: e.reasons, shutdownReason: e.shutdownReason };
        }
        return;
      case 'breaker.changed':
        this.breakers[e.dependency] = { state: e.to, since: at };
        return;
      case 'dlq.written': {
        this.dlqTotal++;
        const p = this.assigned(e.topic, e.partition);
        if (p) p.dlqRecords++;
        return;
      }
      case 'actor.transition': {
        if (e.status === 'stopped') this.actors.delete(e.actorId);
        else this.actors.set(e.actorId, { machine: e.machine, state: e.state, status: e.status, at });
        for (const p of this.partitions.values()) if (p.actorId === e.actorId) p.state = e.state;
        return;
      }
      case 'batch.decoded':
      case 'offsets.commit_failed':
      case 'error.raised':
        return;
      default:
        e satisfies never;
    }
  };

  /** A copy: the JSON body of /status. */
  view(): StatusView {
    return structuredClone({
      health: this.health,
      breakers: this.breakers,
      partitions: [...this.partitions.values()].sort((a, b) =>
        a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
      ),
      tables: Object.fromEntries(this.tables),
      symbols: {
        shown: this.symbols.size,
        evicted: this.symbolsEvicted,
        watermarks: [...this.symbols.values()],
      },
      gaps: this.gaps,
      dlq: { total: this.dlqTotal },
      actors: Object.fromEntries(this.actors),
      journal: this.journal,
    });
  }

  /** Only assigned partitions are shown: a late event of a revoked partition does not bring it back. */
  private assigned(topic: string, partition: number): PartitionStatus | undefined {
    return this.partitions.get(key(topic, partition));
  }

  private table(name: string): TableStatus {
    let t = this.tables.get(name);
    if (!t) {
      t = { lastSnapshot: null, snapshots: 0, filesWritten: 0, commitFailures: 0, lastFailure: null };
      this.tables.set(name, t);
    }
    return t;
  }

  private rememberGap(event: GapDetectedEvent | GapClosedEvent): void {
    this.gaps.recent.push(event);
    if (this.gaps.recent.length > this.recentGaps) this.gaps.recent.shift();
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
