/**
 * `npm run bench:query`: hybrid query latency over one day of 10M trades (100 series: 50 symbols on 2
 * exchanges), in two layouts of 100 files x ~100k rows each: "compacted" (each exchange's day sorted
 * by symbol then time, as `k2 iceberg compact` leaves it) and "streamed" (time slices, each file
 * sorted by symbol, as commits leave it). For one symbol over the day: the newest 100 trades and
 * 1-minute bars, p50/p99 with a warm and a cold file cache, the share of files pruned, and a
 * 10k-record Kafka tail read on every hybrid query. Baselines from the same run: DuckDB alone over the
 * same local files, and S3 downloads of them. Prints figures; asserts nothing.
 *
 * The data is generated once (Parquet through the codec's encode path, committed through the
 * Iceberg writer) into catalog `k2_bench`, namespace `bench_query`, and reused by later runs.
 *
 *   npm run bench:query [-- --warm 50 --cold 10]
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { avroType } from '../src/codec/avro-types.js';
import type { ColumnSet, Int64Column, ListColumn, MapColumn, Utf8Column } from '../src/codec/columns.js';
import { avroSchemaText } from '../src/codec/schemas.js';
import { frame } from '../src/codec/wire.js';
import { loadConfig } from '../src/config/index.js';
import { TableExistsError } from '../src/errors/index.js';
import { appendFiles } from '../src/iceberg/append.js';
import { SqlCatalog } from '../src/iceberg/catalog.js';
import type { DataFile } from '../src/iceberg/datafile.js';
import { mapLimit } from '../src/iceberg/entries.js';
import { S3FileIO } from '../src/iceberg/io.js';
import { currentSnapshot } from '../src/iceberg/metadata.js';
import { groupOffsets } from '../src/iceberg/offsets.js';
import { marketPredicates, planScan } from '../src/iceberg/scan.js';
import { createTable, loadTable, type Table, type Warehouse } from '../src/iceberg/table.js';
import { k2TableDefinition } from '../src/iceberg/tables.js';
import { createKafka, Partitioners } from '../src/kafka/client.js';
import { DuckEngine } from '../src/query/duck-engine.js';
import { FileCache } from '../src/query/file-cache.js';
import { KafkaTailSource } from '../src/query/kafka-source.js';
import { parseQueryRequest, type QueryParams } from '../src/query/request.js';
import type { QueryResult } from '../src/query/result.js';
import { QueryService } from '../src/query/service.js';
import { Registry } from '../src/registry/registry.js';
import { valueSubject } from '../src/registry/subjects.js';
import { CodecPool } from '../src/workers/pool.js';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const WARM = arg('warm', 50);
const COLD = arg('cold', 10);
const TRADES = 10_000_000;
const FILES_PER_EXCHANGE = 50;
const TAIL = 10_000;
const DAY = 20_090; // 2025-01-02
const DAY_MICROS = 86_400_000_000n;
const DAY_START = BigInt(DAY) * DAY_MICROS;
const EXCHANGES = ['BINANCE', 'COINBASE'];
const SYMBOLS = Array.from({ length: 50 }, (_, i) => `SYM${String(i).padStart(2, '0')}USDT`);
const NAMESPACE = 'bench_query';
const GROUP = 'k2-bench';
const TOPIC = 'k2bench.query.trades';

const { config } = loadConfig();
const { name: _configured, ...connection } = config.catalog;
const catalog = new SqlCatalog({ name: 'k2_bench', connection });
const io = new S3FileIO({ ...config.s3 });
const warehouse: Warehouse = { catalog, io, location: `s3://${config.s3.bucket}/bench/k2_bench` };
const pool = new CodecPool({ minThreads: 2, maxThreads: 2 });

/** A small fast deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Series {
  exchange: string;
  symbol: string;
  /** Sorted trade times over the day, microseconds. */
  times: BigInt64Array;
  prices: BigInt64Array;
  quantities: BigInt64Array;
}

