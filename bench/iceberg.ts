/**
 * Iceberg commit throughput and latency on the local stack: appends of 1, 10 and 100 files, by one
 * writer and by two racing writers on one table. Baselines from the same run: one catalog UPDATE
 * round trip and one small S3 PUT. Prints figures; asserts nothing.
 *
 *   npm run bench:iceberg [-- --commits 40]
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/index.js';
import { appendFiles } from '../src/iceberg/append.js';
import { encodeBound } from '../src/iceberg/bounds.js';
import { SqlCatalog } from '../src/iceberg/catalog.js';
import type { DataFile } from '../src/iceberg/datafile.js';
import { mapLimit } from '../src/iceberg/entries.js';
import { S3FileIO } from '../src/iceberg/io.js';
import { newTableMetadata, type PartitionSpec } from '../src/iceberg/metadata.js';
import { bindPredicates, fileMayMatch, marketPredicates } from '../src/iceberg/scan.js';
import { ensureK2Table, type Table, type Warehouse } from '../src/iceberg/table.js';
import { k2TableDefinition } from '../src/iceberg/tables.js';
import { applyTransform, parseTransform } from '../src/iceberg/transforms.js';
import { tableSchema } from '../src/iceberg/types.js';

const { config } = loadConfig();
const commitsArg = process.argv.indexOf('--commits');
const COMMITS = commitsArg > 0 ? Number(process.argv[commitsArg + 1]) : 30;
const catalogName = `bench_${randomUUID().slice(0, 8)}`;
const root = `s3://${config.s3.bucket}/bench/${catalogName}`;

function warehouse(): Warehouse & { close(): Promise<void> } {
  const catalog = new SqlCatalog({ name: catalogName, connection: { ...config.catalog } });
  const io = new S3FileIO({ ...config.s3 });
  return {
    catalog,
    io,
    location: root,
    async close() {
      await catalog.close();
      io.destroy();
    },
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** Data files as the encoder hands them over: small objects really on S3, stats filled in. */
async function uploadFiles(w: Warehouse, location: string, count: number, tag: string): Promise<DataFile[]> {
  const body = new Uint8Array(2_048).fill(7);
  return mapLimit(
    Array.from({ length: count }, (_, i) => i),
    16,
    async (i) => {
      const filePath = `${location}/data/${tag}-${i}.parquet`;
      await w.io.write(filePath, body);
      return {
        filePath,
        fileFormat: 'PARQUET' as const,
        fileSizeInBytes: body.byteLength,
        recordCount: 1_000,
        partition: new Map<number, string | number>([
          [1000, 19_783 + (i % 2)],
          [1001, i % 3 === 0 ? 'BINANCE' : 'COINBASE'],
        ]),
        specId: 0,
        columnSizes: new Map([[1, 1_024]]),
        valueCounts: new Map([[1, 1_000]]),
        nullValueCounts: new Map([[1, 0]]),
        nanValueCounts: new Map(),
        lowerBounds: new Map(),
        upperBounds: new Map(),
        splitOffsets: [4],
      };
    },
  );
}

interface Run {
  latencies: number[];
  wallMs: number;
  conflicts: number;
}

async function writer(
  w: Warehouse,
  table: Table,
  files: DataFile[][],
  name: string,
  checkFiles = true,
): Promise<Run> {
  const latencies: number[] = [];
  let conflicts = 0;
  let current = table;
  const start = performance.now();
  for (const [i, batch] of files.entries()) {
    const t0 = performance.now();
    const result = await appendFiles(w, current, {
      files: batch,
      commitId: `${name}-${i}`,
      writerId: name,
      offsets: {
        group: 'bench',
        ranges: [{ topic: `bench.${name}`, partition: 0, nextOffset: BigInt(i + 1) }],
      },
      checkFiles,
    });
    latencies.push(performance.now() - t0);
    conflicts += result.attempts - 1;
    current = result.table;
  }
  return { latencies, wallMs: performance.now() - start, conflicts };
}

function report(label: string, runs: Run[]) {
  const all = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const wall = Math.max(...runs.map((r) => r.wallMs));
  const conflicts = runs.reduce((n, r) => n + r.conflicts, 0);
  console.log(
    `${label.padEnd(34)} ${(all.length / (wall / 1000)).toFixed(1).padStart(7)} commits/s   p50 ${fmt(percentile(all, 50)).padStart(9)}   p99 ${fmt(percentile(all, 99)).padStart(9)}   lost CAS ${conflicts}`,
  );
}

async function baselines(w: Warehouse, table: Table) {
  const put: number[] = [];
  const cas: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    await w.io.write(`${root}/baseline/${i}`, new Uint8Array(2_048));
    put.push(performance.now() - t0);
    const t1 = performance.now();
    await w.catalog.swapMetadataLocation(table.identifier, table.metadataLocation, table.metadataLocation);
    cas.push(performance.now() - t1);
  }
  put.sort((a, b) => a - b);
  cas.sort((a, b) => a - b);
  console.log(
    `baseline: S3 PUT 2 KiB p50 ${fmt(percentile(put, 50))} p99 ${fmt(percentile(put, 99))}; catalog CAS UPDATE p50 ${fmt(percentile(cas, 50))} p99 ${fmt(percentile(cas, 99))}`,
  );
}

/**
 * Partition spec choice, measured with K2's own planner on a synthetic hour of trades (2 venues, 40
 * symbols, Zipf-like activity, a commit every 5 s): data files written per commit, and files and rows
 * a one-symbol one-hour query must read, for day+identity(exchange) against the same plus
 * bucket[8](symbol). Files are as streamed (before compaction).
 */
