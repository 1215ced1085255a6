import type { Cell, QueryMeta, ResultColumn } from '../result.js';
import type { Sides } from '../run.js';

/** What a query kind computes; the service wraps it with the run's metadata. */
export interface KindAnswer {
  columns: ResultColumn[];
  rows: Cell[][];
  sides: Sides;
  gaps?: QueryMeta['gaps'];
}
