import { describe, expect, it } from 'vitest';
import { uuidV5 } from '../../src/codec/upgrade.js';
import { normaliseTrade, parseTradeFrame, quoteCurrency } from '../../src/producers/binance/normalise.js';
import { TradeIdTracker } from '../../src/producers/binance/trade-ids.js';
import { SourceRecordError } from '../../src/producers/errors.js';

/** A trade frame as Binance's `<symbol>@trade` stream sends it. */
const frame = {
  e: 'trade',
  E: 1_735_689_600_123,
  s: 'BTCUSDT',
  t: 4_400_000_001,
  p: '97000.12345678',
  q: '0.00150000',
  T: 1_735_689_600_120,
  m: true,
  M: true,
};

describe('Binance trade normalisation', () => {
  it('maps a trade event to trade_v2: ids, both clocks, exact decimals, maker flag and side', () => {
    const trade = normaliseTrade(parseTradeFrame(JSON.stringify(frame)), {
      exchange: 'BINANCE',
      receivedMicros: 1_735_689_600_125_500,
    });
    expect(trade).toEqual({
      message_id: uuidV5('trade|BINANCE|BTCUSDT|4400000001'),
      trade_id: '4400000001',
      symbol: 'BTCUSDT',
      exchange: 'BINANCE',
      asset_class: 'CRYPTO',
      timestamp: 1_735_689_600_120_000,
      price: 9_700_012_345_678n,
      quantity: 150_000n,
      currency: 'USDT',
      side: 'SELL',
      trade_conditions: [],
      source_sequence: 4_400_000_001,
      ingestion_timestamp: 1_735_689_600_125_500,
      platform_sequence: null,
      vendor_data: { event_type: 'trade', event_time: '1735689600123', is_buyer_maker: 'true' },
    });
  });

  it('reads the aggressor from the maker flag: buyer is maker → SELL, else BUY', () => {
    const side = (m: boolean) =>
      normaliseTrade(parseTradeFrame(JSON.stringify({ ...frame, m })), { exchange: 'B', receivedMicros: 0 })
        .side;
    expect(side(true)).toBe('SELL');
    expect(side(false)).toBe('BUY');
  });

  it('unwraps combined-stream envelopes', () => {
    const event = parseTradeFrame(JSON.stringify({ stream: 'btcusdt@trade', data: frame }));
    expect(event.t).toBe(frame.t);
  });

  it('gives the same trade the same message id whenever it arrives, and another trade another one', () => {
    const at = (receivedMicros: number, t = frame.t) =>
      normaliseTrade(parseTradeFrame(JSON.stringify({ ...frame, t })), {
        exchange: 'BINANCE',
        receivedMicros,
      });
    expect(at(1).message_id).toBe(at(2).message_id);
    expect(at(1).message_id).not.toBe(at(1, frame.t + 1).message_id);
  });

  it('derives the currency from the quote asset', () => {
    expect(['BTCUSDT', 'ETHBTC', 'BTCFDUSD', 'SOLUSDC', 'FOO'].map(quoteCurrency)).toEqual([
      'USDT',
      'BTC',
      'FDUSD',
      'USDC',
      'UNKNOWN',
    ]);
  });

  it.each([
    ['not JSON', '{"e":"trade",', 'not-json'],
    ['another event type', JSON.stringify({ ...frame, e: 'aggTrade' }), 'not-trade'],
    ['a subscription answer', JSON.stringify({ result: null, id: 1 }), 'not-trade'],
    ['a missing trade id', JSON.stringify({ ...frame, t: undefined }), 'bad-field'],
    [
      'a trade id beyond 2^53',
      '{"e":"trade","E":1,"s":"BTCUSDT","t":9007199254740993,"p":"1","q":"1","T":1,"m":true}',
      'bad-field',
    ],
    ['a numeric price', JSON.stringify({ ...frame, p: 97000.12 }), 'bad-field'],
    ['a lowercase symbol', JSON.stringify({ ...frame, s: 'btcusdt' }), 'bad-field'],
    ['a non-boolean maker flag', JSON.stringify({ ...frame, m: 'true' }), 'bad-field'],
  ])('rejects %s with a typed reason', (_what, text, reason) => {
    const error = (() => {
      try {
        parseTradeFrame(text);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SourceRecordError);
    expect((error as SourceRecordError).reason).toBe(reason);
  });

  it.each([
    ['more than 8 decimal places', '97000.123456789'],
    ['a negative price', '-1.5'],
    ['a zero price', '0.00000000'],
    ['an exponent', '9.7e4'],
  ])('rejects a price with %s instead of rounding it', (_what, p) => {
    const event = parseTradeFrame(JSON.stringify({ ...frame, p }));
    expect(() => normaliseTrade(event, { exchange: 'B', receivedMicros: 0 })).toThrow(SourceRecordError);
  });
});

describe('trade id continuity', () => {
  it('classifies next, gaps (with the missing range), late and repeated trades per symbol', () => {
    const tracker = new TradeIdTracker();
    expect(tracker.observe('BTCUSDT', 100)).toEqual({ kind: 'first' });
    expect(tracker.observe('ETHUSDT', 7)).toEqual({ kind: 'first' });
    expect(tracker.observe('BTCUSDT', 101)).toEqual({ kind: 'next' });
    expect(tracker.observe('BTCUSDT', 105)).toEqual({
      kind: 'gap',
      firstMissing: 102,
      lastMissing: 104,
      missing: 3,
      afterReconnect: false,
    });
    expect(tracker.observe('BTCUSDT', 103)).toEqual({ kind: 'late' });
    expect(tracker.observe('BTCUSDT', 105)).toEqual({ kind: 'repeat' });
    expect(tracker.observe('BTCUSDT', 106)).toEqual({ kind: 'next' });
    expect(tracker.observe('ETHUSDT', 8)).toEqual({ kind: 'next' });
  });

  it('marks the first jump after a reconnect, once per symbol', () => {
    const tracker = new TradeIdTracker();
    tracker.observe('BTCUSDT', 10);
    tracker.observe('ETHUSDT', 20);
    tracker.reconnected();
    expect(tracker.observe('BTCUSDT', 9)).toEqual({ kind: 'late' });
    expect(tracker.observe('BTCUSDT', 15)).toMatchObject({ kind: 'gap', missing: 4, afterReconnect: true });
    expect(tracker.observe('BTCUSDT', 17)).toMatchObject({ kind: 'gap', missing: 1, afterReconnect: false });
    expect(tracker.observe('ETHUSDT', 21)).toEqual({ kind: 'next' });
    expect(tracker.observe('ETHUSDT', 23)).toMatchObject({ kind: 'gap', afterReconnect: false });
  });
});
