import { specById } from '../../iceberg/metadata.js';
import { bindPredicates, fileMayMatch, planScan } from '../../iceberg/scan.js';
import { sqlString } from '../duck-values.js';
import { UnknownSymbolError } from '../errors.js';
import type { Selection } from '../request.js';
import type { QueryRun } from '../run.js';
import type { OpenedTable } from '../table-source.js';
import { formatIso } from '../time.js';

/** Reading more than this to tell a mistyped symbol from a quiet one is not worth it: a warning says "no rows". */
const PROBE_BYTES = 256 * 1024 * 1024;

/**
 * Requested symbols absent from an answer are either unknown to the table (an error) or quiet in
 * this window (a warning, when `warnQuiet`). Unknown means no data file of the snapshot holds them:
 * first judged from manifest bounds alone, then, for the files whose bounds cannot rule them out,
 * from the files' symbol column (bounded by PROBE_BYTES).
 */
export async function checkSymbols(
  run: QueryRun,
  opened: OpenedTable,
  selection: Selection,
  answered: ReadonlySet<string>,
  warnQuiet: boolean,
): Promise<void> {
  const missing = (selection.symbols ?? []).filter((s) => !answered.has(s));
  if (missing.length === 0) return;
  const { table, schema, snapshot } = opened;
  const plan = await planScan(
    run.warehouse,
    table,
    [{ column: 'symbol', in: missing }],
    snapshot?.['snapshot-id'],
  );
  const candidates = new Map(
    missing.map((symbol) => {
      const bound = bindPredicates(schema, [{ column: 'symbol', in: [symbol] }]);
      return [
        symbol,
        plan.files.filter((f) => fileMayMatch(f, specById(table.metadata, f.specId), schema, bound)),
      ];
    }),
  );
  const unknown = missing.filter((symbol) => candidates.get(symbol)!.length === 0);
  const undecided = missing.filter((symbol) => candidates.get(symbol)!.length > 0);
  const probe = [...new Set(undecided.flatMap((symbol) => candidates.get(symbol)!))];
  if (probe.length > 0 && probe.reduce((sum, f) => sum + f.fileSizeInBytes, 0) <= PROBE_BYTES) {
    const use = await run.cache.fetch(probe, run.scratch, run.signal);
    run.recordCache(use);
    const { rows } = await run.session.select(
      `SELECT DISTINCT symbol FROM read_parquet([${use.paths.map(sqlString).join(', ')}])
        WHERE symbol IN (${undecided.map(sqlString).join(', ')})`,
      undecided.length,
    );
    const present = new Set(rows.map((row) => row[0]));
    unknown.push(...undecided.filter((symbol) => !present.has(symbol)));
  }
  if (unknown.length > 0) throw new UnknownSymbolError(opened.meta.table, unknown);
  if (warnQuiet) {
    const window = selection.window;
    run.warn({
      code: 'K2_QUERY_NO_ROWS',
      message:
        `no rows for ${missing.join(', ')} in ${opened.meta.table}` +
        (window ? ` between ${formatIso(window.from)} and ${formatIso(window.to)}` : ''),
    });
  }
}

/** The distinct values of a string column of an answer. */
export function valuesOf(rows: readonly (readonly unknown[])[], index: number): Set<string> {
  return new Set(rows.map((row) => row[index]).filter((v): v is string => typeof v === 'string'));
}
