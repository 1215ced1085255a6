import { type Clock, nowMicros } from '../clock.js';
import { type CsvRow, readCsv } from '../csv.js';
import type { RecordEncoder } from '../encode.js';
import { SourceRecordError } from '../errors.js';
import { replayPaced } from '../pacer.js';
import type { Micros, QuoteV2, TradeV2 } from '../records.js';
import type { OutboundMessage, TopicBatch } from '../sink.js';
import { quoteFromRow, tradeFromRow } from './rows.js';

export type ReplayItem = { kind: 'trade'; record: TradeV2 } | { kind: 'quote'; record: QuoteV2 };

export interface EquitiesReplayOptions {
  /** Trades CSV (see README), sorted by timestamp. */
  tradesPath?: string;
  /** Quotes CSV, sorted by timestamp. */
  quotesPath?: string;
  tradesTopic: string;
  quotesTopic: string;
  encoders: { trade: RecordEncoder<'trade_v2'>; quote: RecordEncoder<'quote_v2'> };
  /** KafkaSink.enqueue, or a test double. */
  send: (batches: TopicBatch[]) => Promise<void>;
  /** 1: the original pace; N: N times faster; Infinity: as fast as possible. */
  speed: number;
  clock: Clock;
  batchSize: number;
  signal?: AbortSignal;
  onRejected?: (error: SourceRecordError) => void;
  onSent?: (count: number) => void;
}

export interface ReplayTotals {
  trades: number;
  quotes: number;
  rejected: number;
}

/**
 * Replays trades and quotes files merged by timestamp, paced by event time. Per-symbol order is
 * the files' order: records are keyed by symbol, batches go out one after another, and a batch
 * keeps its records' order in each partition.
 */
export async function replayEquities(options: EquitiesReplayOptions): Promise<ReplayTotals> {
  const totals: ReplayTotals = { trades: 0, quotes: 0, rejected: 0 };
  const reject = (error: unknown) => {
    if (!(error instanceof SourceRecordError)) throw error;
    totals.rejected++;
    options.onRejected?.(error);
  };
  const sources: AsyncIterable<ReplayItem>[] = [];
  if (options.tradesPath)
    sources.push(rowsOf(options.tradesPath, (row) => ({ kind: 'trade', record: tradeFromRow(row) }), reject));
  if (options.quotesPath)
    sources.push(rowsOf(options.quotesPath, (row) => ({ kind: 'quote', record: quoteFromRow(row) }), reject));

  await replayPaced(
    mergeByTime(sources, (item) => item.record.timestamp),
    {
      clock: options.clock,
      speed: options.speed,
      batchSize: options.batchSize,
      signal: options.signal,
      eventMicros: (item) => item.record.timestamp,
      flush: async (items) => {
        const ingested = nowMicros(options.clock);
        const trades: OutboundMessage[] = [];
        const quotes: OutboundMessage[] = [];
        for (const item of items) {
          item.record.ingestion_timestamp = ingested;
          if (item.kind === 'trade')
            trades.push({ key: item.record.symbol, value: options.encoders.trade.encode(item.record) });
          else quotes.push({ key: item.record.symbol, value: options.encoders.quote.encode(item.record) });
        }
        totals.trades += trades.length;
        totals.quotes += quotes.length;
        await options.send([
          { topic: options.tradesTopic, messages: trades },
          { topic: options.quotesTopic, messages: quotes },
        ]);
        options.onSent?.(items.length);
      },
    },
  );
  return totals;
}

async function* rowsOf<T>(
  path: string,
  convert: (row: CsvRow) => T,
  reject: (error: unknown) => void,
): AsyncGenerator<T> {
  for await (const row of readCsv(path)) {
    let item: T;
    try {
      item = convert(row);
    } catch (error) {
      reject(error);
      continue;
    }
    yield item;
  }
}

/** Merges sources that are each in time order into one in time order; on equal times, the earlier source first. */
export async function* mergeByTime<T>(
  sources: readonly (AsyncIterable<T> | Iterable<T>)[],
  timeOf: (item: T) => Micros,
): AsyncGenerator<T> {
  const iterators = sources.map((source) =>
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source[Symbol.iterator]()),
  );
  const heads = await Promise.all(iterators.map((it) => it.next()));
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (head.done) continue;
      if (best < 0 || timeOf(head.value) < timeOf((heads[best] as IteratorYieldResult<T>).value)) best = i;
    }
    if (best < 0) return;
    yield (heads[best] as IteratorYieldResult<T>).value;
    heads[best] = await iterators[best]!.next();
  }
}

function toAsync<T>(iterator: Iterator<T>): AsyncIterator<T> {
  return { next: async () => iterator.next() };
}
