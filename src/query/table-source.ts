import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DataFile } from '../iceberg/datafile.js';
import { currentSchema, type Snapshot } from '../iceberg/metadata.js';
import { recordedOffsets, type TopicOffsets } from '../iceberg/offsets.js';
import { planScan, type ScanPlan } from '../iceberg/scan.js';
import type { Table, Warehouse } from '../iceberg/table.js';
import type { IcebergSchema } from '../iceberg/types.js';
import type { CodecPool } from '../workers/pool.js';
import type { DuckSession } from './duck-engine.js';
import { sqlIdentifier } from './duck-values.js';
import { markDuplicates } from './duplicates.js';
import { InvalidQueryError } from './errors.js';
import type { CacheUse, FileCache, Scratch } from './file-cache.js';
import { emptyRelation, filesRelation } from './relations.js';
import type { QueryOptions } from './request.js';
import type { TableSourceMeta, Warning } from './result.js';
import { planPredicates, rowFilter, sqlCondition, type TableSelection } from './selection.js';
import { k2TableOf, loadOrExplain, pickSnapshot } from './table-load.js';
import { readTail, type TailDeps, type TailRead } from './tail.js';
import { type RowBounds, rowBounds } from './tail-filter.js';

/** What opening a table needs from the query run around it. */
export interface SourceRun {
  warehouse: Warehouse;
  cache: FileCache;
  pool: CodecPool;
  /** Undefined when the service has no Kafka (tail reads are then skipped, and said so). */
  tail: TailDeps | undefined;
  session: DuckSession;
  scratch: Scratch;
  signal: AbortSignal;
  group: string;
  options: QueryOptions;
  maxTailRecords: number;
  warn(warning: Warning): void;
  /** The answer lacks rows it should have; with `strict` the query fails instead. */
  markPartial(): void;
  recordCache(use: CacheUse): void;
  time(phase: 'planMs' | 'fetchMs' | 'tailMs' | 'viewMs', ms: number): void;
}

/** A table planned and its tail read, before any data file is fetched. */
export interface PreparedTable {
  identifier: string;
  view: string;
  selection: TableSelection;
  table: Table;
  snapshot: Snapshot | undefined;
  schema: IcebergSchema;
  plan: ScanPlan;
  /** The tail's matching rows as a local Parquet file, and their extent; undefined when there are none. */
  tail: { path: string; rows: number; bounds: RowBounds | undefined } | undefined;
  meta: TableSourceMeta;
}

/** A table made queryable: a DuckDB view over its selected Iceberg rows and Kafka tail rows. */
export interface OpenedTable extends PreparedTable {
  /** The data files the view reads (all planned files, or the newest few for a last-N query). */
  files: DataFile[];
}

/**
 * Plans the Iceberg scan (partition and column-bound pruning), brings the planned files into the
 * cache, reads the Kafka tail after the snapshot's recorded offsets, and creates the view `view`:
 * the Iceberg rows, then the tail rows whose message_id Iceberg does not hold, each tagged with
 * `k2_source`, both filtered by the selection. Offsets and files come from one snapshot, so a commit
 * landing mid-query cannot count a row twice; the message_id anti-join covers every other overlap.
 */
export async function openTable(
  run: SourceRun,
  identifier: string,
  view: string,
  selection: TableSelection,
): Promise<OpenedTable> {
  const prepared = await prepareTable(run, identifier, view, selection);
  return materialize(run, prepared, prepared.plan.files);
}

/** The planning half of openTable: the snapshot, its pruned files, and the tail (read once). */
export async function prepareTable(
  run: SourceRun,
  identifier: string,
  view: string,
  selection: TableSelection,
): Promise<PreparedTable> {
  const started = performance.now();
  const table = await loadOrExplain(run.warehouse, identifier);
  const snapshot = pickSnapshot(table, run.options.snapshotId);
  const schema = currentSchema(table.metadata);
  const icebergSide = run.options.source !== 'kafka';
  const plan = icebergSide
    ? await planScan(run.warehouse, table, planPredicates(schema, selection), snapshot?.['snapshot-id'])
    : { snapshot, files: [], manifests: { total: 0, scanned: 0 }, dataFiles: { total: 0, matched: 0 } };
  run.time('planMs', performance.now() - started);

  const tailStarted = performance.now();
  const k2Table = k2TableOf(table);
  const meta = sourceMeta(identifier, snapshot, plan, run.group, icebergSide);
  let tail: TailRead | undefined;
  if (run.options.source === 'iceberg') {
    meta.kafka.status = 'skipped';
  } else if (!k2Table) {
    meta.kafka.status = 'skipped';
    if (run.options.source === 'kafka')
      throw new InvalidQueryError('source', `${identifier} is not fed from Kafka by K2; it has no tail`);
  } else if (!run.tail) {
    meta.kafka.status = 'unavailable';
    run.warn({
      code: 'K2_QUERY_KAFKA_UNAVAILABLE',
      message: 'no Kafka is configured: answered from Iceberg only',
    });
    run.markPartial();
  } else {
    const recorded: TopicOffsets =
      recordedOffsets(table.metadata, snapshot).get(run.group) ?? new Map<string, Map<number, bigint>>();
    const requested = selection.tailTopics === 'recorded' ? undefined : run.options.topics;
    const topics = requested ?? [...recorded.keys()].sort();
    if (topics.length === 0) {
      meta.kafka.status = 'not-recorded';
      run.warn({
        code: 'K2_QUERY_TAIL_NOT_RECORDED',
        message: `consumer group ${run.group} has recorded no offsets in ${identifier}, so its Kafka topics are unknown; pass topics (and group) to read the tail`,
      });
    } else {
      tail = await readTail(run.tail, {
        table: k2Table,
        topics,
        recorded,
        filter: rowFilter(selection),
        maxRecords: run.maxTailRecords,
        signal: run.signal,
      });
      for (const warning of tail.warnings) run.warn(warning);
      if (tail.partial) run.markPartial();
      meta.kafka.status = tail.status;
      meta.kafka.partitions = tail.ranges.map((r) => ({
        topic: r.topic,
        partition: r.partition,
        from: String(r.from),
        to: String(r.to),
      }));
      meta.kafka.records = tail.records;
      meta.kafka.decodeFailures = tail.decodeFailures;
    }
  }
  let tailFile: PreparedTable['tail'];
  if (tail?.rows && k2Table) {
    // Bounds first: encoding moves the rows' buffers to a worker.
    const rows = tail.rows.rowCount;
    const bounds = rowBounds(tail.rows, 'timestamp');
    const encoded = await run.pool.encode(k2Table, [tail.rows]);
    const path = join(run.scratch.dir, `${view}-tail.parquet`);
    await writeFile(path, encoded.bytes);
    tailFile = { path, rows, bounds };
  }
  run.time('tailMs', performance.now() - tailStarted);
  return { identifier, view, selection, table, snapshot, schema, plan, tail: tailFile, meta };
}