/** 100 series with Zipf-like activity (10M trades in all), each a random walk over the day. */
function generateSeries(): Series[] {
  const weights = EXCHANGES.flatMap((_, e) => SYMBOLS.map((_, s) => 1 / (1 + ((s + e * 7) % 50) / 8)));
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.floor((w / total) * TRADES));
  counts[0]! += TRADES - counts.reduce((a, b) => a + b, 0);
  return EXCHANGES.flatMap((exchange, e) =>
    SYMBOLS.map((symbol, s) => {
      const n = counts[e * SYMBOLS.length + s]!;
      const next = random(1 + e * 1000 + s);
      const offsets = new Float64Array(n);
      for (let i = 0; i < n; i++) offsets[i] = next();
      offsets.sort();
      const times = new BigInt64Array(n);
      const prices = new BigInt64Array(n);
      const quantities = new BigInt64Array(n);
      let price = BigInt(1_000 + s * 97) * 100_000_000n;
      for (let i = 0; i < n; i++) {
        times[i] = DAY_START + BigInt(Math.floor(offsets[i]! * 86_400_000_000));
        price += BigInt(Math.floor((next() - 0.5) * 2_000_000));
        if (price < 100_000_000n) price = 100_000_000n;
        prices[i] = price;
        quantities[i] = BigInt(Math.floor(next() * 500_000_000) + 1);
      }
      return { exchange, symbol, times, prices, quantities };
    }),
  );
}

/** Rows [from, to) of several series as one ColumnSet, in the order given (already sorted by symbol, time). */
function columnSet(parts: { series: Series; from: number; to: number; index: number }[]): ColumnSet {
  const rowCount = parts.reduce((n, p) => n + p.to - p.from, 0);
  const strings = (value: (p: (typeof parts)[number], i: number) => string): Utf8Column => {
    const texts: string[] = [];
    for (const p of parts) for (let i = p.from; i < p.to; i++) texts.push(value(p, i));
    const data = Buffer.from(texts.join(''), 'utf8');
    const offsets = new Int32Array(rowCount + 1);
    let at = 0;
    texts.forEach((t, i) => {
      at += Buffer.byteLength(t);
      offsets[i + 1] = at;
    });
    return { kind: 'utf8', offsets, data: new Uint8Array(data), validity: null };
  };
  const longs = (value: (p: (typeof parts)[number], i: number) => bigint): Int64Column => {
    const values = new BigInt64Array(rowCount);
    let r = 0;
    for (const p of parts) for (let i = p.from; i < p.to; i++) values[r++] = value(p, i);
    return { kind: 'int64', values, validity: null };
  };
  const allNull = () => new Uint8Array(Math.ceil(rowCount / 8));
  const empty = (): Utf8Column => ({
    kind: 'utf8',
    offsets: new Int32Array(1),
    data: new Uint8Array(0),
    validity: null,
  });
  const list: ListColumn = {
    kind: 'list',
    offsets: new Int32Array(rowCount + 1),
    items: empty(),
    validity: allNull(),
  };
  const map: MapColumn = {
    kind: 'map',
    offsets: new Int32Array(rowCount + 1),
    keys: empty(),
    values: empty(),
    validity: allNull(),
  };
  return {
    rowCount,
    columns: {
      message_id: strings((p, i) => `b-${p.index}-${i}`),
      trade_id: strings((_, i) => String(1_000_000_000 + i)),
      symbol: strings((p) => p.series.symbol),
      exchange: strings((p) => p.series.exchange),
      asset_class: strings(() => 'CRYPTO'),
      timestamp: longs((p, i) => p.series.times[i]!),
      price: longs((p, i) => p.series.prices[i]!),
      quantity: longs((p, i) => p.series.quantities[i]!),
      currency: strings(() => 'USDT'),
      side: strings((_, i) => (i % 2 === 0 ? 'BUY' : 'SELL')),
      trade_conditions: list,
      source_sequence: longs((_, i) => BigInt(1_000_000_000 + i)),
      ingestion_timestamp: longs((p, i) => p.series.times[i]! + 150n),
      platform_sequence: { kind: 'int64', values: new BigInt64Array(rowCount), validity: allNull() },
      vendor_data: map,
    },
  };
}

type Layout = 'compacted' | 'streamed';

