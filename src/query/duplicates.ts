import type { DataFile } from '../iceberg/datafile.js';
import { currentSchema, specById } from '../iceberg/metadata.js';
import { bindPredicates, fileMayMatch, marketPredicates } from '../iceberg/scan.js';
import type { Table } from '../iceberg/table.js';
import { sqlIdentifier, sqlString } from './duck-values.js';
import type { SourceRun } from './table-source.js';
import type { RowBounds } from './tail-filter.js';

/**
 * Tail rows Iceberg holds already (committed between the snapshot's offsets and now by another
 * group, or replayed): only files whose bounds overlap the tail's rows can hold them, so the probe
 * reads those few files' message_id column, not the whole scan. Returns how many there are.
 */
export async function markDuplicates(
  run: SourceRun,
  view: string,
  tailPath: string,
  files: readonly DataFile[],
  paths: readonly string[],
  bounds: RowBounds,
  table: Table,
): Promise<number> {
  if (files.length === 0) return 0;
  const schema = currentSchema(table.metadata);
  const bound = bindPredicates(
    schema,
    marketPredicates({
      from: bounds.from,
      to: bounds.to,
      symbols: bounds.symbols,
      exchanges: bounds.exchanges,
    }),
  );
  const candidates = paths.filter((_, i) =>
    fileMayMatch(files[i]!, specById(table.metadata, files[i]!.specId), schema, bound),
  );
  if (candidates.length === 0) return 0;
  const dups = sqlIdentifier(`${view}__dups`);
  await run.session.exec(
    `CREATE OR REPLACE TEMP TABLE ${dups} AS
       SELECT DISTINCT message_id FROM read_parquet([${candidates.map(sqlString).join(', ')}], union_by_name = true)
        WHERE message_id IN (SELECT message_id FROM read_parquet(${sqlString(tailPath)}))`,
  );
  const { rows } = await run.session.select(`SELECT count(*) FROM ${dups}`, 1);
  return Number(rows[0]?.[0] ?? 0);
}
