import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type LazyQueryRoute, lazyRoute, type OpenedRoute } from '../../src/supervisor/query-route.js';

let server: Server | undefined;
afterEach(() => server?.close());

async function serve(route: LazyQueryRoute): Promise<string> {
  server = createServer((req, res) => {
    if (!route.handler(req, res)) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the supervisor’s lazily opened /query route', () => {
  it('opens nothing until a query comes, answers 503 when opening fails and opens again on the next query', async () => {
    const errors: unknown[] = [];
    let opens = 0;
    let closes = 0;
    const route = lazyRoute(
      async (): Promise<OpenedRoute> => {
        opens++;
        if (opens === 1) throw new Error('catalog unreachable');
        return {
          service: { close: async () => void closes++ },
          handle: (_req, res) => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end('{"rows":[]}');
            return true;
          },
        };
      },
      (error) => errors.push(error),
      '/query',
    );
    const base = await serve(route);
    expect((await fetch(`${base}/status`)).status).toBe(404);
    expect(opens).toBe(0);

    const failed = await fetch(`${base}/query?kind=trades`);
    expect(failed.status).toBe(503);
    expect(await failed.json()).toEqual({
      error: {
        code: 'K2_QUERY_UNAVAILABLE',
        message: 'the query engine could not be opened: catalog unreachable',
      },
    });
    expect(errors).toHaveLength(1);

    expect((await fetch(`${base}/query?kind=trades`)).status).toBe(200);
    expect((await fetch(`${base}/query?kind=trades`)).status).toBe(200);
    expect(opens).toBe(2); // opened once after the failure, then kept

    await route.close();
    expect(closes).toBe(1);
    expect((await fetch(`${base}/query?kind=trades`)).status).toBe(503);
  });
});
