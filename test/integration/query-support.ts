import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { avroType } from '../../src/codec/avro-types.js';
import { packBatch } from '../../src/codec/batch.js';
import { formatDecimal } from '../../src/codec/decimal.js';
import type { FileLayout } from '../../src/codec/layout.js';
import { avroSchemaText } from '../../src/codec/schemas.js';
import { frame } from '../../src/codec/wire.js';
import { appendFiles } from '../../src/iceberg/append.js';
import type { DataFile } from '../../src/iceberg/datafile.js';
import { ensureK2Table } from '../../src/iceberg/table.js';
import { k2TableDefinition } from '../../src/iceberg/tables.js';
import { Partitioners } from '../../src/kafka/client.js';
import { divideDecimal } from '../../src/query/decimal-ratio.js';
import { DuckEngine } from '../../src/query/duck-engine.js';
import { FileCache } from '../../src/query/file-cache.js';
import { KafkaTailSource, type TailSource } from '../../src/query/kafka-source.js';
import { parseQueryRequest, type QueryParams } from '../../src/query/request.js';
import type { QueryResult } from '../../src/query/result.js';
import { QueryService, type QueryServiceDeps } from '../../src/query/service.js';
import { Registry } from '../../src/registry/registry.js';
import { valueSubject } from '../../src/registry/subjects.js';
import { CodecPool } from '../../src/workers/pool.js';
import { kafka, stack } from '../support/stack.js';
import { testWarehouse } from './iceberg-support.js';

/** 2025-01-01T00:00:00Z in µs. */
export const T0 = 1_735_689_600_000_000n;
/** "now" for the tests' queries: a week after T0. */
export const NOW = T0 + 7n * 86_400_000_000n;
/** Trades are ~6 s apart: 600 of them span an hour. */
export const STEP = 6_007_001n;
const SERIES = [
  ['BTCUSDT', 'BINANCE'],
  ['ETHUSDT', 'BINANCE'],
  ['BTCUSDT', 'COINBASE'],
  ['AAPL', 'NASDAQ'],
] as const;

export interface Trade {
  i: number;
  messageId: string;
  symbol: string;
  exchange: string;
  timestamp: bigint;
  /** Unscaled at scale 8. */
  price: bigint;
  quantity: bigint;
  sequence: bigint;
  partition: number;
  value: Buffer;
  /** Set once produced. */
  offset?: bigint;
}

const tradeType = avroType(avroSchemaText('trade_v2'));

/**
 * Deterministic trades over four exchange/symbol series, one Kafka partition per series (mod the
 * partition count). Every 40th exchange sequence number of a series is skipped: known gaps.
 */
export function makeTrades(
  schemaId: number,
  count: number,
  partitions: number,
  runId = randomUUID().slice(0, 8),
) {
  const sequences = SERIES.map(() => 1_000n);
  return Array.from({ length: count }, (_, i): Trade => {
    const s = i % SERIES.length;
    const [symbol, exchange] = SERIES[s]!;
    sequences[s]! += sequences[s]! % 40n === 39n ? 2n : 1n;
    const trade = {
      i,
      messageId: `${runId}-${String(i).padStart(6, '0')}`,
      symbol,
      exchange,
      timestamp: T0 + BigInt(i) * STEP,
      price: BigInt(100 + ((i * 37) % 50)) * 100_000_000n + BigInt((i * 7_919) % 100_000_000),
      quantity: BigInt(((i * 104_729) % 1_000_000_000) + 1),
      sequence: sequences[s]!,
      partition: s % partitions,
    };
    const record = {
      message_id: trade.messageId,
      trade_id: String(trade.sequence),
      symbol,
      exchange,
      asset_class: exchange === 'NASDAQ' ? 'EQUITY' : 'CRYPTO',
      timestamp: trade.timestamp,
      price: trade.price,
      quantity: trade.quantity,
      currency: exchange === 'NASDAQ' ? 'USD' : 'USDT',
      side: i % 2 === 0 ? 'BUY' : 'SELL',
      trade_conditions: [],
      source_sequence: Number(trade.sequence),
      ingestion_timestamp: trade.timestamp + 250n,
      platform_sequence: null,
      vendor_data: null,
    };
    return { ...trade, value: frame(schemaId, tradeType.toBuffer(record)) };
  });
}

export const price = (unscaled: bigint) => formatDecimal(unscaled, 8);

