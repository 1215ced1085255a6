import type { QueryMeta, QueryResult } from '../result.js';
import { cellText, isNumeric, type TimestampStyle } from './cells.js';

/** Aligned columns for a terminal; numbers right-aligned, nulls blank. */
export function toTable(result: QueryResult, style: TimestampStyle): string {
  const header = result.columns.map((c) => c.name);
  const body = result.rows.map((row) =>
    result.columns.map((c, i) => cellText(row[i] ?? null, c.type, style) ?? ''),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => [...r[i]!].length)));
  const numeric = result.columns.map((c) => isNumeric(c.type));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

/** One line on where the answer came from, for stderr beside a table or CSV. */
export function summaryLine(meta: QueryMeta, rows: number): string {
  const tables = meta.tables.map((t) => {
    const { files } = t.iceberg;
    const pruned = files.total === 0 ? '' : `, ${(files.prunedShare * 100).toFixed(1)}% pruned`;
    const tail =
      t.kafka.status === 'read'
        ? `; tail ${t.kafka.records} records over ${t.kafka.partitions.length} partitions, ${t.kafka.rows} rows` +
          (t.kafka.duplicates > 0 ? `, ${t.kafka.duplicates} already committed` : '')
        : `; tail ${t.kafka.status}`;
    return `${t.table} @ ${t.snapshotId ?? 'no snapshot'}: ${files.scanned}/${files.total} files${pruned}${tail}`;
  });
  return (
    `${rows} rows (${meta.rows.iceberg} from Iceberg, ${meta.rows.kafka} from Kafka${meta.partial ? ', PARTIAL' : ''}) ` +
    `in ${meta.timings.totalMs.toFixed(0)} ms` +
    (tables.length > 0 ? ` | ${tables.join(' | ')}` : '') +
    ` | cache ${meta.cache.hits} hits, ${meta.cache.misses} misses`
  );
}
