import { createServer, type Server } from 'node:http';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config/index.js';
import { K2Error } from '../errors/index.js';
import type { FeedEvent } from '../producers/binance/feed.js';
import type { ProducerContext } from '../producers/context.js';
import type { SourceRecordError } from '../producers/errors.js';
import type { Progress } from '../producers/progress.js';
import { type PoisonKind, poisonKinds } from '../producers/synthetic/poison.js';

interface CommonOptions {
  partitions: number;
  createTopics: boolean;
  metricsPort?: number;
  progress: boolean;
  json?: boolean;
  config?: string;
}

/** `k2 produce ...`: publish market data to Kafka as Avro through the schema registry. */
export function registerProduceCommands(program: Command): void {
  const produce = program
    .command('produce')
    .description(
      'publish market data to Kafka (Avro, Confluent framing, idempotent producer, keyed by symbol)',
    );

  common(produce.command('synthetic'))
    .description(
      'deterministic synthetic trades for benchmarks, with injected gaps, duplicates and poison records',
    )
    .option('--count <n>', 'messages to send (trades, duplicates and poison together)', positiveInt, 100_000)
    .option('--symbols <list>', 'comma-separated symbols (USDT/BTC/... pairs are crypto, others equities)')
    .option('--topic <topic>', 'one topic for all (default: market.<asset class>.trades per symbol)')
    .option('--exchange <name>', 'venue written into the trades', 'SYNTH')
    .option(
      '--rate <n|max>',
      'trades per second; max: as fast as Kafka takes them (event times 100,000/s)',
      rate,
      'max',
    )
    .option('--burstiness <0..1>', '0 steady; towards 1 bursty (same mean rate)', fraction, 0)
    .option('--gap-rate <p>', 'probability that a trade skips sequence numbers', fraction, 0)
    .option('--max-gap <n>', 'most sequence numbers one gap skips', positiveInt, 5)
    .option(
      '--duplicate-rate <p>',
      "probability that a message resends the symbol's previous trade",
      fraction,
      0,
    )
    .option('--poison <kind=p,...>', `poison rates per kind: all, ${poisonKinds.join(', ')}`, poison)
    .option('--seed <n>', 'random seed (default: random, printed)', int)
    .option('--start <time>', 'event time of the first trade, ISO 8601 (default: now)')
    .option(
      '--batch <n>',
      'messages per send (smaller costs kafkajs less CPU per message)',
      positiveInt,
      1_000,
    )
    .action(async (o: CommonOptions & SyntheticCli) => {
      const { runSynthetic } = await import('../producers/synthetic/run.js');
      const { defaultSyntheticSymbols, syntheticTopic } = await import('../producers/synthetic/generator.js');
      const { parseTimestampMicros } = await import('../producers/csv.js');
      const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
      const symbols = o.symbols ? list(o.symbols).map((s) => s.toUpperCase()) : defaultSyntheticSymbols;
      const startMicros = o.start ? Number(parseTimestampMicros(o.start) ?? Number.NaN) : Date.now() * 1000;
      if (!Number.isSafeInteger(startMicros))
        throw new InvalidArgumentError(`--start ${o.start}: not a timestamp`);
      await withProducer(o, 'synthetic', o.count, async (context, progress, prepare) => {
        const topics = [...new Set(symbols.map((symbol) => syntheticTopic(symbol, o.topic)))];
        await prepare(topics);
        console.error(
          `synthetic: seed ${seed} (--seed ${seed} repeats this run), ${symbols.length} symbols → ${topics.join(', ')}`,
        );
        const result = await runSynthetic(context, {
          seed,
          symbols,
          exchange: o.exchange,
          rate: o.rate === 'max' ? 100_000 : o.rate,
          paced: o.rate !== 'max',
          burstiness: o.burstiness,
          startMicros,
          gapRate: o.gapRate,
          maxGap: o.maxGap,
          duplicateRate: o.duplicateRate,
          poison: o.poison ?? {},
          topic: o.topic,
          count: o.count,
          batchSize: o.batch,
          onSent: (n) => progress?.add(n),
        });
        return { seed, ...result };
      });
    });

  common(produce.command('equities'))
    .description(
      'replay equities trades and quotes CSV files (default: the bundled one-day sample), merged by time',
    )
    .option('--trades <csv>', 'trades file (default: data/sample/equities-trades.csv)')
    .option('--quotes <csv>', 'quotes file (default: data/sample/equities-quotes.csv)')
    .option('--no-trades', 'replay no trades file')
    .option('--no-quotes', 'replay no quotes file')
    .option(
      '--speed <n|max>',
      '1: the original pace; N: N times faster; max: as fast as possible',
      rate,
      'max',
    )
    .option('--trades-topic <topic>', 'trades topic', 'market.equities.trades')
    .option('--quotes-topic <topic>', 'quotes topic', 'market.equities.quotes')
    .option('--batch <n>', 'records per send, at most', positiveInt, 1_000)
    .action(async (o: CommonOptions & EquitiesCli) => {
      const { runEquitiesReplay } = await import('../producers/equities/run.js');
      const tradesPath = o.trades === false ? null : o.trades === true ? undefined : o.trades;
      const quotesPath = o.quotes === false ? null : o.quotes === true ? undefined : o.quotes;
      await withProducer(
        o,
        'equities',
        await rowCount(tradesPath, quotesPath),
        async (context, progress, prepare) => {
          await prepare([
            ...(tradesPath === null ? [] : [o.tradesTopic]),
            ...(quotesPath === null ? [] : [o.quotesTopic]),
          ]);
          return runEquitiesReplay(context, {
            tradesPath,
            quotesPath,
            tradesTopic: o.tradesTopic,
            quotesTopic: o.quotesTopic,
            speed: o.speed === 'max' ? Number.POSITIVE_INFINITY : o.speed,
            batchSize: o.batch,
            onRejected: reportRejected,
            onSent: (n) => progress?.add(n),
          });
        },
      );
    });

  common(produce.command('reference'))
    .description(
      'send an instruments CSV (default: the bundled one) to the compacted reference data topics, keyed by exchange:symbol',
    )
    .option('--file <csv>', 'instruments file (default: data/sample/instruments.csv)')
    .option('--topic <topic>', 'one topic for all (default: market.<asset class>.reference_data)')
    .action(async (o: CommonOptions & { file?: string; topic?: string }) => {
      const { runReference, referenceTopicsOf } = await import('../producers/reference.js');
      const { samplePath } = await import('../producers/equities/sample.js');
      await withProducer(o, 'reference', undefined, async (context, progress, prepare) => {
        await prepare(o.topic ? [o.topic] : await referenceTopicsOf(o.file ?? samplePath('instruments')));
        return runReference(context, {
          path: o.file,
          topic: o.topic,
          batchSize: 1_000,
          onRejected: reportRejected,
          onSent: (n) => progress?.add(n),
        });
      });
    });

  common(produce.command('binance'))
    .description('stream a Binance-style websocket trade feed into Kafka until interrupted')
    .option('--symbols <list>', 'comma-separated symbols', 'btcusdt,ethusdt')
    .option(
      '--url <url>',
      'endpoint base (…/stream?streams= is added) or a full stream URL',
      'wss://stream.binance.com:9443',
    )
    .option('--topic <topic>', 'trades topic', 'market.crypto.trades')
    .option('--exchange <name>', 'venue written into the trades', 'BINANCE')
    .option('--max-trades <n>', 'stop after this many trades', positiveInt)
    .option('--duration <seconds>', 'stop after this long', positiveInt)
    .action(async (o: CommonOptions & BinanceCli) => {
      const { runBinance } = await import('../producers/binance/run.js');
      const { binanceTradeStreamUrl } = await import('../producers/binance/feed.js');
      const url =
        o.url.includes('/stream?') || o.url.includes('/ws/')
          ? o.url
          : binanceTradeStreamUrl(o.url, list(o.symbols));
      await withProducer(o, 'binance', o.maxTrades, async (context, progress, prepare) => {
        await prepare([o.topic]);
        const timer = o.duration ? setTimeout(() => context.abort(), o.duration * 1000) : undefined;
        try {
          return await runBinance(context, {
            url,
            topic: o.topic,
            exchange: o.exchange,
            maxTrades: o.maxTrades,
            onEvent: reportFeedEvent,
            onSent: (n) => progress?.add(n),
          });
        } finally {
          clearTimeout(timer);
        }
      });
    });
}

