import type { IcebergSchema } from '../iceberg/types.js';
import { duckTypeOf, sqlIdentifier, sqlString } from './duck-values.js';

/** The rows of local Parquet files; files written by other writers may order or lack optional columns. */
export function filesRelation(paths: readonly string[], schema: IcebergSchema): string {
  if (paths.length === 0) return emptyRelation(schema);
  return `SELECT * FROM read_parquet([${paths.map(sqlString).join(', ')}], union_by_name = true)`;
}

/** A relation with the table's columns and no rows: what a side with nothing to read contributes. */
export function emptyRelation(schema: IcebergSchema): string {
  const columns = schema.fields.map((f) => `NULL::${duckTypeOf(f.type)} AS ${sqlIdentifier(f.name)}`);
  return `SELECT ${columns.join(', ')} WHERE false`;
}
