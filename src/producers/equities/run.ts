import { marketTopic } from '../../kafka/topics.js';
import { encoderOf, type ProducerContext, registerEncoders, throughSink } from '../context.js';
import type { SourceRecordError } from '../errors.js';
import type { SinkTotals } from '../sink.js';
import { type ReplayTotals, replayEquities } from './replay.js';
import { samplePath } from './sample.js';

export const defaultEquitiesTopics = {
  trades: marketTopic('EQUITY', 'trades'),
  quotes: marketTopic('EQUITY', 'quotes'),
};

export interface EquitiesRunOptions {
  /** Default: the bundled sample. Pass undefined for both to replay the sample; null skips a file. */
  tradesPath?: string | null;
  quotesPath?: string | null;
  tradesTopic?: string;
  quotesTopic?: string;
  speed: number;
  batchSize: number;
  onRejected?: (error: SourceRecordError) => void;
  onSent?: (count: number) => void;
}

export interface EquitiesRunResult extends ReplayTotals {
  sink: SinkTotals;
}

/** Replays equities trades and quotes files (the bundled sample by default) into their topics. */
export async function runEquitiesReplay(
  context: ProducerContext,
  options: EquitiesRunOptions,
): Promise<EquitiesRunResult> {
  const tradesTopic = options.tradesTopic ?? defaultEquitiesTopics.trades;
  const quotesTopic = options.quotesTopic ?? defaultEquitiesTopics.quotes;
  const trades = await registerEncoders(context, 'trade_v2', [tradesTopic]);
  const quotes = await registerEncoders(context, 'quote_v2', [quotesTopic]);
  return throughSink(context, 'equities', options.onRejected, (sink, onRejected) =>
    replayEquities({
      tradesPath: options.tradesPath === undefined ? samplePath('trades') : (options.tradesPath ?? undefined),
      quotesPath: options.quotesPath === undefined ? samplePath('quotes') : (options.quotesPath ?? undefined),
      tradesTopic,
      quotesTopic,
      encoders: { trade: encoderOf(trades)(tradesTopic), quote: encoderOf(quotes)(quotesTopic) },
      send: (batches) => sink.enqueue(batches),
      speed: options.speed,
      clock: context.clock,
      batchSize: options.batchSize,
      signal: context.signal,
      onRejected,
      onSent: options.onSent,
    }),
  );
}
