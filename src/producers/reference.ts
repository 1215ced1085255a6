import { uuidV5 } from '../codec/upgrade.js';
import { marketTopic } from '../kafka/topics.js';
import { type Clock, nowMicros } from './clock.js';
import { encoderOf, type ProducerContext, registerEncoders, throughSink } from './context.js';
import { type CsvRow, RowReader, readCsv } from './csv.js';
import type { RecordEncoder } from './encode.js';
import { samplePath } from './equities/sample.js';
import { SourceRecordError } from './errors.js';
import { type AssetClass, assetClasses, listingStatuses, type ReferenceDataV2 } from './records.js';
import type { SinkTotals, TopicBatch } from './sink.js';

/** Columns of an instruments file; any other column (an ISIN, say) is kept in vendor_data. */
export const instrumentColumns = new Set([
  'exchange',
  'symbol',
  'name',
  'asset_class',
  'currency',
  'lot_size',
  'tick_size',
  'listing_status',
  'valid_from',
]);

/** The key of an instrument on its compacted topic: the latest record per key is the instrument. */
export function instrumentKey(record: Pick<ReferenceDataV2, 'exchange' | 'symbol'>): string {
  return `${record.exchange}:${record.symbol}`;
}

export function instrumentFromRow(row: CsvRow, ingestedMicros: number): ReferenceDataV2 {
  const r = new RowReader(row);
  const exchange = r.required('exchange');
  const symbol = r.required('symbol');
  const validFrom = r.timestamp('valid_from');
  return {
    message_id: uuidV5(`reference_data|${exchange}|${symbol}|${validFrom}`),
    exchange,
    symbol,
    name: r.required('name'),
    asset_class: r.oneOf('asset_class', assetClasses),
    currency: r.required('currency'),
    lot_size: r.decimal('lot_size', { positive: true }),
    tick_size: r.decimal('tick_size', { positive: true }),
    listing_status: r.oneOf('listing_status', listingStatuses, 'ACTIVE'),
    valid_from: validFrom,
    ingestion_timestamp: ingestedMicros,
    vendor_data: r.extras(instrumentColumns),
  };
}

export interface ReferenceOptions {
  path: string;
  /** One topic for every instrument; by default market.<asset class>.reference_data per instrument. */
  topic?: string;
  encoderFor: (topic: string) => RecordEncoder<'reference_data_v2'>;
  send: (batches: TopicBatch[]) => Promise<void>;
  clock: Clock;
  batchSize: number;
  onRejected?: (error: SourceRecordError) => void;
  onSent?: (count: number) => void;
}

export interface ReferenceTotals {
  instruments: number;
  rejected: number;
  /** Instruments per topic. */
  topics: Record<string, number>;
}

/** Sends every instrument of the file, keyed by exchange:symbol, to its reference data topic. */
export async function produceReference(options: ReferenceOptions): Promise<ReferenceTotals> {
  const totals: ReferenceTotals = { instruments: 0, rejected: 0, topics: {} };
  let pending = new Map<string, TopicBatch>();
  let count = 0;
  const flush = async () => {
    await options.send([...pending.values()]);
    options.onSent?.(count);
    pending = new Map();
    count = 0;
  };
  for await (const row of readCsv(options.path)) {
    let record: ReferenceDataV2;
    try {
      record = instrumentFromRow(row, nowMicros(options.clock));
    } catch (error) {
      if (!(error instanceof SourceRecordError)) throw error;
      totals.rejected++;
      options.onRejected?.(error);
      continue;
    }
    const topic = options.topic ?? marketTopic(record.asset_class, 'reference_data');
    const message = { key: instrumentKey(record), value: options.encoderFor(topic).encode(record) };
    const batch = pending.get(topic);
    if (batch) batch.messages.push(message);
    else pending.set(topic, { topic, messages: [message] });
    totals.instruments++;
    totals.topics[topic] = (totals.topics[topic] ?? 0) + 1;
    if (++count >= options.batchSize) await flush();
  }
  if (count > 0) await flush();
  return totals;
}

export interface ReferenceRunOptions {
  /** Default: the bundled sample's instruments.csv. */
  path?: string;
  topic?: string;
  batchSize: number;
  onRejected?: (error: SourceRecordError) => void;
  onSent?: (count: number) => void;
}

/**
 * Sends an instruments file to the compacted reference data topics. The topics must exist
 * (ensureMarketTopics): a topic auto-created without compaction would lose the point of the key.
 */
export async function runReference(
  context: ProducerContext,
  options: ReferenceRunOptions,
): Promise<ReferenceTotals & { sink: SinkTotals }> {
  const path = options.path ?? samplePath('instruments');
  const topics = options.topic ? [options.topic] : await referenceTopicsOf(path);
  const encoders = encoderOf(await registerEncoders(context, 'reference_data_v2', topics));
  return throughSink(context, 'reference', options.onRejected, (sink, onRejected) =>
    produceReference({
      path,
      topic: options.topic,
      encoderFor: encoders,
      send: (batches) => sink.enqueue(batches),
      clock: context.clock,
      batchSize: options.batchSize,
      onRejected,
      onSent: options.onSent,
    }),
  );
}

/** The reference data topics an instruments file needs: one per asset class in it. */
export async function referenceTopicsOf(path: string): Promise<string[]> {
  const topics = new Set<string>();
  for await (const row of readCsv(path)) {
    const assetClass = row.values.asset_class?.toUpperCase();
    if ((assetClasses as readonly string[]).includes(assetClass ?? ''))
      topics.add(marketTopic(assetClass as AssetClass, 'reference_data'));
  }
  return [...topics];
}
