import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { type KafkaValue, packBatch } from '../../src/codec/batch.js';
import { parseDecimal, twosComplementBytes } from '../../src/codec/decimal.js';
import { avroSchemaText } from '../../src/codec/schemas.js';
import { decodeBound } from '../../src/iceberg/bounds.js';
import { Registry } from '../../src/registry/registry.js';
import { valueSubject } from '../../src/registry/subjects.js';
import { CodecPool } from '../../src/workers/pool.js';
import { registry as confluentClient, stack, unique } from '../support/stack.js';

const TRADES = 100_000;
const BATCH = 10_000;
const T0 = 1_735_689_600_000_000; // 2025-01-01T00:00:00Z in µs

interface Expected {
  message_id: string;
  trade_id: string;
  symbol: string;
  exchange: string;
  asset_class: string;
  ts: string;
  price: string;
  quantity: string;
  currency: string;
  side: string;
  trade_conditions: string[];
  source_sequence: string | null;
  its: string;
  platform_sequence: string | null;
  vendor_data: { key: string; value: string }[] | null;
}

/** Decimal text with 8 places, including the extremes of decimal(18, 8). */
function decimalText(i: number, max: number): string {
  if (i === 0) return '9999999999.99999999';
  if (i === 1) return '0.00000001';
  const whole = (i * 7919) % max;
  const fraction = String((i * 104_729) % 100_000_000).padStart(8, '0');
  return `${whole}.${fraction}`;
}

function tradeAt(i: number): { record: Record<string, unknown>; expected: Expected } {
  const symbol = ['BTCUSDT', 'ETHUSDT', 'Ünïcødé-€', 'AAPL'][i % 4]!;
  const price = i % 97 === 5 ? `-${decimalText(i, 1000)}` : decimalText(i, 120_000);
  const quantity = decimalText(i + 2, 50);
  const conditions = i % 3 === 0 ? [] : ['@', `C${i % 11}`];
  const vendor = i % 6 === 0 ? null : { is_buyer_maker: String(i % 2 === 0), seq: String(i) };
  const record = {
    message_id: `m-${i}`,
    trade_id: String(i).padStart(9, '0'),
    symbol,
    exchange: i % 4 === 3 ? 'NASDAQ' : 'BINANCE',
    asset_class: i % 4 === 3 ? 'EQUITY' : 'CRYPTO',
    timestamp: T0 + i * 997,
    price: Buffer.from(twosComplementBytes(parseDecimal(price, 8))),
    quantity: Buffer.from(twosComplementBytes(parseDecimal(quantity, 8))),
    currency: i % 4 === 3 ? 'USD' : 'USDT',
    side: ['BUY', 'SELL', 'SELL_SHORT', 'UNKNOWN'][i % 4],
    trade_conditions: conditions,
    source_sequence: i % 5 === 0 ? null : 8_000_000_000_000 + i,
    ingestion_timestamp: T0 + i * 997 + 123,
    platform_sequence: i % 2 === 0 ? null : i,
    vendor_data: vendor,
  };
  const normalise = (text: string) => {
    const negative = text.startsWith('-');
    const [whole, fraction] = text.replace('-', '').split('.') as [string, string];
    return `${negative ? '-' : ''}${BigInt(whole)}.${fraction}`;
  };
  return {
    record,
    expected: {
      message_id: record.message_id,
      trade_id: record.trade_id,
      symbol,
      exchange: record.exchange,
      asset_class: record.asset_class,
      ts: String(record.timestamp),
      price: normalise(price),
      quantity: normalise(quantity),
      currency: record.currency,
      side: record.side!,
      trade_conditions: conditions,
      source_sequence: record.source_sequence === null ? null : String(record.source_sequence),
      its: String(record.ingestion_timestamp),
      platform_sequence: record.platform_sequence === null ? null : String(record.platform_sequence),
      vendor_data: vendor && Object.entries(vendor).map(([key, value]) => ({ key, value })),
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'k2-roundtrip-'));
const pool = new CodecPool({ minThreads: 2, maxThreads: 2 });
afterAll(async () => {
  await pool.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('codec round trip against the real registry', () => {
  it(`${TRADES} trades: Confluent producer encoding → pool decode → pool encode → Parquet read back by DuckDB, exact`, async () => {
    const subject = valueSubject(unique('market.crypto.trades'));
    const registry = new Registry({ url: stack().registry.url });
    const id = await registry.register(subject, avroSchemaText('trade_v2'));

    const producer = confluentClient();
    const expected: Expected[] = [];
    const values: KafkaValue[] = [];
    for (let i = 0; i < TRADES; i++) {
      const { record, expected: row } = tradeAt(i);
      expected.push(row);
      values.push({ value: await producer.encode(id, record), offset: BigInt(i) });
    }

    // Two batches in flight per thread: the pool's queue is bounded, as every K2 queue is.
    const decoded: Awaited<ReturnType<CodecPool['decode']>>[] = [];
    for (let b = 0; b < TRADES / BATCH; b += 4) {
      const wave = [b, b + 1, b + 2, b + 3].filter((n) => n < TRADES / BATCH);
      const batches = wave.map((n) => packBatch(values.slice(n * BATCH, (n + 1) * BATCH)));
      decoded.push(...(await Promise.all(batches.map((batch) => pool.decode('trades_v2', batch, registry)))));
    }
    for (const batch of decoded) expect(batch.failures).toEqual([]);
    expect(decoded.reduce((sum, batch) => sum + batch.rowCount, 0)).toBe(TRADES);
    expect(decoded[3]!.offsets[0]).toBe(30_000n);

    const file = await pool.encode('trades_v2', decoded);
    expect(file.stats.recordCount).toBe(TRADES);
    expect(decodeBound('decimal(18, 8)', file.stats.upperBounds.get(7)!)).toBe(999_999_999_999_999_999n);
    const path = join(dir, 'trades.parquet');
    writeFileSync(path, file.bytes);

    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const ids = (
      await db.runAndReadAll(
        `SELECT name, field_id FROM parquet_schema('${path}') WHERE field_id IS NOT NULL`,
      )
    ).getRowObjectsJson();
    expect(Object.fromEntries(ids.map((r) => [r.name, Number(r.field_id)]))).toEqual({
      message_id: 1,
      trade_id: 2,
      symbol: 3,
      exchange: 4,
      asset_class: 5,
      timestamp: 6,
      price: 7,
      quantity: 8,
      currency: 9,
      side: 10,
      trade_conditions: 11,
      element: 16,
      source_sequence: 12,
      ingestion_timestamp: 13,
      platform_sequence: 14,
      vendor_data: 15,
      key: 17,
      value: 18,
    });
    const rows = (
      await db.runAndReadAll(`
        SELECT message_id, trade_id, symbol, exchange, asset_class, epoch_us("timestamp")::VARCHAR AS ts,
               price::VARCHAR AS price, quantity::VARCHAR AS quantity, currency, side, trade_conditions,
               source_sequence::VARCHAR AS source_sequence, epoch_us(ingestion_timestamp)::VARCHAR AS its,
               platform_sequence::VARCHAR AS platform_sequence, vendor_data
        FROM '${path}' ORDER BY trade_id`)
    ).getRowObjectsJson();
    expect(rows).toHaveLength(TRADES);
    const mismatches = rows.filter((row, i) => JSON.stringify(row) !== JSON.stringify(expected[i]));
    expect(mismatches.slice(0, 3)).toEqual([]);
    expect(rows[0]).toMatchObject({ price: '9999999999.99999999' });
    expect(rows[1]).toMatchObject({ price: '0.00000001' });
  });
});