/** Each layout's files as lists of series slices: ~100k rows per file, 50 files per exchange. */
function fileSlices(all: Series[], layout: Layout) {
  const files: { exchange: string; parts: { series: Series; from: number; to: number; index: number }[] }[] =
    [];
  for (const exchange of EXCHANGES) {
    const series = all.map((s, index) => ({ s, index })).filter(({ s }) => s.exchange === exchange);
    if (layout === 'compacted') {
      const rows = series.reduce((n, { s }) => n + s.times.length, 0);
      const perFile = Math.ceil(rows / FILES_PER_EXCHANGE);
      let current: (typeof files)[number]['parts'] = [];
      let size = 0;
      for (const { s, index } of series) {
        let from = 0;
        while (from < s.times.length) {
          const take = Math.min(perFile - size, s.times.length - from);
          current.push({ series: s, from, to: from + take, index });
          size += take;
          from += take;
          if (size === perFile) {
            files.push({ exchange, parts: current });
            current = [];
            size = 0;
          }
        }
      }
      if (current.length > 0) files.push({ exchange, parts: current });
    } else {
      for (let f = 0; f < FILES_PER_EXCHANGE; f++) {
        const start = DAY_START + (DAY_MICROS * BigInt(f)) / BigInt(FILES_PER_EXCHANGE);
        const end = DAY_START + (DAY_MICROS * BigInt(f + 1)) / BigInt(FILES_PER_EXCHANGE);
        files.push({
          exchange,
          parts: series.map(({ s, index }) => ({
            series: s,
            from: lowerBound(s.times, start),
            to: lowerBound(s.times, end),
            index,
          })),
        });
      }
    }
  }
  return files;
}

