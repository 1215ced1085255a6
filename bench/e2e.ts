/**
 * End to end: N trades into a local topic, then in the same run (a) a bare kafkajs consume-only
 * loop over the topic, (a2) the same loop reading whole record batches as the supervisor does, and
 * (b) the supervisor (dist/supervisor.js, its own process) from empty to fully committed. Prints
 * the rates, b/a, commits, files, bytes/row, the supervisor's peak RSS and
 * where each phase's CPU went (the box, the consumer or supervisor, Kafka and S3, per trade).
 *   npm run bench:e2e -- [--trades 2000000] [--partitions 4] [--topic market.name.trades]
 * --topic names the topic and keeps it: a second run with the same name and counts skips the produce
 * phase, so A/B runs of the supervisor's settings read the very same records.
 */
import '../src/cli/quiet-sdk.js';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { avroType } from '../src/codec/avro-types.js';
import { parseDecimal } from '../src/codec/decimal.js';
import { avroSchemaText, tableForTopic } from '../src/codec/schemas.js';
import { frame } from '../src/codec/wire.js';
import { loadConfig } from '../src/config/index.js';
import { groupOffsets } from '../src/iceberg/offsets.js';
import { loadTable } from '../src/iceberg/table.js';
import { openWarehouse } from '../src/iceberg/warehouse.js';
import { batchPassthroughSocketFactory } from '../src/kafka/batch-passthrough.js';
import { createKafka, Partitioners } from '../src/kafka/client.js';
import { FetchedRecords } from '../src/kafka/fetched.js';
import { Registry } from '../src/registry/registry.js';
import { valueSubject } from '../src/registry/subjects.js';
import { stackContext } from '../src/stack/context.js';
import { stackFilePath, stackUp } from '../src/stack/stack.js';
import { cpuMeter, describeCpu } from './cpu.js';

const { values: args } = parseArgs({
  options: {
    trades: { type: 'string', default: '2000000' },
    partitions: { type: 'string', default: '4' },
    topic: { type: 'string' },
  },
});
const N = Number(args.trades);
const PARTITIONS = Number(args.partitions);
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT', 'ADAUSDT', 'DOGEUSDT', 'AAPL'];

const ctx = stackContext(process.env, () => undefined);
const stack = await stackUp(ctx);
/** The local services whose CPU each phase reports beside the box's. */
const servicePids = { kafka: stack.services.kafka?.pid, s3: stack.services.s3?.pid };
const meter = (own: Record<string, number | 'self'>) =>
  cpuMeter({
    ...own,
    ...Object.fromEntries(
      Object.entries(servicePids).filter((e): e is [string, number] => e[1] !== undefined),
    ),
  });
const { config: base } = loadConfig({ stackFile: stackFilePath(ctx) });
const run = randomUUID().slice(0, 8);
const topic = args.topic ?? `market.bench${run}.trades`;
if (tableForTopic(topic) !== 'trades_v2') {
  console.error(
    `bench:e2e: --topic ${topic} is not a trades topic the supervisor takes (market.<name>.trades, lower case)`,
  );
  process.exit(2);
}
const kafka = createKafka({ clientId: 'k2-bench', brokers: base.kafka.brokers });
const admin = kafka.admin();
await admin.connect();
const reuse = args.topic !== undefined && (await admin.listTopics()).includes(topic);
if (reuse) {
  const partitions = await admin.fetchTopicOffsets(topic);
  const records = partitions.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  if (partitions.length !== PARTITIONS || records !== N) {
    throw new Error(
      `topic ${topic} holds ${records} records in ${partitions.length} partitions, not ${N} in ${PARTITIONS}`,
    );
  }
} else {
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
}
const schemaId = await new Registry({ url: base.registry.url }).register(
  valueSubject(topic),
  avroSchemaText('trade_v2'),
);
const type = avroType(JSON.parse(avroSchemaText('trade_v2')));

