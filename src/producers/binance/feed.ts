import WebSocket from 'ws';
import { K2Error } from '../../errors/index.js';
import { backoffDelay, type RetryPolicy, sleep } from '../../util/retry.js';
import { type Clock, nowMicros, systemClock } from '../clock.js';
import { SourceRecordError } from '../errors.js';
import type { TradeV2 } from '../records.js';
import { normaliseTrade, parseTradeFrame } from './normalise.js';
import { TradeIdTracker } from './trade-ids.js';

export const defaultBinanceUrl = 'wss://stream.binance.com:9443';

/** The combined trade stream of `symbols` on a Binance-style endpoint. */
export function binanceTradeStreamUrl(base: string, symbols: readonly string[]): string {
  const streams = symbols.map((symbol) => `${symbol.toLowerCase()}@trade`).join('/');
  return `${base.replace(/\/+$/, '')}/stream?streams=${streams}`;
}

export type DisconnectReason = 'closed' | 'error' | 'stale' | 'aborted';

export type FeedEvent =
  | { type: 'connected'; url: string; attempt: number }
  | { type: 'disconnected'; reason: DisconnectReason; code?: number; detail?: string; retryInMs?: number }
  | {
      type: 'gap';
      exchange: string;
      symbol: string;
      firstMissing: number;
      lastMissing: number;
      missing: number;
      /** `reconnect` when the jump spans a reconnect, `stream` when ids jumped on a live connection. */
      kind: 'reconnect' | 'stream';
    }
  | { type: 'out-of-order'; exchange: string; symbol: string; tradeId: number; lastId: number }
  | { type: 'rejected'; reason: string; detail: string };

export interface BinanceFeedOptions {
  /** Full stream URL (see binanceTradeStreamUrl). */
  url: string;
  exchange?: string;
  clock?: Clock;
  /** Delays between reconnects; `attempts` caps consecutive failed connects (default: unlimited). */
  reconnect?: Partial<RetryPolicy>;
  /** Sends a ping this often; the server's pings and pongs count as signs of life. */
  pingIntervalMs?: number;
  /** Nothing received for this long (no frame, ping or pong): the connection is dropped and reopened. */
  staleAfterMs?: number;
  handshakeTimeoutMs?: number;
  signal: AbortSignal;
  onTrade: (trade: TradeV2) => void;
  onEvent?: (event: FeedEvent) => void;
}

/** The feed stopped reconnecting: `attempts` consecutive connects failed. */
export class FeedUnavailableError extends K2Error {
  constructor(
    readonly url: string,
    attempts: number,
    detail: string,
  ) {
    super('K2_FEED_UNAVAILABLE', `${url}: ${attempts} connection attempts failed in a row, last: ${detail}`, {
      retriable: true,
    });
  }
}

/**
 * A Binance-style trade stream client: normalises each trade to trade_v2, reconnects with backoff
 * when the connection drops or goes silent (pings both ways), and reports trade id gaps, late
 * trades and malformed frames as events; none of them stops the feed.
 */
export class BinanceTradeFeed {
  readonly #options: BinanceFeedOptions;
  readonly #exchange: string;
  readonly #clock: Clock;
  readonly #tracker = new TradeIdTracker();
  #socket: WebSocket | undefined;
  #paused = false;

  constructor(options: BinanceFeedOptions) {
    this.#options = options;
    this.#exchange = options.exchange ?? 'BINANCE';
    this.#clock = options.clock ?? systemClock;
  }

  /** Stops reading from the socket (backpressure); the server's frames wait in TCP buffers. */
  pause(): void {
    this.#paused = true;
    this.#socket?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#socket?.resume();
  }

