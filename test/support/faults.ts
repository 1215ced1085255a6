import { createServer, request as httpRequest } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';

export interface FaultyS3Proxy {
  endpoint: string;
  /** Requests answered with an injected 503 so far. */
  failed(): number;
  /** While on, every request is answered 503 SlowDown. */
  failAll(on: boolean): void;
  /** The next GET whose path matches is answered 404 NoSuchKey, as if the object had been deleted. */
  hideOnce(path: RegExp): void;
  /** GETs answered 404 by hideOnce so far. */
  hidden(): number;
  close(): Promise<void>;
}

/**
 * An HTTP proxy to S3 (loopback only) that answers 503 SlowDown to the first `failures` requests,
 * and to every request while `failAll(true)`; the rest go to `target` unchanged (same Host header,
 * so SigV4 signatures still verify).
 */
export async function faultyS3Proxy(target: string, failures = 0): Promise<FaultyS3Proxy> {
  const upstream = new URL(target);
  let failed = 0;
  let left = failures;
  let outage = false;
  let hide: RegExp | undefined;
  let hidden = 0;
  const server = createServer((req, res) => {
    if (hide !== undefined && req.method === 'GET' && hide.test(req.url ?? '')) {
      hide = undefined;
      hidden++;
      req.resume();
      res.writeHead(404, { 'content-type': 'application/xml', connection: 'close' });
      res.end('<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>hidden</Message></Error>');
      return;
    }
    if (outage || left > 0) {
      left--;
      failed++;
      // As S3 does, the connection is closed after an error answer: a body the client holds back
      // (Expect: 100-continue) must not be read as the next request on a kept-alive socket.
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml', connection: 'close' });
      res.end('<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>injected</Message></Error>');
      return;
    }
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failed: () => failed,
    failAll: (on) => {
      outage = on;
    },
    hideOnce: (path) => {
      hide = path;
    },
    hidden: () => hidden,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TcpCut {
  port: number;
  /** Connections refused (accepted and reset at once) while down. */
  refused(): number;
  /** Down: every open connection is reset and new ones are reset on arrival; up: traffic flows again. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 in front of 127.0.0.1:`targetPort` that can cut the service off. */
export async function tcpCut(targetPort: number): Promise<TcpCut> {
  const open = new Set<Socket>();
  let down = false;
  let refused = 0;
  const server = createTcpServer((client) => {
    if (down) {
      refused++;
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    const end = () => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('error', end);
      socket.on('close', end);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    refused: () => refused,
    setDown: (on) => {
      down = on;
      if (on) for (const socket of open) socket.resetAndDestroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
