import { K2Error } from '../errors/index.js';
import { identifierString, parseIdentifier } from '../iceberg/identifier.js';
import { MARKET_DATA } from '../iceberg/tables.js';
import { InvalidQueryError } from './errors.js';
import { formatDuration, formatIso, MICROS_PER_DAY, parseDuration, parseInstant } from './time.js';

/**
 * What a query asks, parsed and validated once from flat string parameters, so the CLI (flags) and
 * HTTP (query string) accept exactly the same input and reject it with the same messages.
 */

export const queryKinds = ['trades', 'bars', 'vwap', 'latest', 'gaps', 'stats', 'sql'] as const;
export type QueryKind = (typeof queryKinds)[number];

/** Which side answers: committed Iceberg data, the uncommitted Kafka tail, or both (the default). */
export const sourceModes = ['hybrid', 'iceberg', 'kafka'] as const;
export type SourceMode = (typeof sourceModes)[number];

export const barIntervals = {
  '1s': 1_000_000n,
  '1m': 60_000_000n,
  '1h': 3_600_000_000n,
  '1d': MICROS_PER_DAY,
};
export type BarInterval = keyof typeof barIntervals;

/** [from, to) in microseconds UTC. */
export interface TimeWindow {
  from: bigint;
  to: bigint;
}

export interface Selection {
  window?: TimeWindow;
  symbols?: string[];
  exchanges?: string[];
}

export type QuerySpec =
  | { kind: 'trades'; table: string; selection: Selection; last?: number }
  | { kind: 'bars'; table: string; selection: Selection; interval: BarInterval }
  | { kind: 'vwap'; table: string; selection: Selection }
  | { kind: 'latest'; table: string; quotesTable: string; selection: Selection }
  | { kind: 'gaps'; table: string; gapsTable: string; selection: Selection }
  | { kind: 'stats'; table: string }
  | { kind: 'sql'; sql: string; namespace: string; selection: Selection };

export interface QueryOptions {
  source: SourceMode;
  /** Consumer group whose offsets split committed from tail; default the service's (kafka.groupId). */
  group?: string;
  /** Topics feeding the table; default those the group recorded for it. */
  topics?: string[];
  /** Answer as of this snapshot (its files and its offsets) instead of the current one. */
  snapshotId?: bigint;
  maxRows: number;
  timeoutMs: number;
  /** Fail instead of answering partially (Kafka tail unreadable). */
  strict: boolean;
}

export interface QueryRequest {
  spec: QuerySpec;
  options: QueryOptions;
}

export const queryLimits = {
  defaultMaxRows: 100_000,
  maxRows: 10_000_000,
  defaultTimeoutMs: 60_000,
  maxTimeoutMs: 30 * 60_000,
  defaultMaxWindow: 31n * MICROS_PER_DAY,
  maxBucketsPerSeries: 1_000_000n,
  maxSymbols: 1_000,
  maxSqlLength: 100_000,
  /** 2200-01-01T00:00:00Z: the decoder refuses later event times, so no row can be beyond it. */
  latestInstant: 7_258_118_400_000_000n,
};

/** How far back a query looks when `from` is not given. */
const defaultSpans: Record<Exclude<QueryKind, 'stats' | 'sql'>, bigint> = {
  trades: 3_600_000_000n,
  bars: MICROS_PER_DAY,
  vwap: 3_600_000_000n,
  latest: 7n * MICROS_PER_DAY,
  gaps: MICROS_PER_DAY,
};

/** Parameter names, as in `k2 query` flags and `GET /query` query strings. */
export type QueryParams = Partial<Record<(typeof parameterNames)[number], string>>;
export const parameterNames = [
  'kind',
  'table',
  'quotes-table',
  'gaps-table',
  'namespace',
  'symbols',
  'exchanges',
  'from',
  'to',
  'interval',
  'last',
  'source',
  'group',
  'topics',
  'snapshot',
  'max-rows',
  'max-window',
  'timeout',
  'strict',
  'sql',
] as const;