interface SyntheticCli {
  count: number;
  symbols?: string;
  topic?: string;
  exchange: string;
  rate: number | 'max';
  burstiness: number;
  gapRate: number;
  maxGap: number;
  duplicateRate: number;
  poison?: Partial<Record<PoisonKind, number>>;
  seed?: number;
  start?: string;
  batch: number;
}

interface EquitiesCli {
  trades: string | boolean;
  quotes: string | boolean;
  speed: number | 'max';
  tradesTopic: string;
  quotesTopic: string;
  batch: number;
}

interface BinanceCli {
  symbols: string;
  url: string;
  topic: string;
  exchange: string;
  maxTrades?: number;
  duration?: number;
}

function common(command: Command): Command {
  return command
    .option(
      '--partitions <n>',
      'partitions of the topics it creates (existing topics are left alone)',
      positiveInt,
      6,
    )
    .option('--no-create-topics', 'do not create missing topics (and their .dlq topics)')
    .option('--metrics-port <port>', 'serve the producer metrics on http://127.0.0.1:<port>/metrics', int)
    .option('--no-progress', 'no progress bar or progress lines')
    .option('--json', 'print the summary as JSON')
    .addOption(new Option('-c, --config <file>', 'JSON config file (default: $K2_CONFIG)'));
}

