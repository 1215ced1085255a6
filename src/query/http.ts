import type { IncomingMessage, ServerResponse } from 'node:http';
import { K2Error } from '../errors/index.js';
import {
  InvalidQueryError,
  MalformedSqlError,
  PartialAnswerError,
  QueryBusyError,
  QueryTimeoutError,
  SqlRejectedError,
  TooManyRowsError,
  UnknownSymbolError,
  UnknownTableError,
  WarehouseUnavailableError,
} from './errors.js';
import {
  contentTypes,
  type OutputFormat,
  outputFormats,
  render,
  type TimestampStyle,
} from './format/index.js';
import { parameterNames, parseQueryRequest, type QueryParams } from './request.js';
import type { QueryService } from './service.js';
import { nowMicros } from './time.js';

export interface QueryHandlerOptions {
  service: QueryService;
  /** Path served; default /query. */
  path?: string;
  now?: () => bigint;
  /** Where unexpected errors are reported (the response only says "internal error"). */
  onError?: (error: unknown) => void;
}

/** Handles the request and returns true when it is for this path; false lets the caller route it elsewhere. */
export type QueryHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const extraParameters = ['format', 'timestamps'] as const;
/** Singular spellings accepted in query strings. */
const aliases: Record<string, string> = {
  symbol: 'symbols',
  exchange: 'exchanges',
  topic: 'topics',
  q: 'sql',
};

/**
 * GET /query?kind=bars&symbols=BTCUSDT&from=2025-01-01&interval=1m[&format=json|csv|arrow|table]:
 * the same parameters as `k2 query` flags. JSON by default (or by Accept); the answer's provenance
 * is in the JSON `meta` and, for every format, in X-K2-* headers.
 */
export function createQueryHandler(options: QueryHandlerOptions): QueryHandler {
  const path = options.path ?? '/query';
  const now = options.now ?? nowMicros;
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'application/json' });
      res.end(errorBody('K2_QUERY_METHOD', 'use GET'));
      return true;
    }
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('the client closed the connection'));
    });
    serve(options.service, url, req, res, now(), controller.signal).catch((error: unknown) => {
      const status = statusOf(error);
      if (status === 500) options.onError?.(error);
      if (res.headersSent) return res.destroy();
      const code = error instanceof K2Error ? error.code : 'K2_INTERNAL';
      const message = error instanceof K2Error ? error.message : 'internal error';
      res.writeHead(status, {
        'content-type': 'application/json',
        ...(error instanceof QueryBusyError ? { 'retry-after': '1' } : {}),
      });
      res.end(errorBody(code, message));
    });
    return true;
  };
}

async function serve(
  service: QueryService,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  now: bigint,
  signal: AbortSignal,
): Promise<void> {
  const params: Record<string, string> = {};
  for (const [raw, value] of url.searchParams) {
    const name = aliases[raw] ?? raw;
    if (
      !(parameterNames as readonly string[]).includes(name) &&
      !(extraParameters as readonly string[]).includes(name)
    ) {
      throw new InvalidQueryError(
        raw,
        `unknown parameter; known: ${[...parameterNames, ...extraParameters].join(', ')}`,
      );
    }
    params[name] = params[name] === undefined ? value : `${params[name]},${value}`;
  }
  const format = formatOf(params.format, req.headers.accept);
  const style = (params.timestamps ?? 'iso') as TimestampStyle;
  if (style !== 'iso' && style !== 'micros')
    throw new InvalidQueryError('timestamps', 'expected iso or micros');
  const request = parseQueryRequest(params as QueryParams, now);
  const result = await service.run(request, signal);
  const body = render(result, format, style);
  res.writeHead(200, {
    'content-type': contentTypes[format],
    'x-k2-rows-iceberg': String(result.meta.rows.iceberg),
    'x-k2-rows-kafka': String(result.meta.rows.kafka),
    'x-k2-partial': String(result.meta.partial),
    'x-k2-warnings': encodeURIComponent(
      result.meta.warnings.map((w) => `${w.code}: ${w.message}`).join('\n'),
    ),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function formatOf(requested: string | undefined, accept: string | undefined): OutputFormat {
  if (requested !== undefined) {
    if (!(outputFormats as readonly string[]).includes(requested))
      throw new InvalidQueryError('format', `expected one of ${outputFormats.join(', ')}`);
    return requested as OutputFormat;
  }
  if (accept?.includes('text/csv')) return 'csv';
  if (accept?.includes('application/vnd.apache.arrow')) return 'arrow';
  return 'json';
}

/** HTTP status by error class: bad input 400, unknown names 404, overload 429, dependencies 503. */
export function statusOf(error: unknown): number {
  if (
    error instanceof InvalidQueryError ||
    error instanceof SqlRejectedError ||
    error instanceof MalformedSqlError ||
    error instanceof TooManyRowsError
  )
    return 400;
  if (error instanceof UnknownTableError || error instanceof UnknownSymbolError) return 404;
  if (error instanceof QueryBusyError) return 429;
  if (error instanceof QueryTimeoutError) return 504;
  if (error instanceof WarehouseUnavailableError || error instanceof PartialAnswerError) return 503;
  if (error instanceof K2Error && error.code === 'K2_ICEBERG_INVALID_NAME') return 400;
  return 500;
}

function errorBody(code: string, message: string): string {
  return `${JSON.stringify({ error: { code, message } })}\n`;
}
