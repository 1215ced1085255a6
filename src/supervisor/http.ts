import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface HttpEndpoints {
  metrics: Registry;
  /** The process is alive. */
  healthy: () => boolean;
  /** The process can do its job now. */
  ready: () => boolean;
  status: () => unknown;
  /** Handlers tried before the built-in routes (e.g. GET /query); each returns true when it answered. */
  routes?: ((req: IncomingMessage, res: ServerResponse) => boolean)[];
}

/** /metrics, /healthz, /readyz and /status; bound to loopback unless configured otherwise. */
export function startHttp(host: string, port: number, endpoints: HttpEndpoints): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    for (const route of endpoints.routes ?? []) if (route(req, res)) return;
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    switch (path) {
      case '/metrics':
        endpoints.metrics.metrics().then(
          (text) => send(200, endpoints.metrics.contentType, text),
          (error: Error) => send(500, 'text/plain', `${error.message}\n`),
        );
        return;
      case '/healthz':
        return endpoints.healthy() ? send(200, 'text/plain', 'ok\n') : send(503, 'text/plain', 'unhealthy\n');
      case '/readyz':
        return endpoints.ready()
          ? send(200, 'text/plain', 'ready\n')
          : send(503, 'text/plain', 'not ready\n');
      case '/status':
        return send(200, 'application/json', `${JSON.stringify(endpoints.status(), null, 2)}\n`);
      default:
        return send(404, 'text/plain', 'not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
