import type { Rows } from '../duck-engine.js';
import { sqlIdentifier } from '../duck-values.js';
import { SqlRejectedError, TooManyRowsError, UnknownTableError } from '../errors.js';
import type { QuerySpec } from '../request.js';
import { countSides, type QueryRun, type Sides } from '../run.js';
import { inspectSelect, prepareSelect } from '../sql-guard.js';
import type { KindAnswer } from './answer.js';

/** Short names for K2's tables in raw SQL: `trades` is `<namespace>.trades_v2`. */
const aliases: Record<string, string> = {
  trades: 'trades_v2',
  quotes: 'quotes_v2',
  reference_data: 'reference_data_v2',
  gaps: 'sequence_gaps',
};

/** DuckDB's own schemas: references to them are left to DuckDB. */
const systemSchemas = new Set(['information_schema', 'pg_catalog', 'main', 'temp', 'system']);

/**
 * Raw SQL for power users: one SELECT over views named after the tables it mentions (`trades`,
 * `trades_v2`, `quotes`, any table of the namespace), each holding the planned files' rows and, with
 * source=hybrid, the Kafka tail, narrowed by the optional window, symbols and exchanges. Every view
 * has a `k2_source` column ('iceberg' or 'kafka').
 */
export async function sql(run: QueryRun, spec: Extract<QuerySpec, { kind: 'sql' }>): Promise<KindAnswer> {
  const refs = await inspectSelect(run.session.connection, spec.sql);
  const views: string[] = [];
  for (const ref of refs) {
    if (systemSchemas.has(ref.schema.toLowerCase())) continue;
    if (ref.schema !== '') {
      throw new SqlRejectedError(
        `refer to tables without a namespace (${ref.name}, not ${ref.schema}.${ref.name}): the namespace is ${spec.namespace}`,
      );
    }
    const identifier = `${spec.namespace}.${aliases[ref.name.toLowerCase()] ?? ref.name}`;
    try {
      await run.open(identifier, ref.name, { ...spec.selection, timeColumn: 'timestamp' });
      views.push(ref.name);
    } catch (error) {
      if (error instanceof UnknownTableError) {
        throw new UnknownTableError(`${ref.name} (${identifier})`, error.known, { cause: error });
      }
      throw error;
    }
  }
  const prepared = await prepareSelect(run.session.connection, spec.sql);
  const started = performance.now();
  let result: Rows;
  try {
    result = await run.session.selectPrepared(prepared, run.options.maxRows);
  } finally {
    prepared.destroySync();
    run.time('queryMs', performance.now() - started);
  }
  if (result.more)
    throw new TooManyRowsError(run.options.maxRows, 'add a LIMIT, aggregate, or raise max-rows');
  return { columns: result.columns, rows: result.rows, sides: await sidesOf(run, result, views) };
}

/** Rows per side: from the answer's own k2_source column, else what the views held from each side. */
async function sidesOf(run: QueryRun, result: Rows, views: readonly string[]): Promise<Sides> {
  const index = result.columns.findIndex((c) => c.name === 'k2_source');
  if (index >= 0) return countSides(result.rows, index);
  if (run.options.source === 'iceberg') return { iceberg: result.rows.length, kafka: 0 };
  const sides = { iceberg: 0, kafka: 0 };
  for (const view of views) {
    const { rows } = await run.session.select(
      `SELECT k2_source, count(*) FROM ${sqlIdentifier(view)} GROUP BY k2_source`,
      2,
    );
    for (const [side, count] of rows) {
      if (side === 'kafka') sides.kafka += Number(count);
      else sides.iceberg += Number(count);
    }
  }
  return sides;
}