// Produce.
const T0 = 1_735_689_600_000_000;
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
});
await producer.connect();
let produced = reuse ? N : 0;
const produceStart = performance.now();
const sequences = new Map<string, number>();
while (produced < N) {
  const messages = [];
  for (let i = 0; i < 10_000 && produced < N; i++, produced++) {
    const symbol = SYMBOLS[produced % SYMBOLS.length]!;
    const sequence = (sequences.get(symbol) ?? 0) + 1;
    sequences.set(symbol, sequence);
    const body = type.toBuffer({
      message_id: `${run}-${produced}`,
      trade_id: String(sequence),
      symbol,
      exchange: symbol === 'AAPL' ? 'NASDAQ' : 'BINANCE',
      asset_class: symbol === 'AAPL' ? 'EQUITY' : 'CRYPTO',
      timestamp: T0 + produced * 50,
      price: parseDecimal(`${100 + (produced % 997)}.${String(produced % 99_999_999).padStart(8, '0')}`, 8),
      quantity: parseDecimal(`0.${String(1 + (produced % 9_999)).padStart(8, '0')}`, 8),
      currency: symbol === 'AAPL' ? 'USD' : 'USDT',
      side: produced % 2 === 0 ? 'BUY' : 'SELL',
      trade_conditions: [],
      source_sequence: sequence,
      ingestion_timestamp: T0 + produced * 50 + 300,
      platform_sequence: null,
      vendor_data: { m: String(produced % 2 === 0) },
    });
    messages.push({ key: symbol, value: frame(schemaId, body) });
  }
  await producer.send({ topic, acks: -1, messages });
}
await producer.disconnect();
const produceSeconds = (performance.now() - produceStart) / 1000;
const bytes = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
if (bytes !== N) throw new Error(`topic holds ${bytes} records, expected ${N}`);

/**
 * A consume-only loop over the whole topic in a group of its own: `count` says how many records a
 * batch held. Returns its wall time and where its CPU went.
 */
async function consumeAll(
  client: Kafka,
  name: string,
  count: (messages: KafkaMessage[]) => Promise<number> | number,
) {
  const consumer = client.consumer({ groupId: `${name}-${run}`, maxBytesPerPartition: 8 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let consumed = 0;
  const started = performance.now();
  const cpu = meter({ bench: 'self' });
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch }) => {
        // Counted before adding: `consumed += await …` would lose concurrent batches' counts.
        const records = await count(batch.messages);
        consumed += records;
        if (consumed >= N) resolve();
      },
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const split = cpu.stop();
  await consumer.disconnect();
  return { seconds, split };
}

// (a) consume-only baseline.
const { seconds: consumeSeconds, split: consumeSplit } = await consumeAll(
  kafka,
  'bench-consume',
  (messages) => messages.length,
);

// (a2) the same loop through the supervisor's record-batch passthrough, each fetch packed as its
// ingest thread packs one for the pool: what reading Kafka costs the supervisor, against (a).
const batchKafka = createKafka({
  clientId: 'k2-bench-batches',
  brokers: base.kafka.brokers,
  socketFactory: batchPassthroughSocketFactory(),
});
const { seconds: batchSeconds, split: batchSplit } = await consumeAll(
  batchKafka,
  'bench-batches',
  async (messages) => (await FetchedRecords.of(messages)).pack(0n).ends.length,
);