/**
 * The view half of openTable, over `files` (a subset of the planned files; may be called again with
 * more): fetches them into the cache and (re)creates the views.
 */
export async function materialize(
  run: SourceRun,
  prepared: PreparedTable,
  files: DataFile[],
): Promise<OpenedTable> {
  const { view, schema, table, meta, tail } = prepared;
  const fetchStarted = performance.now();
  const use = await run.cache.fetch(files, run.scratch, run.signal);
  run.recordCache(use);
  run.time('fetchMs', performance.now() - fetchStarted);

  const started = performance.now();
  const total = meta.iceberg.files.total;
  meta.iceberg.files = {
    total,
    scanned: files.length,
    pruned: total - files.length,
    prunedShare: total === 0 ? 0 : (total - files.length) / total,
  };
  meta.iceberg.bytesScanned = files.reduce((sum, f) => sum + f.fileSizeInBytes, 0);
  const icebergView = `${view}__iceberg`;
  const kafkaView = `${view}__kafka`;
  await run.session.exec(
    `CREATE OR REPLACE TEMP VIEW ${sqlIdentifier(icebergView)} AS ${filesRelation(use.paths, schema)}`,
  );
  meta.kafka.duplicates =
    tail?.bounds === undefined
      ? 0
      : await markDuplicates(run, view, tail.path, files, use.paths, tail.bounds, table);
  await run.session.exec(
    `CREATE OR REPLACE TEMP VIEW ${sqlIdentifier(kafkaView)} AS ${tail ? filesRelation([tail.path], schema) : emptyRelation(schema)}`,
  );
  const dedupedTail =
    meta.kafka.duplicates > 0
      ? `SELECT * FROM ${sqlIdentifier(kafkaView)} ANTI JOIN ${sqlIdentifier(`${view}__dups`)} USING (message_id)`
      : `SELECT * FROM ${sqlIdentifier(kafkaView)}`;
  await run.session.exec(
    `CREATE OR REPLACE TEMP VIEW ${sqlIdentifier(view)} AS
       SELECT * FROM (
         SELECT *, 'iceberg' AS k2_source FROM ${sqlIdentifier(icebergView)}
         UNION ALL BY NAME
         SELECT *, 'kafka' AS k2_source FROM (${dedupedTail})
       ) WHERE ${sqlCondition(schema, prepared.selection)}`,
  );
  meta.kafka.rows = (tail?.rows ?? 0) - meta.kafka.duplicates;
  run.time('viewMs', performance.now() - started);
  return { ...prepared, files };
}

function sourceMeta(
  identifier: string,
  snapshot: Snapshot | undefined,
  plan: ScanPlan,
  group: string,
  icebergSide: boolean,
): TableSourceMeta {
  // The snapshot's live file count (the planner counts only manifests it did not prune).
  const recorded = icebergSide ? Number(snapshot?.summary['total-data-files']) : 0;
  const total =
    Number.isInteger(recorded) && recorded >= plan.dataFiles.total ? recorded : plan.dataFiles.total;
  const scanned = plan.files.length;
  return {
    table: identifier,
    snapshotId: snapshot ? String(snapshot['snapshot-id']) : null,
    iceberg: {
      files: {
        total,
        scanned,
        pruned: total - scanned,
        prunedShare: total === 0 ? 0 : (total - scanned) / total,
      },
      bytesScanned: plan.files.reduce((sum, f) => sum + f.fileSizeInBytes, 0),
    },
    kafka: { status: 'read', group, partitions: [], records: 0, rows: 0, duplicates: 0, decodeFailures: 0 },
  };
}
