import type { ColumnSet } from '../codec/columns.js';
import { RowPlan } from '../codec/rows.js';
import { GAPS_TABLE, tableSchema } from '../iceberg/types.js';
import type { GapRow } from '../sequence/index.js';

const plan = new RowPlan(tableSchema(GAPS_TABLE));
const noBytes = new Uint8Array(0);

/** Gap rows as the columns the Parquet writer takes, validated like any landed row. */
export function gapColumns(rows: readonly GapRow[]): ColumnSet {
  const builders = plan.builders(rows.length);
  const names = plan.fieldNames as (keyof GapRow)[];
  for (const row of rows)
    builders.append(
      names.map((name) => row[name]),
      noBytes,
    );
  return builders.finish();
}
