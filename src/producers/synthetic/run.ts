import { groupByTopic } from '../batcher.js';
import { createSink, encoderOf, type ProducerContext, registerEncoders } from '../context.js';
import { RecordEncoder } from '../encode.js';
import { replayPaced } from '../pacer.js';
import type { SinkTotals } from '../sink.js';
import { SyntheticGenerator, type SyntheticOptions, type SyntheticStats } from './generator.js';
import { decimalScaleSchemaText, decimalScaleSubject } from './poison.js';

export interface SyntheticRunOptions extends Omit<SyntheticOptions, 'encoderFor' | 'decimalScaleEncoder'> {
  /** Messages to send (trades, duplicates and poison together). */
  count: number;
  /** Send at `rate` per second of wall time; otherwise as fast as Kafka takes them. */
  paced: boolean;
  batchSize: number;
  onSent?: (count: number) => void;
}

export interface SyntheticRunResult {
  stats: SyntheticStats;
  sink: SinkTotals;
  topics: string[];
}

/**
 * Produces `count` synthetic messages through the registry-registered trade_v2 schema (and the
 * decimal-scale poison schema when that kind is on). Stops early, flushing what was generated,
 * when the context's signal aborts.
 */
export async function runSynthetic(
  context: ProducerContext,
  options: SyntheticRunOptions,
): Promise<SyntheticRunResult> {
  const encoders = new Map<string, RecordEncoder<'trade_v2'>>();
  const decimalScaleEncoder =
    (options.poison['decimal-scale'] ?? 0) > 0
      ? new RecordEncoder(
          'trade_v2',
          await context.registry.register(decimalScaleSubject, decimalScaleSchemaText()),
          decimalScaleSchemaText(),
        )
      : undefined;
  const generator = new SyntheticGenerator({
    ...options,
    encoderFor: encoderOf(encoders),
    decimalScaleEncoder,
  });
  for (const [topic, encoder] of await registerEncoders(context, 'trade_v2', generator.topics))
    encoders.set(topic, encoder);

  const { injected } = context.metrics.catalogue;
  const sink = createSink(context, 'synthetic');
  let reported = { gaps: 0, duplicates: 0, poison: { ...generator.stats.poison } };
  const countInjected = () => {
    const { stats } = generator;
    injected.inc({ source: 'synthetic', kind: 'gap' }, stats.gaps - reported.gaps);
    injected.inc({ source: 'synthetic', kind: 'duplicate' }, stats.duplicates - reported.duplicates);
    for (const [kind, n] of Object.entries(stats.poison))
      if (n > reported.poison[kind as keyof typeof stats.poison])
        injected.inc({ source: 'synthetic', kind }, n - reported.poison[kind as keyof typeof stats.poison]);
    reported = { gaps: stats.gaps, duplicates: stats.duplicates, poison: { ...stats.poison } };
  };
  try {
    await replayPaced(generator.take(options.count), {
      clock: context.clock,
      speed: options.paced ? 1 : Number.POSITIVE_INFINITY,
      batchSize: options.batchSize,
      signal: context.signal,
      eventMicros: (message) => message.eventMicros,
      flush: async (messages) => {
        await sink.enqueue(groupByTopic(messages));
        countInjected();
        options.onSent?.(messages.length);
      },
    });
  } finally {
    await sink.close();
  }
  return { stats: generator.stats, sink: sink.totals, topics: generator.topics };
}
