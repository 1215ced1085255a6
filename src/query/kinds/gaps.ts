import type { QuerySpec } from '../request.js';
import { countSides, dropColumns, type QueryRun } from '../run.js';
import type { KindAnswer } from './answer.js';

const COLUMNS =
  'exchange, symbol, from_sequence, to_sequence, size, detected_at, kind, topic, "partition", "offset", k2_source';

/**
 * Sequence gaps per exchange and symbol. The supervisor's gaps table answers when it exists (gaps by
 * detection time); otherwise gaps are computed from the trades' source_sequence (by trade time),
 * and the answer says which.
 */
export async function gaps(run: QueryRun, spec: Extract<QuerySpec, { kind: 'gaps' }>): Promise<KindAnswer> {
  const recorded = await run.openIfExists(spec.gapsTable, 'sequence_gaps', {
    ...spec.selection,
    timeColumn: 'detected_at',
  });
  if (recorded) {
    const result = await run.select(
      `SELECT ${COLUMNS} FROM sequence_gaps ORDER BY detected_at, exchange, symbol`,
      'narrow the window or raise max-rows',
    );
    return {
      ...dropColumns(result, ['k2_source']),
      sides: countSides(result.rows, result.columns.length - 1),
      gaps: { method: 'table', table: spec.gapsTable },
    };
  }
  await run.open(spec.table, 'trades', { ...spec.selection, timeColumn: 'timestamp' });
  const result = await run.select(
    `SELECT exchange, symbol, previous + 1 AS from_sequence, source_sequence - 1 AS to_sequence,
            source_sequence - previous - 1 AS size, "timestamp" AS detected_at, 'gap' AS kind,
            NULL::VARCHAR AS topic, NULL::INTEGER AS "partition", NULL::BIGINT AS "offset", k2_source
       FROM (SELECT exchange, symbol, source_sequence, "timestamp", k2_source,
                    lag(source_sequence) OVER (PARTITION BY exchange, symbol ORDER BY source_sequence) AS previous
               FROM trades WHERE source_sequence IS NOT NULL)
      WHERE source_sequence > previous + 1
      ORDER BY exchange, symbol, from_sequence`,
    'narrow the window, name symbols, or raise max-rows',
  );
  return {
    ...dropColumns(result, ['k2_source']),
    sides: countSides(result.rows, result.columns.length - 1),
    gaps: { method: 'computed', table: spec.table },
  };
}
