import { barIntervals, type QuerySpec } from '../request.js';
import type { Cell, ResultColumn } from '../result.js';
import { dropColumns, type QueryRun, type Sides } from '../run.js';
import type { KindAnswer } from './answer.js';
import { checkSymbols, valuesOf } from './symbols.js';
import { withVwap } from './vwap.js';

/**
 * OHLCV bars per exchange and symbol. Buckets are [start, start + interval) in UTC; open and close
 * are the prices of the first and last trade by (timestamp, message_id); volume and the notional
 * behind the VWAP are exact decimal sums.
 */
export async function bars(run: QueryRun, spec: Extract<QuerySpec, { kind: 'bars' }>): Promise<KindAnswer> {
  const opened = await run.open(spec.table, 'trades', { ...spec.selection, timeColumn: 'timestamp' });
  const width = barIntervals[spec.interval];
  const result = await run.select(
    `SELECT exchange, symbol, make_timestamp(epoch_us("timestamp") // ${width} * ${width}) AS bucket_start,
            arg_min(price, ("timestamp", message_id)) AS open, max(price) AS high, min(price) AS low,
            arg_max(price, ("timestamp", message_id)) AS close, sum(quantity) AS volume,
            sum(price::DECIMAL(38, 8) * quantity) AS notional, count(*) AS trades,
            count(*) FILTER (WHERE k2_source = 'kafka') AS kafka_trades
       FROM trades GROUP BY ALL ORDER BY exchange, symbol, bucket_start`,
    'use a longer interval, a shorter window, fewer symbols, or raise max-rows',
  );
  await checkSymbols(run, opened, spec.selection, valuesOf(result.rows, 1), true);
  const sides = aggregatedSides(result.columns, result.rows);
  const answer = dropColumns(withVwap(result, 'volume'), ['notional', 'kafka_trades']);
  return { ...answer, sides };
}

/** Sides of aggregated rows: `trades` rows in all, `kafka_trades` of them from the tail. */
export function aggregatedSides(columns: readonly ResultColumn[], rows: readonly Cell[][]): Sides {
  const all = columns.findIndex((c) => c.name === 'trades');
  const kafka = columns.findIndex((c) => c.name === 'kafka_trades');
  const sides = { iceberg: 0, kafka: 0 };
  for (const row of rows) {
    const k = Number(row[kafka] ?? 0);
    sides.kafka += k;
    sides.iceberg += Number(row[all] ?? 0) - k;
  }
  return sides;
}
