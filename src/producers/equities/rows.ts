import { uuidV5 } from '../../codec/upgrade.js';
import { type CsvRow, RowReader } from '../csv.js';
import { type QuoteV2, type TradeV2, tradeSides } from '../records.js';

/** Columns of an equities trades file; any other column is kept in vendor_data. */
export const tradeColumns = new Set([
  'timestamp',
  'symbol',
  'exchange',
  'trade_id',
  'sequence',
  'price',
  'size',
  'side',
  'conditions',
  'currency',
]);

/** Columns of an equities quotes file; any other column is kept in vendor_data. */
export const quoteColumns = new Set([
  'timestamp',
  'symbol',
  'exchange',
  'sequence',
  'bid_price',
  'bid_size',
  'ask_price',
  'ask_size',
  'currency',
]);

/**
 * A trades row as trade_v2. The message id derives from venue, symbol and sequence (or trade id),
 * so replaying a file again sends the same message ids and K2 drops the repeats.
 * ingestion_timestamp is set when the record is sent.
 */
export function tradeFromRow(row: CsvRow): TradeV2 {
  const r = new RowReader(row);
  const symbol = r.required('symbol');
  const exchange = r.required('exchange');
  const sequence = r.long('sequence') ?? null;
  const tradeId = r.optional('trade_id') ?? (sequence === null ? r.required('trade_id') : String(sequence));
  return {
    message_id: uuidV5(`trade|${exchange}|${symbol}|${sequence ?? `id:${tradeId}`}`),
    trade_id: tradeId,
    symbol,
    exchange,
    asset_class: 'EQUITY',
    timestamp: r.timestamp('timestamp'),
    price: r.decimal('price', { positive: true }),
    quantity: r.decimal('size', { positive: true }),
    currency: r.optional('currency') ?? 'USD',
    side: r.oneOf('side', tradeSides, 'UNKNOWN'),
    trade_conditions: r.optional('conditions')?.split(/\s+/) ?? [],
    source_sequence: sequence,
    ingestion_timestamp: 0,
    platform_sequence: null,
    vendor_data: r.extras(tradeColumns),
  };
}

/** A quotes row as quote_v2; the sequence column is required (it makes the message id). */
export function quoteFromRow(row: CsvRow): QuoteV2 {
  const r = new RowReader(row);
  const symbol = r.required('symbol');
  const exchange = r.required('exchange');
  const sequence = r.long('sequence');
  if (sequence === undefined) r.required('sequence');
  return {
    message_id: uuidV5(`quote|${exchange}|${symbol}|${sequence}`),
    symbol,
    exchange,
    asset_class: 'EQUITY',
    timestamp: r.timestamp('timestamp'),
    bid_price: r.decimal('bid_price', { nonNegative: true }),
    bid_size: r.decimal('bid_size', { nonNegative: true }),
    ask_price: r.decimal('ask_price', { nonNegative: true }),
    ask_size: r.decimal('ask_size', { nonNegative: true }),
    currency: r.optional('currency') ?? 'USD',
    source_sequence: sequence ?? null,
    ingestion_timestamp: 0,
    platform_sequence: null,
    vendor_data: r.extras(quoteColumns),
  };
}
