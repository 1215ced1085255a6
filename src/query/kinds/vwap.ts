import { divideDecimal } from '../decimal-ratio.js';
import type { Rows } from '../duck-engine.js';
import type { QuerySpec } from '../request.js';
import { types } from '../result.js';
import { dropColumns, type QueryRun } from '../run.js';
import type { KindAnswer } from './answer.js';
import { aggregatedSides } from './bars.js';
import { checkSymbols, valuesOf } from './symbols.js';

/** Volume-weighted average price per exchange and symbol over the window, with the exact sums behind it. */
export async function vwap(run: QueryRun, spec: Extract<QuerySpec, { kind: 'vwap' }>): Promise<KindAnswer> {
  const opened = await run.open(spec.table, 'trades', { ...spec.selection, timeColumn: 'timestamp' });
  const result = await run.select(
    `SELECT exchange, symbol, sum(quantity) AS volume, sum(price::DECIMAL(38, 8) * quantity) AS notional,
            count(*) AS trades, min("timestamp") AS first_trade, max("timestamp") AS last_trade,
            count(*) FILTER (WHERE k2_source = 'kafka') AS kafka_trades
       FROM trades GROUP BY exchange, symbol ORDER BY exchange, symbol`,
    'name fewer symbols or raise max-rows',
  );
  await checkSymbols(run, opened, spec.selection, valuesOf(result.rows, 1), true);
  const sides = aggregatedSides(result.columns, result.rows);
  return { ...dropColumns(withVwap(result, 'symbol'), ['kafka_trades']), sides };
}

/**
 * Adds `vwap` = notional / volume (decimal(18, 8), rounded half to even) after column `after`,
 * computed exactly from the decimal sums, never through a float.
 */
export function withVwap(result: Rows, after: string): Rows {
  const notional = result.columns.findIndex((c) => c.name === 'notional');
  const volume = result.columns.findIndex((c) => c.name === 'volume');
  const scaleOf = (i: number) => {
    const type = result.columns[i]!.type;
    if (type.kind !== 'decimal') throw new TypeError(`${result.columns[i]!.name} is not a decimal`);
    return type.scale;
  };
  const at = result.columns.findIndex((c) => c.name === after) + 1;
  const price = types.price;
  const columns = [
    ...result.columns.slice(0, at),
    { name: 'vwap', type: price },
    ...result.columns.slice(at),
  ];
  const rows = result.rows.map((row) => {
    const n = row[notional] as bigint | null;
    const d = row[volume] as bigint | null;
    const value =
      n === null || d === null
        ? null
        : (divideDecimal(n, scaleOf(notional), d, scaleOf(volume), price.scale) ?? null);
    return [...row.slice(0, at), value, ...row.slice(at)];
  });
  return { ...result, columns, rows };
}
