import { describe, expect, it } from 'vitest';
import {
  type Int64Column,
  int64At,
  type ListColumn,
  listAt,
  type MapColumn,
  mapAt,
  stringAt,
  type Utf8Column,
} from '../../src/codec/columns.js';
import { formatDecimal, parseDecimal, rescale } from '../../src/codec/decimal.js';
import { type DecodedBatch, TableDecoder } from '../../src/codec/decode.js';
import { avroSchema, avroSchemaText, tableForTopic } from '../../src/codec/schemas.js';
import { upgradeTrade, uuidV5 } from '../../src/codec/upgrade.js';
import { peekSchemaId } from '../../src/codec/wire.js';
import { batchOf, encode, ids, T0, trade, tradeBatch, writers } from './codec-fixtures.js';

const str = (batch: DecodedBatch, field: string, row: number) =>
  stringAt(batch.columns[field] as Utf8Column, row);
const i64 = (batch: DecodedBatch, field: string, row: number) =>
  int64At(batch.columns[field] as Int64Column, row);
const dec = (batch: DecodedBatch, field: string, row: number) => formatDecimal(i64(batch, field, row)!, 8);

/** A variant of the committed trade_v2 schema, as another producer might register it. */
function tradeVariant(edit: (fields: { name: string; type: unknown; default?: unknown }[]) => void): string {
  const schema = avroSchema('trade_v2');
  edit(schema.fields);
  return JSON.stringify(schema);
}

describe('decimals', () => {
  it('parses, formats and rescales exactly, never through floats', () => {
    expect(parseDecimal('97000.12345678', 8)).toBe(9_700_012_345_678n);
    expect(parseDecimal('-0.00000001', 8)).toBe(-1n);
    expect(parseDecimal('9999999999.99999999', 8)).toBe(999_999_999_999_999_999n);
    expect(parseDecimal('1.5', 8)).toBe(150_000_000n);
    expect(parseDecimal('1.230000000', 8)).toBe(123_000_000n);
    expect(() => parseDecimal('1.000000001', 8)).toThrow(/decimal places/);
    expect(() => parseDecimal('1e5', 8)).toThrow(RangeError);
    expect(formatDecimal(-1n, 8)).toBe('-0.00000001');
    expect(formatDecimal(999_999_999_999_999_999n, 8)).toBe('9999999999.99999999');
    expect(formatDecimal(5, 0)).toBe('5');
    expect(rescale(1_234_500, 4, 8)).toBe(12_345_000_000);
    expect(rescale(123_450_000_000n, 10, 8)).toBe(1_234_500_000);
    expect(rescale(123_456_789_012n, 10, 8)).toBeUndefined();
    expect(rescale(999_999_999_999n, 0, 8)).toBe(99_999_999_999_900_000_000n);
  });
});

describe('schemas', () => {
  it('the v2 Avro records declare the Iceberg table fields, in the same order', () => {
    expect(avroSchema('trade_v2').fields.map((f) => f.name)).toContain('vendor_data');
    // TableDecoder refuses to start when the orders differ.
    for (const table of ['trades_v2', 'quotes_v2', 'reference_data_v2'] as const)
      expect(() => new TableDecoder(table)).not.toThrow();
  });

  it('maps market.<asset_class>.<data_type> topics to tables', () => {
    expect(tableForTopic('market.crypto.trades')).toBe('trades_v2');
    expect(tableForTopic('market.equities.quotes')).toBe('quotes_v2');
    expect(tableForTopic('market.equities.reference_data')).toBe('reference_data_v2');
    expect(tableForTopic('market.crypto.trades.dlq')).toBeUndefined();
    expect(tableForTopic('other')).toBeUndefined();
  });

  it('reads the schema id from the Confluent header', () => {
    const framed = encode('trade_v2', trade(1), 0x01020304);
    expect(peekSchemaId(framed)).toBe(0x01020304);
    expect(peekSchemaId(Uint8Array.of(1, 0, 0, 0, 1))).toBeUndefined();
    expect(peekSchemaId(Uint8Array.of(0, 0, 0))).toBeUndefined();
  });
});

