import { marketTopic } from '../../kafka/topics.js';
import { StreamBatcher } from '../batcher.js';
import { createSink, encoderOf, type ProducerContext, registerEncoders } from '../context.js';
import type { SinkTotals } from '../sink.js';
import { BinanceTradeFeed, type FeedEvent } from './feed.js';

export interface BinanceRunOptions {
  /** Full stream URL (binanceTradeStreamUrl). */
  url: string;
  topic?: string;
  exchange?: string;
  /** Stop after this many trades (default: run until the signal aborts). */
  maxTrades?: number;
  batchSize?: number;
  lingerMs?: number;
  maxBuffered?: number;
  pingIntervalMs?: number;
  staleAfterMs?: number;
  /** Reconnect delays; `attempts` caps consecutive failed connects. */
  reconnect?: ConstructorParameters<typeof BinanceTradeFeed>[0]['reconnect'];
  onEvent?: (event: FeedEvent) => void;
  onSent?: (count: number) => void;
}

export interface BinanceRunResult {
  trades: number;
  gaps: number;
  missing: number;
  outOfOrder: number;
  rejected: number;
  reconnects: number;
  sink: SinkTotals;
}

/**
 * Streams a Binance-style trade feed into Kafka (market.crypto.trades by default) until the
 * context's signal aborts or maxTrades arrived; the feed's events become metrics and go to onEvent.
 */
export async function runBinance(
  context: ProducerContext,
  options: BinanceRunOptions,
): Promise<BinanceRunResult> {
  const topic = options.topic ?? marketTopic('CRYPTO', 'trades');
  const encoder = encoderOf(await registerEncoders(context, 'trade_v2', [topic]))(topic);
  const sink = createSink(context, 'binance');
  const stop = new AbortController();
  const signal = AbortSignal.any([context.signal, stop.signal]);
  const m = context.metrics.catalogue;
  const source = { source: 'binance' } as const;
  const result: BinanceRunResult = {
    trades: 0,
    gaps: 0,
    missing: 0,
    outOfOrder: 0,
    rejected: 0,
    reconnects: 0,
    sink: sink.totals,
  };

  let feed: BinanceTradeFeed | undefined;
  const batcher = new StreamBatcher({
    send: async (batches) => {
      await sink.enqueue(batches);
      options.onSent?.(batches.reduce((n, batch) => n + batch.messages.length, 0));
    },
    batchSize: options.batchSize ?? 1_000,
    lingerMs: options.lingerMs ?? 20,
    maxBuffered: options.maxBuffered ?? 50_000,
    onPressure: (paused) => (paused ? feed?.pause() : feed?.resume()),
    onBuffered: (count) => m.buffered.set(source, count),
  });
  const onEvent = (event: FeedEvent) => {
    switch (event.type) {
      case 'connected':
        m.feedConnections.inc(source);
        m.feedConnected.set(source, 1);
        break;
      case 'disconnected':
        m.feedDisconnects.inc({ ...source, reason: event.reason });
        m.feedConnected.set(source, 0);
        result.reconnects++;
        break;
      case 'gap':
        m.feedGaps.inc({ ...source, exchange: event.exchange, kind: event.kind });
        m.feedMissing.inc({ ...source, exchange: event.exchange }, event.missing);
        result.gaps++;
        result.missing += event.missing;
        break;
      case 'out-of-order':
        m.feedOutOfOrder.inc({ ...source, exchange: event.exchange });
        result.outOfOrder++;
        break;
      case 'rejected':
        m.sourceRejected.inc({ ...source, reason: event.reason });
        result.rejected++;
        break;
    }
    options.onEvent?.(event);
  };
  feed = new BinanceTradeFeed({
    url: options.url,
    exchange: options.exchange,
    clock: context.clock,
    reconnect: options.reconnect,
    pingIntervalMs: options.pingIntervalMs,
    staleAfterMs: options.staleAfterMs,
    signal,
    onEvent,
    onTrade: (trade) => {
      if (stop.signal.aborted) return;
      batcher.push(topic, { key: trade.symbol, value: encoder.encode(trade) });
      if (++result.trades >= (options.maxTrades ?? Number.POSITIVE_INFINITY)) stop.abort();
    },
  });
  try {
    await feed.run();
  } finally {
    m.feedConnected.set(source, 0);
    await batcher.close();
    await sink.close();
  }
  return result;
}
