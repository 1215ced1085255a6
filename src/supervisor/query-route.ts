import type { IncomingMessage, ServerResponse } from 'node:http';
import type { K2Config } from '../config/index.js';
import type { QueryHandler, QueryService } from '../query/index.js';
import type { CodecPool } from '../workers/pool.js';

export interface LazyQueryRoute {
  handler: (req: IncomingMessage, res: ServerResponse) => boolean;
  close(): Promise<void>;
}

/**
 * GET /query on the supervisor, with the query engine loaded by the first request instead of at
 * start-up: DuckDB's library and database cost ~38 MB resident (measured), which an ingest-only
 * supervisor never needs. A failed opening answers 503 and is retried by the next request.
 */
export function lazyQueryRoute(
  config: K2Config,
  pool: CodecPool,
  onError: (error: unknown) => void,
  path = '/query',
): LazyQueryRoute {
  return lazyRoute(
    async () => {
      const query = await import('../query/index.js');
      const service = await query.openQueryService(config, { pool });
      return { service, handle: query.createQueryHandler({ service, onError, path }) };
    },
    onError,
    path,
  );
}

/** What the route opens on first use: something to close, and the request handler. */
export interface OpenedRoute {
  service: Pick<QueryService, 'close'>;
  handle: QueryHandler;
}

/** The route around any opener (the query service in production, a stand-in in unit tests). */
export function lazyRoute(
  openRoute: () => Promise<OpenedRoute>,
  onError: (error: unknown) => void,
  path: string,
): LazyQueryRoute {
  let opened: Promise<OpenedRoute> | undefined;
  let closed = false;
  const open = () => {
    opened ??= openRoute();
    opened.catch(() => {
      opened = undefined;
    });
    return opened;
  };
  return {
    handler: (req, res) => {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== path) return false;
      if (closed) {
        unavailable(res, 'the supervisor is stopping');
        return true;
      }
      open().then(
        ({ handle }) => handle(req, res),
        (error: unknown) => {
          onError(error);
          unavailable(res, `the query engine could not be opened: ${(error as Error).message}`);
        },
      );
      return true;
    },
    close: async () => {
      closed = true;
      const service = await opened?.then((o) => o.service).catch(() => undefined);
      await service?.close();
    },
  };
}

function unavailable(res: ServerResponse, message: string): void {
  if (res.headersSent) return;
  res.writeHead(503, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify({ error: { code: 'K2_QUERY_UNAVAILABLE', message } })}\n`);
}