describe('decode', () => {
  it('turns framed trades into exact columns, keeping each row’s Kafka offset', () => {
    const batch = new TableDecoder('trades_v2').decode(tradeBatch(12, 100), writers());
    expect(batch.failures).toEqual([]);
    expect(batch.rowCount).toBe(12);
    expect([...batch.offsets]).toEqual(Array.from({ length: 12 }, (_, i) => BigInt(100 + i)));
    expect(str(batch, 'message_id', 0)).toBe('00000000-0000-4000-8000-000000000064');
    expect(str(batch, 'side', 1)).toBe('SELL');
    expect(str(batch, 'asset_class', 3)).toBe('EQUITY');
    expect(dec(batch, 'price', 2)).toBe('97000.12345780');
    expect(dec(batch, 'quantity', 1)).toBe('101.01234668');
    expect(i64(batch, 'timestamp', 0)).toBe(BigInt(T0 + 100_000));
    expect(i64(batch, 'source_sequence', 0)).toBeNull(); // 100 % 5 === 0
    expect(i64(batch, 'source_sequence', 1)).toBe(1_000_101n);
    expect(listAt(batch.columns.trade_conditions as ListColumn, 0)).toEqual(['@', 'C2']);
    expect(listAt(batch.columns.trade_conditions as ListColumn, 2)).toEqual([]);
    expect(mapAt(batch.columns.vendor_data as MapColumn, 2)).toBeNull(); // 102 % 6 === 0
    expect(mapAt(batch.columns.vendor_data as MapColumn, 1)).toEqual(
      new Map([
        ['is_buyer_maker', 'false'],
        ['venue', 'spot'],
      ]),
    );
  });

  it('keeps 64-bit longs, decimals at full precision and timestamps to the microsecond', () => {
    const extreme = trade(1, {
      price: 999_999_999_999_999_999n,
      quantity: 0,
      timestamp: 7_258_118_399_999_999n,
    });
    const batch = new TableDecoder('trades_v2').decode(batchOf([encode('trade_v2', extreme)]), writers());
    expect(batch.failures).toEqual([]);
    expect(dec(batch, 'price', 0)).toBe('9999999999.99999999');
    expect(i64(batch, 'timestamp', 0)).toBe(7_258_118_399_999_999n);
    expect(dec(batch, 'quantity', 0)).toBe('0.00000000');
  });

  it('reads a 64-bit sequence beyond 2^53 exactly', () => {
    // avsc picks a union branch by JS type and has none for bigint: write it through a non-union writer.
    const schema = tradeVariant((fields) => {
      const field = fields.find((f) => f.name === 'source_sequence')!;
      field.type = 'long';
      delete field.default;
    });
    const value = encode(schema, trade(1, { source_sequence: 2n ** 62n + 3n }), 99);
    const batch = new TableDecoder('trades_v2').decode(batchOf([value]), writers({ 99: { schema } }));
    expect(batch.failures).toEqual([]);
    expect(i64(batch, 'source_sequence', 0)).toBe(2n ** 62n + 3n);
  });

  it('reads a record written with an older compatible schema into the current one (schema resolution)', () => {
    // An older writer: no platform_sequence and no vendor_data, trade_conditions required.
    const older = tradeVariant((fields) => {
      fields.splice(
        fields.findIndex((f) => f.name === 'platform_sequence'),
        1,
      );
      fields.splice(
        fields.findIndex((f) => f.name === 'vendor_data'),
        1,
      );
    });
    const { platform_sequence: _p, vendor_data: _v, ...record } = trade(7);
    const batch = new TableDecoder('trades_v2').decode(
      batchOf([encode(older, record, 50)]),
      writers({ 50: { schema: older } }),
    );
    expect(batch.failures).toEqual([]);
    expect(str(batch, 'symbol', 0)).toBe('AAPL');
    expect(i64(batch, 'platform_sequence', 0)).toBeNull();
    expect(mapAt(batch.columns.vendor_data as MapColumn, 0)).toBeNull();
  });

  it('rescales a writer decimal of another scale exactly (scale 4 → 8)', () => {
    const scale4 = tradeVariant((fields) => {
      fields.find((f) => f.name === 'price')!.type = {
        type: 'bytes',
        logicalType: 'decimal',
        precision: 18,
        scale: 4,
      };
    });
    const batch = new TableDecoder('trades_v2').decode(
      batchOf([encode(scale4, trade(1, { price: 970_001_234n }), 51)]),
      writers({ 51: { schema: scale4 } }),
    );
    expect(batch.failures).toEqual([]);
    expect(dec(batch, 'price', 0)).toBe('97000.12340000');
  });

  it('decodes v1 records and upgrades them to v2 (ms → µs, scale 6 → 8, volume → quantity, venue fields → vendor_data)', () => {
    const v1 = {
      symbol: 'BHP',
      company_id: 7,
      exchange: 'ASX',
      exchange_timestamp: 1_704_067_200_123,
      price: 45_670_000, // 45.67 at scale 6
      volume: 1_500,
      currency: 'AUD',
      side: 'sell',
      qualifiers: 2,
      venue: 'X',
      sequence_number: 42,
      ingestion_timestamp: 1_704_067_200_200,
    };
    const batch = new TableDecoder('trades_v2').decode(batchOf([encode('trade', v1)]), writers());
    expect(batch.failures).toEqual([]);
    expect(str(batch, 'message_id', 0)).toBe(uuidV5('trade|ASX|BHP|42'));
    expect(str(batch, 'trade_id', 0)).toBe('42');
    expect(str(batch, 'asset_class', 0)).toBe('EQUITY');
    expect(str(batch, 'side', 0)).toBe('SELL');
    expect(i64(batch, 'timestamp', 0)).toBe(1_704_067_200_123_000n);
    expect(dec(batch, 'price', 0)).toBe('45.67000000');
    expect(dec(batch, 'quantity', 0)).toBe('1500.00000000');
    expect(i64(batch, 'source_sequence', 0)).toBe(42n);
    expect(mapAt(batch.columns.vendor_data as MapColumn, 0)).toEqual(
      new Map([
        ['company_id', '7'],
        ['qualifiers', '2'],
        ['venue', 'X'],
      ]),
    );
  });

  it('upgrade is deterministic and declares the v2 fields in table order', () => {
    const v1 = {
      symbol: 'CBA',
      exchange: 'ASX',
      exchange_timestamp: 1,
      price: 1,
      volume: 1,
      currency: 'AUD',
      side: null,
      sequence_number: null,
      ingestion_timestamp: 2,
    };
    const upgraded = upgradeTrade(v1);
    expect(Object.keys(upgraded)).toEqual(avroSchema('trade_v2').fields.map((f) => f.name));
    expect(upgradeTrade(v1).message_id).toBe(upgraded.message_id);
    expect(upgraded.side).toBe('UNKNOWN');
    expect(upgraded.vendor_data).toBeNull();
    expect(uuidV5('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('decodes quotes and reference data, v2 and v1', () => {
    const quote = {
      message_id: 'q-1',
      symbol: 'EURUSD',
      exchange: 'LMAX',
      asset_class: 'FX',
      timestamp: T0,
      bid_price: 108_512_000,
      bid_size: 100_000_000_000_000,
      ask_price: 108_513_000,
      ask_size: 50_000_000_000_000,
      currency: 'USD',
      source_sequence: 9,
      ingestion_timestamp: T0 + 5,
      platform_sequence: null,
      vendor_data: null,
    };
    const quoteV1 = {
      symbol: 'BHP',
      exchange: 'ASX',
      exchange_timestamp: 1_704_067_200_000,
      bid_price: 45_660_000,
      bid_volume: 10,
      ask_price: 45_680_000,
      ask_volume: 20,
      sequence_number: 3,
      ingestion_timestamp: 1_704_067_200_001,
    };
    const quotes = new TableDecoder('quotes_v2').decode(
      batchOf([encode('quote_v2', quote), encode('quote', quoteV1)]),
      writers(),
    );
    expect(quotes.failures).toEqual([]);
    expect(dec(quotes, 'ask_price', 0)).toBe('1.08513000');
    expect(dec(quotes, 'bid_size', 1)).toBe('10.00000000');
    expect(str(quotes, 'currency', 1)).toBe('AUD'); // the v1 default

    const reference = {
      message_id: 'r-1',
      exchange: 'BINANCE',
      symbol: 'BTCUSDT',
      name: 'Bitcoin / Tether',
      asset_class: 'CRYPTO',
      currency: 'USDT',
      lot_size: 1_000,
      tick_size: 1_000_000,
      listing_status: 'ACTIVE',
      valid_from: T0,
      ingestion_timestamp: T0,
      vendor_data: { base: 'BTC' },
    };
    const referenceV1 = {
      symbol: 'BHP',
      company_name: 'BHP Group',
      exchange: 'ASX',
      lot_size: 1,
      tick_size: 5_000,
      status: 'suspended',
      listing_date: 0,
      ingestion_timestamp: 1,
    };
    const refs = new TableDecoder('reference_data_v2').decode(
      batchOf([
        encode('reference_data_v2', reference),
        encode('reference_data', referenceV1),
        encode('reference_data', { ...referenceV1, status: 'halted' }),
      ]),
      writers(),
    );
    expect(refs.rowCount).toBe(2);
    expect(dec(refs, 'tick_size', 0)).toBe('0.01000000');
    expect(str(refs, 'listing_status', 1)).toBe('SUSPENDED');
    expect(dec(refs, 'tick_size', 1)).toBe('0.00500000');
    expect(refs.failures.map((f) => f.code)).toEqual(['K2_DECODE_BAD_ENUM']);
  });

  it('records with a writer schema of another record type are refused, not misread', () => {
    const other = JSON.stringify({
      type: 'record',
      name: 'Smoke',
      namespace: 'com.k2.test',
      fields: [{ name: 'symbol', type: 'string' }],
    });
    const value = encode(other, { symbol: 'X' }, 60);
    const batch = new TableDecoder('trades_v2').decode(batchOf([value]), writers({ 60: { schema: other } }));
    expect(batch.failures.map((f) => f.code)).toEqual(['K2_DECODE_INCOMPATIBLE_SCHEMA']);
    expect(avroSchemaText('trade_v2')).toContain('com.k2.marketdata');
    expect(ids.trade_v2).toBe(11);
  });
});
