import { decodeBound } from '../../iceberg/bounds.js';
import type { DataFile } from '../../iceberg/datafile.js';
import { ancestry, currentSchema, currentSnapshot, snapshotById, specById } from '../../iceberg/metadata.js';
import { recordedOffsets } from '../../iceberg/offsets.js';
import { planScan } from '../../iceberg/scan.js';
import type { Table } from '../../iceberg/table.js';
import { InvalidQueryError } from '../errors.js';
import type { QuerySpec } from '../request.js';
import { type Cell, column, type ResultColumn, types } from '../result.js';
import type { QueryRun } from '../run.js';
import { k2TableOf, loadOrExplain } from '../table-load.js';
import type { KindAnswer } from './answer.js';

const COLUMNS: ResultColumn[] = [
  column('scope', types.string),
  column('name', types.string),
  column('snapshots', types.long),
  column('files', types.long),
  column('rows', types.long),
  column('bytes', types.long),
  column('min_timestamp', types.timestamp),
  column('max_timestamp', types.timestamp),
  column('next_offset', types.long),
  column('high_watermark', types.long),
];

interface Totals {
  files: bigint;
  rows: bigint;
  bytes: bigint;
  min: bigint | null;
  max: bigint | null;
}

/**
 * Table statistics from metadata alone (no data file is read): snapshots, files, rows and bytes for
 * the table and per partition, event-time range from column bounds, and per Kafka partition the
 * group's next offset beside the high watermark (their difference is the uncommitted tail).
 */
export async function stats(run: QueryRun, spec: Extract<QuerySpec, { kind: 'stats' }>): Promise<KindAnswer> {
  const started = performance.now();
  const table = await loadOrExplain(run.warehouse, spec.table);
  const snapshot =
    run.options.snapshotId === undefined
      ? currentSnapshot(table.metadata)
      : snapshotById(table.metadata, run.options.snapshotId);
  if (run.options.snapshotId !== undefined && !snapshot)
    throw new InvalidQueryError('snapshot', `${run.options.snapshotId} is not a snapshot of ${spec.table}`);
  const plan = await planScan(run.warehouse, table, [], snapshot?.['snapshot-id']);
  run.time('planMs', performance.now() - started);

  const byPartition = new Map<string, Totals>();
  const all = empty();
  for (const file of plan.files) {
    const name = partitionName(table, file);
    const totals = byPartition.get(name) ?? empty();
    add(totals, file, timeBounds(table, file));
    add(all, file, timeBounds(table, file));
    byPartition.set(name, totals);
  }
  const history = snapshot ? [...ancestry(table.metadata, snapshot)].length : 0;
  const rows: Cell[][] = [['table', spec.table, BigInt(history), ...cells(all), null, null]];
  for (const [name, totals] of [...byPartition].sort(([a], [b]) => a.localeCompare(b))) {
    rows.push(['partition', name, null, ...cells(totals), null, null]);
  }
  const tailStarted = performance.now();
  rows.push(...(await kafkaRows(run, table, snapshot)));
  run.time('tailMs', performance.now() - tailStarted);
  return { columns: COLUMNS, rows, sides: { iceberg: rows.length, kafka: 0 } };
}

async function kafkaRows(
  run: QueryRun,
  table: Table,
  snapshot: ReturnType<typeof currentSnapshot>,
): Promise<Cell[][]> {
  const recorded =
    recordedOffsets(table.metadata, snapshot).get(run.group) ?? new Map<string, Map<number, bigint>>();
  const topics = run.options.topics ?? [...recorded.keys()].sort();
  if (!k2TableOf(table) || topics.length === 0 || run.options.source === 'iceberg') return [];
  const rows: Cell[][] = [];
  for (const topic of topics) {
    let marks: { partition: number; high: bigint }[] = [];
    try {
      marks = run.tail ? await run.tail.source.watermarks(topic) : [];
    } catch (error) {
      run.warn({
        code: 'K2_QUERY_KAFKA_UNAVAILABLE',
        message: `high watermarks of ${topic} are unknown: ${(error as Error).message}`,
      });
      run.markPartial();
    }
    const partitions = new Set([...(recorded.get(topic)?.keys() ?? []), ...marks.map((m) => m.partition)]);
    for (const partition of [...partitions].sort((a, b) => a - b)) {
      const next = recorded.get(topic)?.get(partition) ?? null;
      const high = marks.find((m) => m.partition === partition)?.high ?? null;
      const pending = next !== null && high !== null ? high - next : null;
      rows.push(['kafka', `${topic}/${partition}`, null, null, pending, null, null, null, next, high]);
    }
  }
  return rows;
}

function empty(): Totals {
  return { files: 0n, rows: 0n, bytes: 0n, min: null, max: null };
}

function add(totals: Totals, file: DataFile, time: { min: bigint; max: bigint } | undefined): void {
  totals.files++;
  totals.rows += BigInt(file.recordCount);
  totals.bytes += BigInt(file.fileSizeInBytes);
  if (time) {
    if (totals.min === null || time.min < totals.min) totals.min = time.min;
    if (totals.max === null || time.max > totals.max) totals.max = time.max;
  }
}

function cells(totals: Totals): Cell[] {
  return [totals.files, totals.rows, totals.bytes, totals.min, totals.max];
}

/** The event-time column's bounds in a file: `timestamp`, or the first timestamptz column. */
function timeBounds(table: Table, file: DataFile): { min: bigint; max: bigint } | undefined {
  const schema = currentSchema(table.metadata);
  const field =
    schema.fields.find((f) => f.name === 'timestamp' && f.type === 'timestamptz') ??
    schema.fields.find((f) => f.type === 'timestamptz');
  const lower = field && file.lowerBounds.get(field.id);
  const upper = field && file.upperBounds.get(field.id);
  if (!lower || !upper) return undefined;
  return { min: decodeBound('timestamptz', lower), max: decodeBound('timestamptz', upper) };
}

/** `timestamp_day=2025-01-01/exchange=BINANCE`, as Iceberg names partition paths. */
function partitionName(table: Table, file: DataFile): string {
  const spec = specById(table.metadata, file.specId);
  if (spec.fields.length === 0) return 'unpartitioned';
  return spec.fields
    .map((field) => {
      const value = file.partition.get(field['field-id']);
      const text =
        value === null || value === undefined
          ? 'null'
          : field.transform === 'day'
            ? new Date(Number(value) * 86_400_000).toISOString().slice(0, 10)
            : String(value);
      return `${field.name}=${text}`;
    })
    .join('/');
}