export function parseQueryRequest(params: QueryParams, now: bigint): QueryRequest {
  const kind = oneOf('kind', params.kind, queryKinds);
  const namespace = params.namespace ?? MARKET_DATA;
  tableName('namespace', `${namespace}.x`);
  const table = (name: string, fallback: string) =>
    tableName(name, qualify(params[name as keyof QueryParams] ?? fallback, namespace));
  const options = parseOptions(params);
  const selection = (span: bigint | undefined) => parseSelection(params, now, span);
  switch (kind) {
    case 'trades': {
      const last = params.last === undefined ? undefined : count('last', params.last, options.maxRows);
      const spec = { kind, table: table('table', 'trades_v2'), selection: selection(defaultSpans.trades) };
      return { spec: last === undefined ? spec : { ...spec, last }, options };
    }
    case 'bars': {
      const interval = oneOf('interval', params.interval ?? '1m', Object.keys(barIntervals) as BarInterval[]);
      const sel = selection(defaultSpans.bars);
      checkBuckets(sel.window!, interval);
      return { spec: { kind, table: table('table', 'trades_v2'), selection: sel, interval }, options };
    }
    case 'vwap':
      return {
        spec: { kind, table: table('table', 'trades_v2'), selection: selection(defaultSpans.vwap) },
        options,
      };
    case 'latest':
      return {
        spec: {
          kind,
          table: table('table', 'trades_v2'),
          quotesTable: table('quotes-table', 'quotes_v2'),
          selection: selection(defaultSpans.latest),
        },
        options,
      };
    case 'gaps':
      return {
        spec: {
          kind,
          table: table('table', 'trades_v2'),
          gapsTable: table('gaps-table', 'sequence_gaps'),
          selection: selection(defaultSpans.gaps),
        },
        options,
      };
    case 'stats':
      return { spec: { kind, table: table('table', 'trades_v2') }, options };
    case 'sql': {
      const sql = params.sql?.trim();
      if (!sql) throw new InvalidQueryError('sql', 'is required: one SELECT statement');
      if (sql.length > queryLimits.maxSqlLength)
        throw new InvalidQueryError('sql', `is longer than ${queryLimits.maxSqlLength} characters`);
      const explicitWindow = params.from !== undefined || params.to !== undefined;
      return {
        spec: {
          kind,
          sql,
          namespace,
          selection: selection(explicitWindow ? defaultSpans.trades : undefined),
        },
        options: { ...options, source: params.source === undefined ? 'iceberg' : options.source },
      };
    }
  }
}

function parseOptions(params: QueryParams): QueryOptions {
  const maxRows =
    params['max-rows'] === undefined
      ? queryLimits.defaultMaxRows
      : count('max-rows', params['max-rows'], queryLimits.maxRows);
  const options: QueryOptions = {
    source: oneOf('source', params.source ?? 'hybrid', sourceModes),
    maxRows,
    timeoutMs: params.timeout === undefined ? queryLimits.defaultTimeoutMs : timeout(params.timeout),
    strict: flag('strict', params.strict),
  };
  if (params.group !== undefined) {
    if (!/^[\x21-\x7e]{1,255}$/.test(params.group))
      throw new InvalidQueryError('group', 'expected a consumer group id (printable ASCII, no spaces)');
    options.group = params.group;
  }
  if (params.topics !== undefined) {
    options.topics = list('topics', params.topics).map((topic) => {
      if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic))
        throw new InvalidQueryError('topics', `${JSON.stringify(topic)} is not a Kafka topic name`);
      return topic;
    });
  }
  if (params.snapshot !== undefined) {
    if (!/^-?\d{1,19}$/.test(params.snapshot))
      throw new InvalidQueryError('snapshot', 'expected a snapshot id');
    options.snapshotId = BigInt(params.snapshot);
  }
  return options;
}

function parseSelection(params: QueryParams, now: bigint, defaultSpan: bigint | undefined): Selection {
  const selection: Selection = {};
  if (defaultSpan !== undefined) selection.window = parseWindow(params, now, defaultSpan);
  if (params.symbols !== undefined) selection.symbols = symbols(params.symbols);
  if (params.exchanges !== undefined) {
    selection.exchanges = list('exchanges', params.exchanges).map((exchange) => {
      if (!/^[A-Za-z0-9_.-]{1,32}$/.test(exchange))
        throw new InvalidQueryError('exchanges', `${JSON.stringify(exchange)} is not an exchange code`);
      return exchange;
    });
  }
  return selection;
}

