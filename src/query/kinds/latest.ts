import { tableSchema } from '../../iceberg/types.js';
import { sqlIdentifier } from '../duck-values.js';
import { emptyRelation } from '../relations.js';
import type { QuerySpec } from '../request.js';
import { countSides, dropColumns, type QueryRun } from '../run.js';
import type { KindAnswer } from './answer.js';
import { checkSymbols, valuesOf } from './symbols.js';

/**
 * The last trade and the last quote per exchange and symbol in the window (latest by timestamp, then
 * message_id). Quotes are optional: without a quotes table the quote columns stay empty, with a warning.
 */
export async function latest(
  run: QueryRun,
  spec: Extract<QuerySpec, { kind: 'latest' }>,
): Promise<KindAnswer> {
  const selection = { ...spec.selection, timeColumn: 'timestamp' };
  const opened = await run.open(spec.table, 'trades', selection);
  // A topics option names the trades' topics; quotes are read from the topics their table recorded.
  const quotes = await run.openIfExists(spec.quotesTable, 'quotes', { ...selection, tailTopics: 'recorded' });
  if (!quotes) {
    run.warn({
      code: 'K2_QUERY_NO_QUOTES',
      message: `${spec.quotesTable} does not exist: no quotes in the answer`,
    });
    await run.session.exec(
      `CREATE OR REPLACE TEMP VIEW ${sqlIdentifier('quotes')} AS
         SELECT *, 'iceberg' AS k2_source FROM (${emptyRelation(tableSchema('quotes_v2'))})`,
    );
  }
  const latestOf = (view: string) =>
    `FROM ${view} QUALIFY row_number() OVER (PARTITION BY exchange, symbol ORDER BY "timestamp" DESC, message_id DESC) = 1`;
  const result = await run.select(
    `WITH lt AS (SELECT exchange, symbol, "timestamp" AS trade_time, price AS trade_price, quantity AS trade_quantity,
                        side AS trade_side, k2_source AS trade_source ${latestOf('trades')}),
          lq AS (SELECT exchange, symbol, "timestamp" AS quote_time, bid_price, bid_size, ask_price, ask_size,
                        k2_source AS quote_source ${latestOf('quotes')})
     SELECT exchange, symbol, trade_time, trade_price, trade_quantity, trade_side,
            quote_time, bid_price, bid_size, ask_price, ask_size, trade_source, quote_source
       FROM lt FULL OUTER JOIN lq USING (exchange, symbol) ORDER BY exchange, symbol`,
    'name symbols or raise max-rows',
  );
  const sides = countSides(result.rows, 11);
  countSides(result.rows, 12, sides);
  await checkSymbols(run, opened, spec.selection, valuesOf(result.rows, 1), true);
  return { ...dropColumns(result, ['trade_source', 'quote_source']), sides };
}