type RunContext = ProducerContext & { abort: () => void };

/** Batches in a row that may fail before a run stops its source (a dead cluster, a deleted topic). */
const failureLimit = 3;

/**
 * Sets up a producer run: config, context with SIGINT/SIGTERM handling (the first stops the source
 * and flushes, the second exits at once), topics, optional metrics endpoint, progress; prints the
 * summary and exits 1 when any batch was not delivered. Three undelivered batches in a row stop
 * the source as a signal would.
 */
async function withProducer(
  options: CommonOptions,
  label: string,
  total: number | undefined,
  job: (
    context: RunContext,
    progress: Progress | undefined,
    prepare: (topics: string[]) => Promise<void>,
  ) => Promise<{ sink: { delivered: number; failed: number } } & object>,
): Promise<void> {
  const { createProducerContext, ensureMarketTopics, missingTopics } = await import(
    '../producers/context.js'
  );
  const { logDeliveryFailure } = await import('../producers/sink.js');
  const { Progress } = await import('../producers/progress.js');
  const { systemClock } = await import('../producers/clock.js');
  const { config } = loadConfig({ file: options.config });
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    console.error(`\n${label}: stopping (again to exit at once)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const context: RunContext = {
    ...createProducerContext({
      brokers: config.kafka.brokers,
      registryUrl: config.registry.url,
      clientId: `${config.kafka.clientId}-producer`,
      signal: controller.signal,
      onFailure: (failure, consecutive) => {
        logDeliveryFailure(failure);
        if (consecutive === failureLimit) {
          console.error(`${label}: stopping: ${consecutive} batches in a row were not delivered`);
          controller.abort();
        }
      },
    }),
    abort: () => controller.abort(),
  };
  let server: Server | undefined;
  try {
    if (options.metricsPort !== undefined) server = await serveMetrics(context, options.metricsPort);
    const progress = options.progress
      ? new Progress({ label, total, stream: process.stderr, clock: systemClock })
      : undefined;
    const prepare = async (topics: string[]) => {
      if (options.createTopics) {
        const { created } = await ensureMarketTopics(context, topics, options.partitions);
        if (created.length > 0) console.error(`${label}: created topics ${created.join(', ')}`);
        return;
      }
      const missing = await missingTopics(context, topics);
      if (missing.length > 0)
        throw new K2Error(
          'K2_TOPIC_MISSING',
          `topic ${missing.join(', ')} does not exist (without --no-create-topics it is created)`,
        );
    };
    const started = performance.now();
    const outcome = await job(context, progress, prepare);
    const seconds = (performance.now() - started) / 1000;
    progress?.finish(`${outcome.sink.delivered} delivered, ${outcome.sink.failed} failed`);
    const result = {
      ...outcome,
      seconds: Number(seconds.toFixed(3)),
      rate: Math.round(outcome.sink.delivered / seconds),
    };
    console.log(options.json ? JSON.stringify(result, null, 2) : summary(label, result));
    if (result.sink.failed > 0) process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  }
}

/** `synthetic: seed 1; stats (messages 400000, trades 400000); sink (delivered 400000, failed 0); seconds 4.1; rate 97561` */
function summary(label: string, result: object): string {
  const show = (value: unknown): string =>
    Array.isArray(value)
      ? value.join(' ')
      : typeof value === 'object' && value !== null
        ? `(${Object.entries(value)
            .map(([k, v]) => `${k} ${show(v)}`)
            .join(', ')})`
        : String(value);
  return `${label}: ${Object.entries(result)
    .map(([key, value]) => `${key} ${show(value)}`)
    .join('; ')}`;
}

async function serveMetrics(context: ProducerContext, port: number): Promise<Server> {
  const server = createServer(async (request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': context.metrics.registry.contentType });
    response.end(await context.metrics.registry.metrics());
  });
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(port, '127.0.0.1', resolve),
  );
  const address = server.address();
  console.error(
    `metrics on http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/metrics`,
  );
  return server;
}

function reportRejected(error: SourceRecordError): void {
  console.error(`skipped ${error.message}`);
}

function reportFeedEvent(event: FeedEvent): void {
  switch (event.type) {
    case 'connected':
      console.error(`connected to ${event.url}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`);
      break;
    case 'disconnected':
      console.error(
        `disconnected (${event.reason}${event.detail ? `: ${event.detail}` : ''}); reconnecting in ${event.retryInMs} ms`,
      );
      break;
    case 'gap':
      console.error(
        `gap ${event.exchange} ${event.symbol}: trade ids ${event.firstMissing}..${event.lastMissing} missing (${event.missing})${event.kind === 'reconnect' ? ' across a reconnect' : ''}`,
      );
      break;
    case 'out-of-order':
      console.error(`late trade ${event.exchange} ${event.symbol} ${event.tradeId} (after ${event.lastId})`);
      break;
    case 'rejected':
      console.error(`skipped frame (${event.reason}): ${event.detail}`);
      break;
  }
}

/** Data rows of the files (for the progress bar's total). */
async function rowCount(...paths: (string | null | undefined)[]): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const { samplePath } = await import('../producers/equities/sample.js');
  const defaults = [samplePath('trades'), samplePath('quotes')];
  let rows = 0;
  for (const [i, path] of paths.entries()) {
    if (path === null) continue;
    const text = await readFile(path ?? defaults[i]!, 'utf8');
    rows += text.split('\n').filter((line) => line.trim() !== '').length - 1;
  }
  return rows;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function int(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new InvalidArgumentError('expected a non-negative integer');
  return value;
}

function positiveInt(text: string): number {
  const value = int(text);
  if (value < 1) throw new InvalidArgumentError('expected a positive integer');
  return value;
}

function fraction(text: string): number {
  const value = Number(text);
  if (!(value >= 0 && value <= 1)) throw new InvalidArgumentError('expected a number between 0 and 1');
  return value;
}

function rate(text: string): number | 'max' {
  if (text === 'max') return 'max';
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value))
    throw new InvalidArgumentError('expected a positive number or max');
  return value;
}

function poison(text: string): Partial<Record<PoisonKind, number>> {
  const rates: Partial<Record<PoisonKind, number>> = {};
  for (const item of list(text)) {
    const [kind, value] = item.split('=') as [string, string | undefined];
    const p = fraction(value ?? '');
    if (kind === 'all') for (const k of poisonKinds) rates[k] = p;
    else if ((poisonKinds as readonly string[]).includes(kind)) rates[kind as PoisonKind] = p;
    else throw new InvalidArgumentError(`unknown poison kind ${kind}; kinds: all, ${poisonKinds.join(', ')}`);
  }
  return rates;
}
