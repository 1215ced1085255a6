import { describe, expect, it } from 'vitest';
import { packBatch } from '../../src/codec/batch.js';
import { parseDecimal } from '../../src/codec/decimal.js';
import { TableDecoder } from '../../src/codec/decode.js';
import { avroSchemaText } from '../../src/codec/schemas.js';
import { RecordEncoder } from '../../src/producers/encode.js';
import type { QuoteV2, ReferenceDataV2, TradeV2 } from '../../src/producers/records.js';
import { canonical, decodeFramed } from './producers-fixtures.js';

const T0 = 1_735_689_600_000_000;

function trade(overrides: Partial<TradeV2> = {}): TradeV2 {
  return {
    message_id: '6cf764cf-ca59-43c5-b0e6-58c6862c38f0',
    trade_id: '5123456789',
    symbol: 'BTCUSDT',
    exchange: 'BINANCE',
    asset_class: 'CRYPTO',
    timestamp: T0,
    price: parseDecimal('97000.12345678', 8),
    quantity: parseDecimal('0.00100000', 8),
    currency: 'USDT',
    side: 'SELL',
    trade_conditions: [],
    source_sequence: 5_123_456_789,
    ingestion_timestamp: T0 + 1_234,
    platform_sequence: null,
    vendor_data: { event_time: '1735689600001', is_buyer_maker: 'true' },
    ...overrides,
  };
}

describe('RecordEncoder: Confluent-framed v2 records with exact values', () => {
  it('frames with magic byte 0 and the schema id, and decodes back to the same record', () => {
    const encoder = new RecordEncoder('trade_v2', 4242);
    const value = encoder.encode(trade());
    expect(value[0]).toBe(0);
    expect(value.readUInt32BE(1)).toBe(4242);
    const { schemaId, record } = decodeFramed(value);
    expect(schemaId).toBe(4242);
    expect(canonical(record)).toEqual(canonical({ ...trade() }));
  });

  it('keeps decimals, timestamps and sequences exact at the edges of their ranges (never via floats)', () => {
    const encoder = new RecordEncoder('trade_v2', 1);
    const edges: Partial<TradeV2>[] = [
      { price: 999_999_999_999_999_999n, quantity: 1 }, // 9999999999.99999999 and 0.00000001
      {
        price: parseDecimal('0.1', 8) + parseDecimal('0.2', 8),
        quantity: parseDecimal('12345678.87654321', 8),
      },
      { source_sequence: 2n ** 63n - 1n, platform_sequence: 2n ** 53n + 1n },
      { source_sequence: Number.MAX_SAFE_INTEGER, platform_sequence: 0 },
      { timestamp: 7_258_118_399_999_999n, ingestion_timestamp: 2n ** 62n },
      { source_sequence: null, vendor_data: null, trade_conditions: ['@', 'F', 'Ünïcødé'] },
    ];
    for (const edge of edges) {
      const { record } = decodeFramed(encoder.encode(trade(edge)));
      expect(canonical(record)).toEqual(canonical({ ...trade(edge) }));
    }
    expect(decodeFramed(encoder.encode(trade(edges[1]))).record.price).toBe(30_000_000);
  });

  it("encodes what the supervisor's decoder turns into rows, without failures", () => {
    const encoder = new RecordEncoder('trade_v2', 7);
    const values = Array.from({ length: 50 }, (_, i) =>
      encoder.encode(trade({ trade_id: String(i), source_sequence: i === 3 ? 2n ** 60n : i })),
    );
    const batch = new TableDecoder('trades_v2').decode(
      packBatch(values.map((value, i) => ({ value, offset: BigInt(i) }))),
      { 7: { schema: avroSchemaText('trade_v2') } },
    );
    expect(batch.failures).toEqual([]);
    expect(batch.rowCount).toBe(50);
  });

  it('hands out independent values across slab boundaries, and records larger than a slab', () => {
    const encoder = new RecordEncoder('trade_v2', 1);
    const values = Array.from({ length: 30_000 }, (_, i) => encoder.encode(trade({ trade_id: `t-${i}` })));
    expect(values.map((v) => decodeFramed(v).record.trade_id)).toEqual(values.map((_, i) => `t-${i}`));
    const huge = { note: 'x'.repeat(3 << 20) };
    const { record } = decodeFramed(encoder.encode(trade({ vendor_data: huge })));
    expect(canonical(record).vendor_data).toEqual([['note', huge.note]]);
    expect(decodeFramed(values[29_999]!).record.trade_id).toBe('t-29999');
  });

  it('encodes quotes and reference data', () => {
    const quote: QuoteV2 = {
      message_id: 'q-1',
      symbol: 'AAPL',
      exchange: 'NASDAQ',
      asset_class: 'EQUITY',
      timestamp: T0,
      bid_price: parseDecimal('243.85', 8),
      bid_size: parseDecimal('300', 8),
      ask_price: parseDecimal('243.86', 8),
      ask_size: parseDecimal('100', 8),
      currency: 'USD',
      source_sequence: 12,
      ingestion_timestamp: T0 + 5,
      platform_sequence: null,
      vendor_data: null,
    };
    const instrument: ReferenceDataV2 = {
      message_id: 'r-1',
      exchange: 'NASDAQ',
      symbol: 'AAPL',
      name: 'Apple Inc.',
      asset_class: 'EQUITY',
      currency: 'USD',
      lot_size: parseDecimal('1', 8),
      tick_size: parseDecimal('0.01', 8),
      listing_status: 'ACTIVE',
      valid_from: Date.UTC(1980, 11, 12) * 1000,
      ingestion_timestamp: T0,
      vendor_data: { isin: 'US0378331005' },
    };
    const q = decodeFramed(new RecordEncoder('quote_v2', 2).encode(quote), 'quote_v2');
    expect(canonical(q.record)).toEqual(canonical({ ...quote }));
    const r = decodeFramed(new RecordEncoder('reference_data_v2', 3).encode(instrument), 'reference_data_v2');
    expect(canonical(r.record)).toEqual(canonical({ ...instrument }));
  });

  it('refuses a float amount instead of rounding it', () => {
    const encoder = new RecordEncoder('trade_v2', 1);
    expect(() => encoder.encode(trade({ price: 97000.12 }))).toThrow();
  });
});
