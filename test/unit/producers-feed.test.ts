import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  type BinanceFeedOptions,
  BinanceTradeFeed,
  binanceTradeStreamUrl,
  type FeedEvent,
  FeedUnavailableError,
} from '../../src/producers/binance/feed.js';
import type { TradeV2 } from '../../src/producers/records.js';

/** A frame in the format Binance's combined trade stream sends (recorded shape, made-up values). */
function recorded(t: number, symbol = 'BTCUSDT', m = t % 2 === 0): string {
  const T = 1_735_689_600_000 + t;
  return JSON.stringify({
    stream: `${symbol.toLowerCase()}@trade`,
    data: {
      e: 'trade',
      E: T + 2,
      s: symbol,
      t,
      p: `97${String(t % 1000).padStart(3, '0')}.12000000`,
      q: '0.01000000',
      T,
      m,
      M: true,
    },
  });
}

type Step =
  | { send: string | Buffer }
  | { close: number }
  | { terminate: true }
  | { wait: number }
  /** Stop sending and never answer pings (the server side was made without auto pong). */
  | { hang: true }
  | { ping: true };

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A local websocket server that plays one script per connection, in order. */
async function replayServer(scripts: Step[][], options: { autoPong?: boolean } = {}) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: options.autoPong ?? true });
  servers.push(server);
  let connections = 0;
  server.on('connection', async (socket: WebSocket) => {
    const steps = scripts[connections++] ?? [{ hang: true }];
    for (const step of steps) {
      if ('send' in step) socket.send(step.send, { binary: Buffer.isBuffer(step.send) });
      else if ('close' in step) return socket.close(step.close);
      else if ('terminate' in step) return socket.terminate();
      else if ('wait' in step) await new Promise((r) => setTimeout(r, step.wait));
      else if ('ping' in step) socket.ping();
      else if ('hang' in step) return;
    }
  });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: binanceTradeStreamUrl(`ws://127.0.0.1:${port}`, ['btcusdt', 'ethusdt']),
    connections: () => connections,
  };
}

interface Run {
  trades: TradeV2[];
  events: FeedEvent[];
  error?: unknown;
}

/** Runs a feed until `done` holds (or the deadline), then aborts it and returns what it saw. */
async function runFeed(
  url: string,
  done: (run: Run) => boolean,
  options: Partial<BinanceFeedOptions> = {},
  deadlineMs = 8_000,
): Promise<Run> {
  const run: Run = { trades: [], events: [] };
  const controller = new AbortController();
  const check = () => {
    if (done(run)) controller.abort();
  };
  const feed = new BinanceTradeFeed({
    url,
    signal: controller.signal,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100, jitter: 0 },
    pingIntervalMs: 50,
    staleAfterMs: 600,
    ...options,
    onTrade: (trade) => {
      run.trades.push(trade);
      check();
    },
    onEvent: (event) => {
      run.events.push(event);
      check();
    },
  });
  const deadline = setTimeout(() => controller.abort(), deadlineMs);
  try {
    await feed.run();
  } catch (error) {
    run.error = error;
  } finally {
    clearTimeout(deadline);
  }
  return run;
}

const ids = (run: Run) => run.trades.map((t) => t.source_sequence);
const ofType = <T extends FeedEvent['type']>(run: Run, type: T) =>
  run.events.filter((e): e is Extract<FeedEvent, { type: T }> => e.type === type);

