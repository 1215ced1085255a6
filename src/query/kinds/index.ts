import type { QueryKind, QuerySpec } from '../request.js';
import type { QueryRun } from '../run.js';
import type { KindAnswer } from './answer.js';
import { bars } from './bars.js';
import { gaps } from './gaps.js';
import { latest } from './latest.js';
import { sql } from './sql.js';
import { stats } from './stats.js';
import { trades } from './trades.js';
import { vwap } from './vwap.js';

type Kinds = {
  [K in QueryKind]: (run: QueryRun, spec: Extract<QuerySpec, { kind: K }>) => Promise<KindAnswer>;
};

const kinds: Kinds = { trades, bars, vwap, latest, gaps, stats, sql };

export function answer(run: QueryRun, spec: QuerySpec): Promise<KindAnswer> {
  return (kinds[spec.kind] as (run: QueryRun, spec: QuerySpec) => Promise<KindAnswer>)(run, spec);
}
