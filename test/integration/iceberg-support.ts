import { randomUUID } from 'node:crypto';
import { SqlCatalog } from '../../src/iceberg/catalog.js';
import { S3FileIO, type S3FileIOOptions } from '../../src/iceberg/io.js';
import type { Warehouse } from '../../src/iceberg/table.js';
import { stack } from '../support/stack.js';

/** A warehouse on the local stack under a catalog name no other test uses. */
export function testWarehouse(
  options: { io?: S3FileIOOptions; s3Endpoint?: string; catalogPort?: number } = {},
) {
  const { catalog, s3 } = stack();
  const catalogName = `t_${randomUUID().slice(0, 12).replace('-', '')}`;
  const io = new S3FileIO(
    { ...s3, ...(options.s3Endpoint ? { endpoint: options.s3Endpoint } : {}) },
    options.io,
  );
  const sql = new SqlCatalog({
    name: catalogName,
    connection: { ...catalog, ...(options.catalogPort ? { port: options.catalogPort } : {}) },
  });
  const warehouse: Warehouse = {
    catalog: sql,
    io,
    location: `s3://${s3.bucket}/test-warehouse/${catalogName}`,
  };
  return {
    catalogName,
    warehouse,
    async close() {
      await sql.close();
      io.destroy();
    },
  };
}

export interface TradeRow {
  message_id: string;
  trade_id: string;
  symbol: string;
  exchange: string;
  asset_class: string;
  timestamp: number;
  price: string;
  quantity: string;
  currency: string;
  side: string;
  trade_conditions: string[] | null;
  source_sequence: number | null;
  ingestion_timestamp: number;
  platform_sequence: number | null;
  vendor_data: Record<string, string> | null;
}

export const DAY_MICROS = 86_400_000_000;
/** 2024-03-01T00:00:00Z in microseconds. */
export const MARCH_1 = 1_709_251_200_000_000;

/**
 * Deterministic trades for one (day, exchange) partition: decimals with all 8 places used, times with
 * odd microseconds, and nulls, lists and maps in some rows.
 */
export function trades(day: number, exchange: string, count: number, seed = 0): TradeRow[] {
  const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
  return Array.from({ length: count }, (_, i) => {
    const n = seed * 100_000 + i;
    const ts = MARCH_1 + day * DAY_MICROS + 1_000 + seed * 7 + i * 997_001;
    return {
      message_id: `${exchange}-${day}-${seed}-${String(i).padStart(6, '0')}`,
      trade_id: `T${n}`,
      symbol: symbols[i % symbols.length]!,
      exchange,
      asset_class: 'CRYPTO',
      timestamp: ts,
      price: `${60_000 + (n % 977)}.${String((n * 7_919) % 100_000_000).padStart(8, '0')}`,
      quantity: `0.${String((n * 104_729 + 1) % 100_000_000).padStart(8, '0')}`,
      currency: 'USDT',
      side: i % 2 === 0 ? 'BUY' : 'SELL',
      trade_conditions: i % 3 === 0 ? null : i % 3 === 1 ? [] : ['X', `C${i}`],
      source_sequence: i % 5 === 0 ? null : 9_007_199_254_740 + n,
      ingestion_timestamp: ts + 123,
      platform_sequence: i % 4 === 0 ? null : n,
      vendor_data: i % 2 === 0 ? null : { venue_id: `${n}`, flag: 'm' },
    };
  });
}

/** A data file's description for commit-only tests: stats as the encoder gives them, no object behind it. */
export function fakeDataFile(
  location: string,
  name: string,
  records: number,
  day = 19_783,
  exchange = 'BINANCE',
) {
  return {
    filePath: `${location}/data/${name}.parquet`,
    fileFormat: 'PARQUET' as const,
    fileSizeInBytes: 1_000 + records,
    recordCount: records,
    partition: new Map<number, string | number>([
      [1000, day],
      [1001, exchange],
    ]),
    specId: 0,
    columnSizes: new Map<number, number>(),
    valueCounts: new Map<number, number>(),
    nullValueCounts: new Map<number, number>(),
    nanValueCounts: new Map<number, number>(),
    lowerBounds: new Map<number, Uint8Array>(),
    upperBounds: new Map<number, Uint8Array>(),
    splitOffsets: [4],
  };
}

/** Keys under a warehouse URI prefix. */
export async function listUris(io: { list(prefix: string): AsyncIterable<{ uri: string }> }, prefix: string) {
  const out: string[] = [];
  for await (const o of io.list(prefix)) out.push(o.uri);
  return out.sort();
}
