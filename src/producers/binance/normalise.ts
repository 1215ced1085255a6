import { parseDecimal } from '../../codec/decimal.js';
import { uuidV5 } from '../../codec/upgrade.js';
import { SourceRecordError } from '../errors.js';
import { DECIMAL_SCALE, type TradeV2 } from '../records.js';

/** A Binance trade stream event as it arrives (`<symbol>@trade`), field names as Binance sends them. */
export interface BinanceTradeEvent {
  /** Event type, always "trade". */
  e: 'trade';
  /** Event time, ms. */
  E: number;
  s: string;
  /** Trade id, increasing by one per trade of the symbol. */
  t: number;
  p: string;
  q: string;
  /** Trade time, ms. */
  T: number;
  /** Buyer is the market maker. */
  m: boolean;
}

export interface NormaliseOptions {
  exchange: string;
  /** Local receive time, epoch µs. */
  receivedMicros: number;
}

/**
 * Quote assets Binance lists, longest first so FDUSD wins over USD; the trade's currency is the
 * symbol's quote asset.
 */
const quoteAssets = [
  'FDUSD',
  'USDT',
  'USDC',
  'TUSD',
  'BUSD',
  'BTC',
  'ETH',
  'BNB',
  'EUR',
  'TRY',
  'BRL',
  'JPY',
];

export function quoteCurrency(symbol: string): string {
  return quoteAssets.find((asset) => symbol.length > asset.length && symbol.endsWith(asset)) ?? 'UNKNOWN';
}

/**
 * Parses one websocket text frame: a raw trade event or a combined-stream envelope
 * `{ stream, data }`. Throws SourceRecordError (reason `not-json`, `not-trade`, `bad-field`).
 */
export function parseTradeFrame(text: string): BinanceTradeEvent {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    throw new SourceRecordError('not-json', 'frame', `not JSON: ${text.slice(0, 80)}`);
  }
  const event =
    isObject(frame) && 'stream' in frame && isObject(frame.data) ? (frame.data as unknown) : frame;
  if (!isObject(event) || event.e !== 'trade')
    throw new SourceRecordError('not-trade', 'frame', `not a trade event: ${text.slice(0, 80)}`);
  const bad = (field: string) =>
    new SourceRecordError(
      'bad-field',
      'frame',
      `trade field ${field} is missing or invalid: ${text.slice(0, 120)}`,
    );
  if (typeof event.s !== 'string' || !/^[A-Z0-9]{2,30}$/.test(event.s)) throw bad('s');
  for (const field of ['E', 't', 'T'] as const) {
    const value = event[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw bad(field);
  }
  for (const field of ['p', 'q'] as const) if (typeof event[field] !== 'string') throw bad(field);
  if (typeof event.m !== 'boolean') throw bad('m');
  return event as unknown as BinanceTradeEvent;
}

/**
 * A Binance trade as trade_v2: trade id → source_sequence (and a message id derived from it, so a
 * trade received twice is one message), trade time T → timestamp, receive time →
 * ingestion_timestamp, event time E and the maker flag → vendor_data. The aggressor side follows
 * from the maker flag: when the buyer is the maker, the seller crossed the spread (SELL).
 */
export function normaliseTrade(event: BinanceTradeEvent, options: NormaliseOptions): TradeV2 {
  const decimal = (field: 'p' | 'q') => {
    try {
      return parseDecimal(event[field], DECIMAL_SCALE);
    } catch (error) {
      throw new SourceRecordError('bad-decimal', 'frame', `${field}: ${(error as Error).message}`);
    }
  };
  const price = decimal('p');
  const quantity = decimal('q');
  if (price <= 0n || quantity <= 0n)
    throw new SourceRecordError('bad-decimal', 'frame', `non-positive price or quantity in trade ${event.t}`);
  return {
    message_id: uuidV5(`trade|${options.exchange}|${event.s}|${event.t}`),
    trade_id: String(event.t),
    symbol: event.s,
    exchange: options.exchange,
    asset_class: 'CRYPTO',
    timestamp: event.T * 1000,
    price,
    quantity,
    currency: quoteCurrency(event.s),
    side: event.m ? 'SELL' : 'BUY',
    trade_conditions: [],
    source_sequence: event.t,
    ingestion_timestamp: options.receivedMicros,
    platform_sequence: null,
    vendor_data: { event_type: event.e, event_time: String(event.E), is_buyer_maker: String(event.m) },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