function measurePartitionSpecs() {
  const schema = tableSchema('trades_v2');
  const base = newTableMetadata(k2TableDefinition('trades_v2', 's3://x/t'))['partition-specs'][0]!;
  const bucketed: PartitionSpec = {
    'spec-id': 1,
    fields: [
      ...base.fields,
      { name: 'symbol_bucket', transform: 'bucket[8]', 'source-id': 3, 'field-id': 1002 },
    ],
  };
  const symbols = Array.from({ length: 40 }, (_, i) => `SYM${String(i).padStart(2, '0')}USDT`);
  const weights = symbols.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pick = () => {
    let r = random() * total;
    for (const [i, w] of weights.entries()) {
      r -= w;
      if (r <= 0) return symbols[i]!;
    }
    return symbols.at(-1)!;
  };
  const start = 1_709_251_200_000_000n;
  const rows = Array.from({ length: 3_600 * 200 }, (_, i) => ({
    ts: start + BigInt(i) * 5_000n,
    exchange: random() < 0.6 ? 'BINANCE' : 'COINBASE',
    symbol: pick(),
  }));
  const query = bindPredicates(
    schema,
    marketPredicates({
      from: start + 900_000_000n,
      to: start + 4_500_000_000n,
      symbols: ['SYM05USDT'],
      exchanges: ['BINANCE'],
    }),
  );
  for (const spec of [base, bucketed]) {
    const files: (DataFile & { rows: number })[] = [];
    const perCommit = 5_000_000n;
    for (let t = start; t < start + 3_600_000_000n; t += perCommit) {
      const window = rows.filter((r) => r.ts >= t && r.ts < t + perCommit);
      const groups = new Map<string, typeof window>();
      for (const r of window) {
        const source = { 6: r.ts, 4: r.exchange, 3: r.symbol } as Record<number, bigint | string>;
        const key = spec.fields
          .map((f) => {
            const type = f['source-id'] === 6 ? 'timestamptz' : 'string';
            return String(applyTransform(parseTransform(f.transform), type, source[f['source-id']]!));
          })
          .join('|');
        groups.set(key, [...(groups.get(key) ?? []), r]);
      }
      for (const [key, group] of groups) {
        const values = key.split('|');
        const sortedSymbols = group.map((r) => r.symbol).sort();
        files.push({
          rows: group.length,
          filePath: key,
          fileFormat: 'PARQUET',
          fileSizeInBytes: group.length * 60,
          recordCount: group.length,
          partition: new Map(
            spec.fields.map((f, i) => [
              f['field-id'],
              f.name === 'exchange' ? values[i]! : Number(values[i]),
            ]),
          ),
          specId: spec['spec-id'],
          columnSizes: new Map(),
          valueCounts: new Map(),
          nullValueCounts: new Map(),
          nanValueCounts: new Map(),
          lowerBounds: new Map([
            [3, encodeBound('string', sortedSymbols[0]!)],
            [6, encodeBound('timestamptz', group[0]!.ts)],
          ]),
          upperBounds: new Map([
            [3, encodeBound('string', sortedSymbols.at(-1)!)],
            [6, encodeBound('timestamptz', group.at(-1)!.ts)],
          ]),
          splitOffsets: [],
        });
      }
    }
    const matched = files.filter((f) => fileMayMatch(f, spec, schema, query));
    const label = spec.fields.map((f) => f.transform).join('+');
    console.log(
      `spec ${label.padEnd(24)} files/commit ${(files.length / 720).toFixed(1).padStart(5)}   one-symbol hour query reads ${String(matched.length).padStart(4)} of ${files.length} files, ${matched.reduce((n, f) => n + f.rows, 0)} rows`,
    );
  }
}

async function main() {
  measurePartitionSpecs();
  const a = warehouse();
  const b = warehouse();
  console.log(
    `iceberg commit bench: ${COMMITS} commits per writer and size, catalog ${catalogName}, node ${process.version}`,
  );
  try {
    for (const size of [1, 10, 100]) {
      const single = await ensureK2Table(a, 'trades_v2', `single_${size}`);
      const files = await uploadFiles(a, single.metadata.location, size * COMMITS, 'f');
      const batches = Array.from({ length: COMMITS }, (_, i) => files.slice(i * size, (i + 1) * size));
      if (size === 1) await baselines(a, single);
      report(`append ${size} file(s), 1 writer`, [await writer(a, single, batches, 'a')]);
      if (size === 100) {
        const unchecked = await ensureK2Table(a, 'trades_v2', `unchecked_${size}`);
        const more = await uploadFiles(a, unchecked.metadata.location, size * COMMITS, 'u');
        const split = Array.from({ length: COMMITS }, (_, i) => more.slice(i * size, (i + 1) * size));
        report(`append ${size} file(s), 1 writer, no HEAD`, [await writer(a, unchecked, split, 'u', false)]);
      }

      const shared = await ensureK2Table(a, 'trades_v2', `shared_${size}`);
      const fa = await uploadFiles(a, shared.metadata.location, size * COMMITS, 'a');
      const fb = await uploadFiles(b, shared.metadata.location, size * COMMITS, 'b');
      const split = (fs: DataFile[]) =>
        Array.from({ length: COMMITS }, (_, i) => fs.slice(i * size, (i + 1) * size));
      report(
        `append ${size} file(s), 2 writers`,
        await Promise.all([writer(a, shared, split(fa), 'a'), writer(b, shared, split(fb), 'b')]),
      );
    }
  } finally {
    const doomed: string[] = [];
    for await (const o of a.io.list(`${root}/`)) doomed.push(o.uri);
    await a.io.delete(doomed);
    for (const ns of await a.catalog.listNamespaces()) {
      for (const t of await a.catalog.listTables(ns)) await a.catalog.dropTable(t);
      await a.catalog.dropNamespace(ns);
    }
    await a.close();
    await b.close();
  }
}

await main();