/** A topic, a table and a query service of their own on the local stack. */
export async function queryEnv(
  options: { partitions?: number; tailSource?: TailSource; deps?: Partial<QueryServiceDeps> } = {},
) {
  const partitions = options.partitions ?? 2;
  const warehouse = testWarehouse();
  const namespace = `q_${warehouse.catalogName.slice(2)}`;
  const tableId = `${namespace}.trades_v2`;
  const topic = `k2test.query.${randomUUID().slice(0, 8)}`;
  const admin = kafka('k2-test-admin').admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  const registry = new Registry({ url: stack().registry.url });
  const schemaId = await registry.register(valueSubject(topic), avroSchemaText('trade_v2'));
  const table = await ensureK2Table(warehouse.warehouse, 'trades_v2', namespace);
  const pool = new CodecPool({ minThreads: 1, maxThreads: 2 });
  const cacheDir = mkdtempSync(join(tmpdir(), 'k2-query-test-'));
  const tailSource = options.tailSource ?? new KafkaTailSource({ brokers: stack().kafka.brokers });
  const group = 'k2-ingest-test';
  const services: QueryService[] = [];
  /** A query service on this warehouse; `deps` replaces parts of it (a dead Kafka, a dead S3). */
  const serviceWith = async (deps: Partial<QueryServiceDeps> = {}) => {
    const service = new QueryService({
      warehouse: warehouse.warehouse,
      pool,
      schemas: registry,
      tailSource,
      cache: await FileCache.open({
        dir: cacheDir,
        maxBytes: 256 * 1024 * 1024,
        io: deps.warehouse?.io ?? warehouse.warehouse.io,
      }),
      engine: await DuckEngine.create({ allowedDirectories: [cacheDir] }),
      group,
      ...deps,
    });
    services.push(service);
    return service;
  };
  const service = await serviceWith(options.deps);
  const definition = k2TableDefinition('trades_v2', table.metadata.location);
  const layout: FileLayout = {
    specId: 0,
    partitionFields: definition.spec.fields,
    sortColumns: ['symbol', 'timestamp'],
  };
  let commits = 0;

  return {
    warehouse,
    namespace,
    tableId,
    topic,
    schemaId,
    group,
    pool,
    service,
    serviceWith,
    cacheDir,
    trades: (count: number, runId?: string) => makeTrades(schemaId, count, partitions, runId),

    /** Produces trades to their partitions, keyed by symbol, and records each one's offset. */
    async produce(trades: Trade[]): Promise<void> {
      const producer = kafka('k2-test-producer').producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      try {
        for (let p = 0; p < partitions; p++) {
          const mine = trades.filter((t) => t.partition === p);
          for (let at = 0; at < mine.length; at += 500) {
            const chunk = mine.slice(at, at + 500);
            const [meta] = await producer.send({
              topic,
              acks: -1,
              messages: chunk.map((t) => ({ key: t.symbol, value: t.value, partition: p })),
            });
            chunk.forEach((t, k) => {
              t.offset = BigInt(meta!.baseOffset!) + BigInt(k);
            });
          }
        }
      } finally {
        await producer.disconnect();
      }
    },

    /**
     * Commits trades to the table as the supervisor would: decoded in the pool, one sorted file per
     * partition tuple, one append. With `group`, the append records per partition the next offset
     * after the trades (they must follow what the group recorded); without, no offsets (a backfill).
     */
    async commit(trades: Trade[], group?: string) {
      const decoded = await pool.decodeResolved(
        'trades_v2',
        packBatch(trades.map((t) => ({ value: t.value, offset: t.offset ?? BigInt(t.i) }))),
        { [schemaId]: { schema: avroSchemaText('trade_v2') } },
      );
      const { files } = await pool.write({ table: 'trades_v2', layout, chunks: [decoded], keep: [null] });
      const location = table.metadata.location;
      const dataFiles: DataFile[] = [];
      for (const file of files) {
        const filePath = `${location}/data/${randomUUID()}.parquet`;
        await warehouse.warehouse.io.write(filePath, file.bytes);
        dataFiles.push({
          ...file.stats,
          filePath,
          fileFormat: 'PARQUET',
          fileSizeInBytes: file.bytes.byteLength,
          partition: file.partition,
          specId: 0,
        });
      }
      const ranges = new Map<number, { fromOffset: bigint; nextOffset: bigint }>();
      for (const t of trades) {
        const r = ranges.get(t.partition);
        const offset = t.offset!;
        ranges.set(t.partition, {
          fromOffset: r && r.fromOffset < offset ? r.fromOffset : offset,
          nextOffset: r && r.nextOffset > offset + 1n ? r.nextOffset : offset + 1n,
        });
      }
      return appendFiles(warehouse.warehouse, tableId, {
        files: dataFiles,
        commitId: `test-${++commits}-${randomUUID()}`,
        writerId: 'query-test',
        ...(group
          ? { offsets: { group, ranges: [...ranges].map(([partition, r]) => ({ topic, partition, ...r })) } }
          : {}),
      });
    },

    async query(params: QueryParams, on: QueryService = service): Promise<QueryResult> {
      return on.run(parseQueryRequest({ namespace, ...params }, NOW));
    },

    async close() {
      for (const s of services) await s.close();
      await pool.destroy();
      await warehouse.close();
      rmSync(cacheDir, { recursive: true, force: true });
    },
  };
}

export type QueryEnv = Awaited<ReturnType<typeof queryEnv>>;

/** Row objects of a result, by column name. */
export function records(result: QueryResult): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]])));
}

/** OHLCV bars computed the obvious way, in exact integers: what the query must match. */
export function bruteBars(trades: readonly Trade[], width: bigint) {
  const groups = new Map<string, Trade[]>();
  for (const t of trades) {
    const bucket = (t.timestamp / width) * width;
    const key = `${t.exchange}|${t.symbol}|${bucket}`;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return [...groups]
    .map(([key, group]) => {
      const [exchange, symbol, bucket] = key.split('|') as [string, string, string];
      const ordered = [...group].sort((a, b) =>
        a.timestamp === b.timestamp
          ? a.messageId.localeCompare(b.messageId)
          : a.timestamp < b.timestamp
            ? -1
            : 1,
      );
      const prices = ordered.map((t) => t.price).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const volume = ordered.reduce((sum, t) => sum + t.quantity, 0n);
      const notional = ordered.reduce((sum, t) => sum + t.price * t.quantity, 0n);
      return {
        exchange,
        symbol,
        bucket_start: BigInt(bucket),
        open: ordered[0]!.price,
        high: prices.at(-1)!,
        low: prices[0]!,
        close: ordered.at(-1)!.price,
        volume,
        vwap: divideDecimal(notional, 16, volume, 8, 8),
        trades: BigInt(ordered.length),
      };
    })
    .sort((a, b) =>
      a.exchange !== b.exchange
        ? a.exchange.localeCompare(b.exchange)
        : a.symbol !== b.symbol
          ? a.symbol.localeCompare(b.symbol)
          : a.bucket_start < b.bucket_start
            ? -1
            : 1,
    );
}