function lowerBound(values: BigInt64Array, target: bigint): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The layout's table, generated and committed once; later runs find it complete and reuse it. */
async function benchTable(layout: Layout, series: () => Series[], tailStart: bigint): Promise<Table> {
  const id = `${NAMESPACE}.trades_${layout}`;
  if (!(await catalog.namespaceExists(NAMESPACE))) await catalog.createNamespace(NAMESPACE);
  let table: Table;
  try {
    table = await createTable(
      warehouse,
      id,
      k2TableDefinition('trades_v2', `${warehouse.location}/${NAMESPACE}/trades_${layout}`),
    );
  } catch (error) {
    if (!(error instanceof TableExistsError)) throw error;
    table = await loadTable(warehouse, id);
  }
  if (currentSnapshot(table.metadata)?.summary['total-records'] === String(TRADES)) return table;
  const started = performance.now();
  const slices = fileSlices(series(), layout);
  let done = 0;
  const files = await mapLimit(slices, 2, async ({ exchange, parts }): Promise<DataFile> => {
    const { bytes, stats } = await pool.encode('trades_v2', [columnSet(parts)]);
    const filePath = `${table.metadata.location}/data/exchange=${exchange}/${randomUUID()}.parquet`;
    await io.write(filePath, bytes);
    if (++done % 20 === 0) process.stderr.write(`  ${layout}: ${done}/${slices.length} files written\n`);
    return {
      ...stats,
      filePath,
      fileFormat: 'PARQUET',
      fileSizeInBytes: bytes.byteLength,
      partition: new Map<number, string | number>([
        [1000, DAY],
        [1001, exchange],
      ]),
      specId: 0,
      sortOrderId: 1,
    };
  });
  const result = await appendFiles(warehouse, table, {
    files,
    commitId: `bench-${layout}-${TRADES}`,
    writerId: 'bench:query',
    // The day is committed up to the topic's end now: what the bench produces afterwards is the tail.
    offsets: { group: GROUP, ranges: [{ topic: TOPIC, partition: 0, nextOffset: tailStart }] },
    checkFiles: false,
  });
  process.stderr.write(
    `  ${layout}: generated and committed in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return result.table;
}

/** A tail of TAIL trades after the recorded offset, produced once (the topic keeps it). */
async function ensureTopic(): Promise<{ start: bigint; end: bigint }> {
  const kafka = createKafka({ clientId: 'k2-bench', brokers: [...config.kafka.brokers] });
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(TOPIC)) {
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
    }
    const [mark] = await admin.fetchTopicOffsets(TOPIC);
    const end = BigInt(mark!.high);
    if (end >= BigInt(TAIL)) return { start: end - BigInt(TAIL), end };
    const id = await new Registry({ url: config.registry.url }).register(
      valueSubject(TOPIC),
      avroSchemaText('trade_v2'),
    );
    const type = avroType(avroSchemaText('trade_v2'));
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    for (let at = 0; at < TAIL; at += 1_000) {
      await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: Array.from({ length: 1_000 }, (_, k) => {
          const i = at + k;
          const symbol = SYMBOLS[i % SYMBOLS.length]!;
          return {
            key: symbol,
            partition: 0,
            value: frame(
              id,
              type.toBuffer({
                message_id: `tail-${i}`,
                trade_id: String(i),
                symbol,
                exchange: EXCHANGES[i % 2]!,
                asset_class: 'CRYPTO',
                timestamp: DAY_START + DAY_MICROS - 1_000_000n + BigInt(i) * 50n,
                price: 100_000_000_000n + BigInt(i),
                quantity: 50_000_000n,
                currency: 'USDT',
                side: 'BUY',
                trade_conditions: [],
                source_sequence: null,
                ingestion_timestamp: DAY_START + DAY_MICROS,
                platform_sequence: null,
                vendor_data: null,
              }),
            ),
          };
        }),
      });
    }
    await producer.disconnect();
    return { start: end, end: end + BigInt(TAIL) };
  } finally {
    await admin.disconnect();
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const ms = (v: number) => `${v.toFixed(1)} ms`.padStart(10);

interface Measured {
  times: number[];
  last: QueryResult;
}

async function main() {
  console.log(
    `query bench: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, load ${loadavg()[0]!.toFixed(1)}, node ${process.version}; ` +
      `${TRADES.toLocaleString('en-US')} trades on ${new Date(Number(DAY_START / 1000n)).toISOString().slice(0, 10)}, ` +
      `${EXCHANGES.length * FILES_PER_EXCHANGE} files per layout; warm runs ${WARM}, cold runs ${COLD}`,
  );
  const tail = await ensureTopic();
  let generated: Series[] | undefined;
  const series = () => (generated ??= generateSeries());
  const tables = {
    compacted: await benchTable('compacted', series, tail.start),
    streamed: await benchTable('streamed', series, tail.start),
  };
  generated = undefined;

  const cacheDir = join(tmpdir(), 'k2-bench-query-cache');
  rmSync(cacheDir, { recursive: true, force: true });
  const cache = await FileCache.open({ dir: cacheDir, maxBytes: 4 * 1024 ** 3, io });
  const tailSource = new KafkaTailSource({ brokers: [...config.kafka.brokers] });
  const schemas = new Registry({ url: config.registry.url });
  // Services share the pool, the Kafka connection and the file cache; each has its own DuckDB.
  const service = async () => {
    const engine = await DuckEngine.create({ allowedDirectories: [cacheDir] });
    return {
      engine,
      service: new QueryService({ warehouse, pool, schemas, tailSource, cache, engine, group: GROUP }),
    };
  };
  const symbol = SYMBOLS[20]!;
  const day = { from: String(DAY_START), to: String(DAY_START + DAY_MICROS), symbols: symbol };
  const queries: [string, QueryParams][] = [
    ['last 100 trades', { kind: 'trades', last: '100', ...day }],
    ['1-minute bars', { kind: 'bars', interval: '1m', ...day }],
  ];
  const now = DAY_START + 2n * DAY_MICROS;

  const measure = async (
    svc: QueryService,
    params: QueryParams,
    runs: number,
    cold: boolean,
  ): Promise<Measured> => {
    const times: number[] = [];
    let last: QueryResult | undefined;
    for (let r = 0; r < runs; r++) {
      // Cold: no cached file and a fresh DuckDB (its Parquet metadata cache is part of "warm").
      const fresh = cold ? await service() : undefined;
      if (cold) await cache.clear();
      const started = performance.now();
      last = await (fresh?.service ?? svc).run(parseQueryRequest(params, now));
      times.push(performance.now() - started);
      fresh?.engine.close();
    }
    return { times: times.sort((a, b) => a - b), last: last! };
  };

  console.log(
    `\n${'layout'.padEnd(10)} ${'query'.padEnd(16)} ${'source'.padEnd(8)} ${'cache'.padEnd(5)} ${'p50'.padStart(10)} ${'p99'.padStart(10)}  files read  pruned   rows  tail rows  downloaded  last run: plan/fetch/tail/views/query ms`,
  );
  for (const layout of ['compacted', 'streamed'] as const) {
    for (const [label, base] of queries) {
      for (const source of ['hybrid', 'iceberg'] as const) {
        const params = { ...base, table: `${NAMESPACE}.trades_${layout}`, source };
        const { engine, service: svc } = await service();
        await measure(svc, params, 1, false);
        const runs: [string, Measured][] = [['warm', await measure(svc, params, WARM, false)]];
        if (source === 'hybrid') runs.push(['cold', await measure(svc, params, COLD, true)]);
        for (const [cacheState, { times, last }] of runs) {
          const t = last.meta.tables[0]!;
          console.log(
            `${layout.padEnd(10)} ${label.padEnd(16)} ${source.padEnd(8)} ${cacheState.padEnd(5)} ${ms(percentile(times, 50))} ${ms(percentile(times, 99))}  ` +
              `${`${t.iceberg.files.scanned}/${t.iceberg.files.total}`.padStart(10)}  ${`${(t.iceberg.files.prunedShare * 100).toFixed(0)}%`.padStart(6)} ` +
              `${String(last.rows.length).padStart(6)}  ${String(t.kafka.rows).padStart(9)}  ${(last.meta.cache.bytesDownloaded / 1024 ** 2).toFixed(1).padStart(7)} MB  ` +
              `${[last.meta.timings.planMs, last.meta.timings.fetchMs, last.meta.timings.tailMs, last.meta.timings.viewMs, last.meta.timings.queryMs].map((v) => v.toFixed(0)).join('/')}`,
          );
        }
        engine.close();
      }
    }
  }
  await baselines(tables, symbol, cacheDir);
  await tailSource.close();
}

/** DuckDB alone over the same local files (no planning, no tail), and the S3 download of those files. */
async function baselines(tables: Record<Layout, Table>, symbol: string, cacheDir: string) {
  console.log('\nbaselines (same run):');
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  for (const layout of ['compacted', 'streamed'] as const) {
    const plan = await planScan(
      warehouse,
      tables[layout],
      marketPredicates({ from: DAY_START, to: DAY_START + DAY_MICROS, symbols: [symbol] }),
    );
    const downloadStarted = performance.now();
    const bytes = await mapLimit(plan.files, 8, async (f) => (await io.read(f.filePath)).byteLength);
    const downloadMs = performance.now() - downloadStarted;
    const cache = await FileCache.open({
      dir: join(cacheDir, `baseline-${layout}`),
      maxBytes: 4 * 1024 ** 3,
      io,
    });
    const scratch = await cache.scratch();
    const { paths } = await cache.fetch(plan.files, scratch);
    const list = paths.map((p) => `'${p}'`).join(', ');
    const times: number[] = [];
    for (let r = 0; r < 20; r++) {
      const started = performance.now();
      await db.runAndReadAll(
        `SELECT epoch_us("timestamp") // 60000000 AS m, min(price), max(price), sum(quantity), count(*)
           FROM read_parquet([${list}]) WHERE symbol = '${symbol}' GROUP BY 1`,
      );
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    console.log(
      `  ${layout.padEnd(10)} DuckDB 1-minute bars over the ${plan.files.length} planned local files: p50 ${ms(percentile(times, 50))}; ` +
        `S3 download of them (8 at once): ${ms(downloadMs)} for ${(bytes.reduce((a, b) => a + b, 0) / 1024 ** 2).toFixed(1)} MB`,
    );
    await scratch.dispose();
  }
  db.closeSync();
  const table = tables.compacted;
  console.log(
    `  recorded offsets of ${GROUP}: ${JSON.stringify([...(groupOffsets(table.metadata, GROUP).get(TOPIC) ?? [])].map(([p, o]) => [p, String(o)]))}`,
  );
}

try {
  await main();
} finally {
  await pool.destroy();
  await catalog.close();
  io.destroy();
}