function parseWindow(params: QueryParams, now: bigint, defaultSpan: bigint): TimeWindow {
  const to = params.to === undefined ? now : instant('to', params.to, now);
  const from = params.from === undefined ? to - defaultSpan : instant('from', params.from, now);
  if (from >= to) {
    throw new InvalidQueryError(
      'from',
      `${formatIso(from)} is not before to (${formatIso(to)}): the window [from, to) is empty or inverted`,
    );
  }
  const maxWindow =
    params['max-window'] === undefined
      ? queryLimits.defaultMaxWindow
      : duration('max-window', params['max-window']);
  if (to - from > maxWindow) {
    throw new InvalidQueryError(
      'from',
      `the window ${formatIso(from)} .. ${formatIso(to)} spans ${formatDuration(to - from)}, more than the ` +
        `${formatDuration(maxWindow)} allowed; narrow it, or raise max-window if you mean it`,
    );
  }
  return { from, to };
}

function checkBuckets(window: TimeWindow, interval: BarInterval): void {
  const buckets = (window.to - window.from + barIntervals[interval] - 1n) / barIntervals[interval];
  if (buckets > queryLimits.maxBucketsPerSeries) {
    throw new InvalidQueryError(
      'interval',
      `${interval} bars over ${formatDuration(window.to - window.from)} are up to ${buckets.toLocaleString('en-US')} ` +
        `bars per symbol, more than ${queryLimits.maxBucketsPerSeries.toLocaleString('en-US')}; use a longer interval or a shorter window`,
    );
  }
}

function instant(name: string, text: string, now: bigint): bigint {
  const value = parseInstant(text, now);
  if (value === undefined) {
    throw new InvalidQueryError(
      name,
      `${JSON.stringify(text)} is not a time: use ISO-8601 (2025-01-01T09:30:00Z, 2025-01-01), microseconds since the epoch, now or -15m`,
    );
  }
  if (value < 0n || value > queryLimits.latestInstant)
    throw new InvalidQueryError(name, `${text} is outside 1970-01-01 .. 2200-01-01`);
  return value;
}

function duration(name: string, text: string): bigint {
  const value = parseDuration(text);
  if (value === undefined || value === 0n)
    throw new InvalidQueryError(
      name,
      `${JSON.stringify(text)} is not a duration such as 90s, 15m, 12h or 7d`,
    );
  return value;
}

function timeout(text: string): number {
  const micros = duration('timeout', text);
  const ms = Number(micros / 1_000n);
  if (ms < 100 || ms > queryLimits.maxTimeoutMs)
    throw new InvalidQueryError('timeout', `must be between 100ms and ${queryLimits.maxTimeoutMs / 60_000}m`);
  return ms;
}

function count(name: string, text: string, max: number): number {
  if (!/^\d{1,9}$/.test(text.trim()))
    throw new InvalidQueryError(name, `${JSON.stringify(text)} is not a whole number`);
  const value = Number(text);
  if (value < 1 || value > max)
    throw new InvalidQueryError(name, `must be between 1 and ${max.toLocaleString('en-US')}`);
  return value;
}

function flag(name: string, text: string | undefined): boolean {
  if (text === undefined || text === 'false' || text === '0') return false;
  if (text === '' || text === 'true' || text === '1') return true;
  throw new InvalidQueryError(name, 'expected true or false');
}

function oneOf<T extends string>(name: string, text: string | undefined, values: readonly T[]): T {
  if (text !== undefined && (values as readonly string[]).includes(text)) return text as T;
  throw new InvalidQueryError(
    name,
    text === undefined
      ? `is required: one of ${values.join(', ')}`
      : `${JSON.stringify(text)} is not one of ${values.join(', ')}`,
  );
}

function list(name: string, text: string): string[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  if (items.length === 0) throw new InvalidQueryError(name, 'is empty');
  return [...new Set(items)];
}

/** Symbols are free text on some venues (`BRK.B`, `BTC/USDT`, even non-ASCII): refuse only what cannot be one. */
function symbols(text: string): string[] {
  const items = list('symbols', text);
  if (items.length > queryLimits.maxSymbols)
    throw new InvalidQueryError('symbols', `at most ${queryLimits.maxSymbols} symbols per query`);
  for (const symbol of items) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
    if ([...symbol].length > 64 || /[\u0000-\u001f\u007f]/.test(symbol))
      throw new InvalidQueryError(
        'symbols',
        `${JSON.stringify(symbol)} is not a symbol (1-64 printable characters)`,
      );
  }
  return items;
}

function qualify(name: string, namespace: string): string {
  return name.includes('.') ? name : `${namespace}.${name}`;
}

function tableName(parameter: string, name: string): string {
  try {
    return identifierString(parseIdentifier(name));
  } catch (error) {
    if (error instanceof K2Error) throw new InvalidQueryError(parameter, error.message);
    throw error;
  }
}
