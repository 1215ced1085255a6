import type avro from 'avsc';
import { avroType } from '../../src/codec/avro-types.js';
import { type KafkaValue, packBatch, type RecordBatch } from '../../src/codec/batch.js';
import type { WriterSchemas } from '../../src/codec/decode.js';
import { type AvroSchemaName, avroSchemaText } from '../../src/codec/schemas.js';
import { frame } from '../../src/codec/wire.js';

/** Schema ids as a registry would hand them out, for tests without one. */
export const ids = {
  trade_v2: 11,
  quote_v2: 12,
  reference_data_v2: 13,
  trade: 21,
  quote: 22,
  reference_data: 23,
};

export function writers(extra: WriterSchemas = {}): WriterSchemas {
  const out: WriterSchemas = { ...extra };
  for (const [name, id] of Object.entries(ids)) out[id] = { schema: avroSchemaText(name as AvroSchemaName) };
  return out;
}

const types = new Map<string, avro.Type>();
export function typeOf(name: AvroSchemaName | string): avro.Type {
  let type = types.get(name);
  if (!type) {
    type = avroType(name.startsWith('{') ? name : avroSchemaText(name as AvroSchemaName));
    types.set(name, type);
  }
  return type;
}

export const T0 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z in µs

/** A plausible v2 trade; `i` varies every field that can vary. */
export function trade(i: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    message_id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    trade_id: String(5_000_000_000 + i),
    symbol: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'AAPL'][i % 4],
    exchange: i % 4 === 3 ? 'NASDAQ' : 'BINANCE',
    asset_class: i % 4 === 3 ? 'EQUITY' : 'CRYPTO',
    timestamp: T0 + i * 1_000,
    price: 9_700_012_345_678n + BigInt(i), // 97000.12345678
    quantity: 1_234_567 + (i % 1000) * 100_000_001,
    currency: i % 4 === 3 ? 'USD' : 'USDT',
    side: ['BUY', 'SELL', 'SELL_SHORT', 'UNKNOWN'][i % 4],
    trade_conditions: i % 3 === 0 ? [] : ['@', `C${i % 7}`],
    source_sequence: i % 5 === 0 ? null : 1_000_000 + i,
    ingestion_timestamp: T0 + i * 1_000 + 250,
    platform_sequence: i % 2 === 0 ? null : i,
    vendor_data: i % 6 === 0 ? null : { is_buyer_maker: String(i % 2 === 0), venue: 'spot' },
    ...overrides,
  };
}

export function encode(name: AvroSchemaName | string, record: Record<string, unknown>, id?: number): Buffer {
  return frame(id ?? ids[name as keyof typeof ids], typeOf(name).toBuffer(record));
}

export function batchOf(values: (Uint8Array | null)[], firstOffset = 0n): RecordBatch {
  const records: KafkaValue[] = values.map((value, i) => ({ value, offset: firstOffset + BigInt(i) }));
  return packBatch(records);
}

export function tradeBatch(count: number, from = 0): RecordBatch {
  return batchOf(
    Array.from({ length: count }, (_, i) => encode('trade_v2', trade(from + i))),
    BigInt(from),
  );
}
