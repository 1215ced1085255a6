import type { ColumnSet } from '../codec/columns.js';
import { RowPlan } from '../codec/rows.js';
import { GAPS_TABLE, tableSchema } from '../iceberg/types.js';
import type { GapRow } from '../sequence/index.js';
import type { CommitPart, CommittedBatch, TableWriter } from './table-writer.js';

/** A committed range's gaps, on their way to the gaps table. */
export type GapPart = Omit<CommitPart, 'files' | 'checkpoint'> & { gaps: GapRow[] };

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

/**
 * Writes committed ranges' gaps to `market_data.sequence_gaps` with the same source offsets, so a
 * range's gaps land once: a range the gaps table already records is refused (and skipped).
 */
export async function commitGaps(
  writer: TableWriter,
  parts: GapPart[],
  commitId: string,
): Promise<CommittedBatch<GapPart & { files: CommitPart['files'] }>> {
  const withFiles = await Promise.all(
    parts.map(async (part) => ({ ...part, files: await writer.writeFiles([gapColumns(part.gaps)], [null]) })),
  );
  return writer.commit(withFiles, commitId);
}
