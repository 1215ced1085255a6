import { decodeBound } from '../../iceberg/bounds.js';
import type { DataFile } from '../../iceberg/datafile.js';
import type { IcebergSchema } from '../../iceberg/types.js';
import type { Rows } from '../duck-engine.js';
import type { QuerySpec } from '../request.js';
import { countSides, type QueryRun } from '../run.js';
import type { OpenedTable } from '../table-source.js';
import type { KindAnswer } from './answer.js';
import { checkSymbols, valuesOf } from './symbols.js';

const COLUMNS = `"timestamp", exchange, symbol, price, quantity, currency, side, trade_id, source_sequence, message_id, k2_source AS source`;
const HINT = 'narrow the window, name symbols, ask for the newest N (last), or raise max-rows';
/** Files read in the first round of a last-N query; each further round reads four times as many. */
const FIRST_ROUND = 4;

/** Trades in the window, oldest first; with `last`, the newest N of them (still oldest first). */
export async function trades(
  run: QueryRun,
  spec: Extract<QuerySpec, { kind: 'trades' }>,
): Promise<KindAnswer> {
  const prepared = await run.prepare(spec.table, 'trades', { ...spec.selection, timeColumn: 'timestamp' });
  let opened: OpenedTable;
  let result: Rows;
  if (spec.last === undefined) {
    opened = await run.materialize(prepared, prepared.plan.files);
    result = await run.select(`SELECT ${COLUMNS} FROM trades ORDER BY "timestamp", message_id`, HINT);
  } else {
    // Newest files first: once N rows are in hand and every unread file ends before the oldest of
    // them, the unread files cannot change the answer.
    const newest = newestFirst(prepared.plan.files, prepared.schema);
    let read = Math.min(newest.length, FIRST_ROUND);
    for (;;) {
      opened = await run.materialize(
        prepared,
        newest.slice(0, read).map((f) => f.file),
      );
      result = await run.select(
        `SELECT * FROM (SELECT ${COLUMNS} FROM trades ORDER BY "timestamp" DESC, message_id DESC LIMIT ${spec.last})
          ORDER BY "timestamp", message_id`,
        HINT,
      );
      const unread = newest[read];
      const oldest = result.rows[0]?.[0] as bigint | undefined;
      if (!unread || (result.rows.length === spec.last && unread.end !== undefined && unread.end < oldest!))
        break;
      read = Math.min(newest.length, read * FIRST_ROUND);
    }
  }
  await checkSymbols(run, opened, spec.selection, valuesOf(result.rows, 2), spec.last === undefined);
  return {
    columns: result.columns,
    rows: result.rows,
    sides: countSides(result.rows, result.columns.length - 1),
  };
}

/** Files by the upper bound of their event time, newest first; a file without the bound comes first. */
function newestFirst(
  files: readonly DataFile[],
  schema: IcebergSchema,
): { file: DataFile; end: bigint | undefined }[] {
  const field = schema.fields.find((f) => f.name === 'timestamp');
  return files
    .map((file) => {
      const upper = field && file.upperBounds.get(field.id);
      return { file, end: upper ? decodeBound('timestamptz', upper) : undefined };
    })
    .sort((a, b) =>
      a.end === undefined ? -1 : b.end === undefined ? 1 : a.end > b.end ? -1 : a.end < b.end ? 1 : 0,
    );
}