// (b) the supervisor from empty to fully committed.
const group = `bench-k2-${run}`;
const catalogName = `bench_${run}`;
const env = {
  ...process.env,
  K2_STACK_FILE: stackFilePath(ctx),
  K2_TOPICS: topic,
  K2_KAFKA_GROUP_ID: group,
  K2_CATALOG_NAME: catalogName,
  K2_HTTP_PORT: '0',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  // As deployed (the Dockerfile, the README's service setup); a value in the environment wins.
  MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '1',
};
const supervisorStart = performance.now();
// K2_BENCH_NODE_ARGS passes flags to the supervisor's node, e.g. --cpu-prof.
const nodeArgs = process.env.K2_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const child = spawn(process.execPath, [...nodeArgs, 'dist/supervisor.js'], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const supervisorCpu = meter({ supervisor: child.pid ?? 0, bench: 'self' });
let port: number | undefined;
let logTail = '';
/** K2_BENCH_LOG=1 shows the supervisor's log (0, false or unset: hidden). */
const showLog = !['', '0', 'false'].includes(process.env.K2_BENCH_LOG ?? '');
child.stdout!.on('data', (d: Buffer) => {
  logTail = (logTail + d.toString()).slice(-4_096);
  if (showLog) process.stderr.write(d);
  port ??= Number(/"msg":"k2 supervisor listening".*?"port":(\d+)/.exec(logTail)?.[1]) || undefined;
});
/** The main thread's share of the RSS, from the supervisor's own /metrics (the rest: workers, wasm, code). */
const memory = { heap: 0, external: 0 };
async function sampleMemory(): Promise<void> {
  if (port === undefined) return;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text().catch(() => '');
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  memory.heap = Math.max(memory.heap, value('k2_nodejs_heap_size_used_bytes'));
  memory.external = Math.max(memory.external, value('k2_nodejs_external_memory_bytes'));
}
const config = loadConfig({ env, stackFile: stackFilePath(ctx) }).config;
const warehouse = openWarehouse(config);
let peakRss = 0;
const exited = () =>
  new Error(
    `supervisor exited (${child.exitCode ?? child.signalCode}) before committing every trade; its last log:\n${logTail}`,
  );
for (;;) {
  if (child.exitCode !== null || child.signalCode !== null) throw exited();
  let status = '';
  try {
    status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  } catch {
    // It exited between the check and the read: the next round reports it.
  }
  peakRss = Math.max(peakRss, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024);
  const table = await loadTable(warehouse, 'market_data.trades_v2').catch(() => undefined);
  const recorded = table ? groupOffsets(table.metadata, group).get(topic) : undefined;
  const done = recorded && [...recorded.values()].reduce((n, o) => n + Number(o), 0) === N;
  if (done) break;
  // The last sample before it is seen done: its CPU after that is shutting down, not ingesting.
  supervisorCpu.sample('supervisor');
  await sampleMemory().catch(() => undefined);
  await new Promise((r) => setTimeout(r, 100));
}
const supervisorSeconds = (performance.now() - supervisorStart) / 1000;
const supervisorSplit = supervisorCpu.stop();
const table = await loadTable(warehouse, 'market_data.trades_v2');
const current = table.metadata.snapshots?.find(
  (s) => s['snapshot-id'] === table.metadata['current-snapshot-id'],
);
const summary: Record<string, string> = current?.summary ?? {};
child.kill('SIGTERM');
await new Promise((r) => child.on('close', r));
await warehouse.close();
const dropped = args.topic === undefined ? [topic, `${topic}.dlq`] : [`${topic}.dlq`];
await admin.deleteTopics({ topics: dropped }).catch(() => undefined);
await admin.disconnect();

const rate = (n: number, s: number) => Math.round(n / s).toLocaleString('en-US');
console.log(`\nK2 e2e bench — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}`);
console.log(
  `trades ${N.toLocaleString('en-US')}, ${PARTITIONS} partitions; supervisor with MALLOC_ARENA_MAX=${env.MALLOC_ARENA_MAX}${nodeArgs.length > 0 ? `, node ${nodeArgs.join(' ')}` : ''}`,
);
console.log(
  reuse
    ? `produce                             skipped: ${topic} already holds the trades`
    : `produce (idempotent, acks=all)      ${rate(N, produceSeconds).padStart(10)} trades/s`,
);
console.log(
  `(a) kafkajs consume-only            ${rate(N, consumeSeconds).padStart(10)} trades/s  (${consumeSeconds.toFixed(1)} s)`,
);
console.log(
  `(a2) record batches, packed         ${rate(N, batchSeconds).padStart(10)} trades/s  (${batchSeconds.toFixed(1)} s; the supervisor's Kafka path)`,
);
console.log(
  `(b) supervisor empty → committed    ${rate(N, supervisorSeconds).padStart(10)} trades/s  (${supervisorSeconds.toFixed(1)} s, incl. start-up)`,
);
console.log(`ratio b/a                           ${(consumeSeconds / supervisorSeconds).toFixed(2)}`);
const cores = cpus().length;
if (consumeSplit && supervisorSplit) {
  console.log(`(a) CPU  ${describeCpu(consumeSplit, N, cores)}`);
  if (batchSplit) console.log(`(a2) CPU ${describeCpu(batchSplit, N, cores)}`);
  console.log(`(b) CPU  ${describeCpu(supervisorSplit, N, cores)}`);
  // The rate (b) would reach with every core busy on it at its measured cost per trade.
  const ceiling = (N * cores) / supervisorSplit.box;
  console.log(
    `(b) at its CPU cost with the box 100 % busy: ${rate(ceiling, 1)} trades/s, ratio ${(ceiling / (N / consumeSeconds)).toFixed(2)}`,
  );
}
console.log(
  `snapshots ${table.metadata.snapshots?.length ?? 0}, files ${summary['total-data-files']}, bytes/row ${(Number(summary['total-files-size']) / N).toFixed(1)}, rows ${summary['total-records']}`,
);
const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
console.log(
  `supervisor peak RSS                 ${mib(peakRss)}  (main thread peaks: heap ${mib(memory.heap)}, external ${mib(memory.external)})`,
);