describe('Binance trade feed against a local websocket server', () => {
  it('delivers normalised trades in arrival order, skipping and reporting malformed frames without dropping the connection', async () => {
    const server = await replayServer([
      [
        { send: recorded(1) },
        { send: '{"e":"trade","s":' },
        { send: recorded(2) },
        { send: JSON.stringify({ result: null, id: 1 }) },
        { send: Buffer.from([1, 2, 3]) },
        { send: recorded(3).replace('"p":"97003.12000000"', '"p":"97003.123456789"') },
        { send: recorded(4) },
        { send: recorded(1, 'ETHUSDT') },
      ],
    ]);
    const run = await runFeed(server.url, (r) => r.trades.length >= 4);
    expect(ids(run)).toEqual([1, 2, 4, 1]);
    expect(run.trades[0]).toMatchObject({
      symbol: 'BTCUSDT',
      exchange: 'BINANCE',
      price: 9_700_112_000_000n,
      side: 'BUY',
    });
    expect(run.trades[3]!.symbol).toBe('ETHUSDT');
    expect(ofType(run, 'rejected').map((e) => e.reason)).toEqual([
      'not-json',
      'not-trade',
      'binary',
      'bad-decimal',
    ]);
    expect(ofType(run, 'gap')).toEqual([
      {
        type: 'gap',
        exchange: 'BINANCE',
        symbol: 'BTCUSDT',
        firstMissing: 3,
        lastMissing: 3,
        missing: 1,
        kind: 'stream',
      },
    ]);
    expect(ofType(run, 'connected')).toHaveLength(1);
    expect(ofType(run, 'disconnected')).toHaveLength(0);
  });

  it('passes out-of-order trades through unchanged and reports them', async () => {
    const server = await replayServer([[5, 6, 8, 7, 9, 9].map((t) => ({ send: recorded(t) }))]);
    const run = await runFeed(server.url, (r) => r.trades.length >= 6);
    expect(ids(run)).toEqual([5, 6, 8, 7, 9, 9]);
    expect(ofType(run, 'out-of-order').map((e) => [e.tradeId, e.lastId])).toEqual([
      [7, 8],
      [9, 9],
    ]);
    expect(ofType(run, 'gap').map((e) => e.missing)).toEqual([1]);
  });

  it('reconnects after a close and after a dropped socket, and reports the trade ids missed in between', async () => {
    const server = await replayServer([
      [{ send: recorded(100) }, { send: recorded(101) }, { close: 1001 }],
      [{ send: recorded(105) }, { send: recorded(106) }, { terminate: true }],
      [{ send: recorded(107) }, { send: recorded(110) }],
    ]);
    const run = await runFeed(server.url, (r) => r.trades.length >= 6);
    expect(ids(run)).toEqual([100, 101, 105, 106, 107, 110]);
    expect(ofType(run, 'disconnected').map((e) => [e.reason, e.code])).toEqual([
      ['closed', 1001],
      ['closed', 1006],
    ]);
    expect(ofType(run, 'connected').map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(ofType(run, 'gap').map((e) => [e.firstMissing, e.lastMissing, e.kind])).toEqual([
      [102, 104, 'reconnect'],
      [108, 109, 'stream'],
    ]);
  });

  it('drops a connection that goes silent (no frames, no pongs) and reconnects', async () => {
    const server = await replayServer([[{ send: recorded(1) }, { hang: true }], [{ send: recorded(2) }]], {
      autoPong: false,
    });
    const started = performance.now();
    const run = await runFeed(server.url, (r) => r.trades.length >= 2);
    expect(ids(run)).toEqual([1, 2]);
    expect(ofType(run, 'disconnected')[0]).toMatchObject({ reason: 'stale' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('keeps a quiet connection whose server answers pings open past the stale limit', async () => {
    const server = await replayServer([
      [{ send: recorded(1) }, { wait: 1_500 }, { ping: true }, { send: recorded(2) }],
    ]);
    const run = await runFeed(server.url, (r) => r.trades.length >= 2);
    expect(ids(run)).toEqual([1, 2]);
    expect(ofType(run, 'disconnected')).toEqual([]);
    expect(server.connections()).toBe(1);
  });

  it('gives up after the configured number of failed connects in a row', async () => {
    const server = await replayServer([]);
    const url = server.url;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const run = await runFeed(url, () => false, {
      reconnect: { attempts: 3, initialDelayMs: 10, maxDelayMs: 20 },
    });
    expect(run.error).toBeInstanceOf(FeedUnavailableError);
    expect(ofType(run, 'disconnected').map((e) => e.reason)).toEqual(['error', 'error']);
    expect(run.trades).toEqual([]);
  });

  it('backs off between failed connects and stops waiting when aborted', async () => {
    const server = await replayServer([]);
    const url = server.url;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const started = performance.now();
    const run = await runFeed(url, (r) => ofType(r, 'disconnected').length >= 3, {
      reconnect: { initialDelayMs: 40, factor: 2, maxDelayMs: 1_000, jitter: 0 },
    });
    expect(ofType(run, 'disconnected').map((e) => e.retryInMs)).toEqual([40, 80, 160]);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('holds frames while paused and delivers them after resume', async () => {
    const server = await replayServer([[{ wait: 100 }, ...[1, 2, 3].map((t) => ({ send: recorded(t) }))]]);
    const controller = new AbortController();
    const trades: TradeV2[] = [];
    const feed = new BinanceTradeFeed({
      url: server.url,
      signal: controller.signal,
      onTrade: (trade) => trades.push(trade),
    });
    feed.pause();
    const running = feed.run();
    await new Promise((r) => setTimeout(r, 400));
    expect(trades).toEqual([]);
    feed.resume();
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    await running;
    expect(ids({ trades, events: [] })).toEqual([1, 2, 3]);
  });
});