  /** Runs until the signal aborts; rejects with FeedUnavailableError when reconnecting is exhausted. */
  async run(): Promise<void> {
    const { signal } = this.#options;
    const policy: RetryPolicy = {
      attempts: Number.POSITIVE_INFINITY,
      initialDelayMs: 500,
      maxDelayMs: 30_000,
      factor: 2,
      jitter: 0.2,
      ...this.#options.reconnect,
    };
    let failures = 0;
    for (let attempt = 1; !signal.aborted; attempt++) {
      const outcome = await this.#connectOnce(attempt);
      if (signal.aborted) return;
      failures = outcome.opened ? 0 : failures + 1;
      if (failures >= policy.attempts)
        throw new FeedUnavailableError(this.#options.url, failures, outcome.detail);
      const retryInMs = backoffDelay(policy, Math.max(1, failures));
      this.#emit({ type: 'disconnected', ...outcome.event, retryInMs });
      this.#tracker.reconnected();
      await sleep(retryInMs, signal).catch(() => undefined);
    }
  }

  #connectOnce(attempt: number): Promise<{
    opened: boolean;
    detail: string;
    event: { reason: DisconnectReason; code?: number; detail?: string };
  }> {
    const { url, signal } = this.#options;
    const pingIntervalMs = this.#options.pingIntervalMs ?? 15_000;
    const staleAfterMs = this.#options.staleAfterMs ?? 45_000;
    return new Promise((resolve) => {
      const socket = new WebSocket(url, {
        handshakeTimeout: this.#options.handshakeTimeoutMs ?? 10_000,
        perMessageDeflate: false,
      });
      this.#socket = socket;
      let opened = false;
      let reason: DisconnectReason = 'closed';
      let detail = '';
      let lastSeen = performance.now();
      const alive = () => {
        lastSeen = performance.now();
      };
      const heartbeat = setInterval(
        () => {
          if (performance.now() - lastSeen > staleAfterMs) {
            reason = 'stale';
            detail = `nothing received for ${staleAfterMs} ms`;
            socket.terminate();
          } else if (socket.readyState === WebSocket.OPEN) socket.ping();
        },
        Math.min(pingIntervalMs, staleAfterMs / 2),
      );
      const onAbort = () => {
        reason = 'aborted';
        socket.close(1000);
        // A peer that never answers the close frame must not hold the shutdown.
        setTimeout(() => socket.terminate(), 1_000).unref();
      };
      signal.addEventListener('abort', onAbort, { once: true });

      socket.on('open', () => {
        opened = true;
        alive();
        if (this.#paused) socket.pause();
        this.#emit({ type: 'connected', url, attempt });
      });
      socket.on('ping', alive);
      socket.on('pong', alive);
      socket.on('message', (data, isBinary) => {
        alive();
        this.#onFrame(data, isBinary);
      });
      socket.on('error', (error) => {
        if (reason === 'closed') reason = 'error';
        detail = error.message;
      });
      socket.on('close', (code, why) => {
        clearInterval(heartbeat);
        signal.removeEventListener('abort', onAbort);
        this.#socket = undefined;
        const text = detail || `close ${code}${why.length > 0 ? ` ${why.toString()}` : ''}`;
        resolve({ opened, detail: text, event: { reason, code, detail: text } });
      });
    });
  }

  #onFrame(data: WebSocket.RawData, isBinary: boolean): void {
    const receivedMicros = nowMicros(this.#clock);
    try {
      if (isBinary) throw new SourceRecordError('binary', 'frame', 'binary frame on a text stream');
      const event = parseTradeFrame(data.toString());
      const trade = normaliseTrade(event, { exchange: this.#exchange, receivedMicros });
      this.#track(event.s, event.t);
      this.#options.onTrade(trade);
    } catch (error) {
      if (!(error instanceof SourceRecordError)) throw error;
      this.#emit({ type: 'rejected', reason: error.reason, detail: error.message });
    }
  }

  #track(symbol: string, id: number): void {
    const lastId = this.#tracker.lastId(symbol);
    const verdict = this.#tracker.observe(symbol, id);
    if (verdict.kind === 'gap')
      this.#emit({
        type: 'gap',
        exchange: this.#exchange,
        symbol,
        firstMissing: verdict.firstMissing,
        lastMissing: verdict.lastMissing,
        missing: verdict.missing,
        kind: verdict.afterReconnect ? 'reconnect' : 'stream',
      });
    else if (verdict.kind === 'late' || verdict.kind === 'repeat')
      this.#emit({ type: 'out-of-order', exchange: this.#exchange, symbol, tradeId: id, lastId: lastId! });
  }

  #emit(event: FeedEvent): void {
    this.#options.onEvent?.(event);
  }
}
