/**
 * kill -9 at scale: each trial produces a slice of trades (with gaps and poison), starts the
 * supervisor (dist/supervisor.js) and kills it at a random moment — before uploads, during them,
 * during the catalog commit, between the snapshot and the Kafka commit. A last run drains. Then it
 * checks exactly once from outside: every produced message_id in the table once and nothing else,
 * the snapshot's offsets at the end offsets, each poison record once in the DLQ. Prints the kill
 * moments by delay and the verdict; exits 1 on any difference.
 *   npm run bench:kill -- [--trials 200] [--per-trial 1500] [--partitions 3] [--seed 42]
 */
import '../src/cli/quiet-sdk.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { avroType } from '../src/codec/avro-types.js';
import { parseDecimal } from '../src/codec/decimal.js';
import { avroSchemaText } from '../src/codec/schemas.js';
import { frame } from '../src/codec/wire.js';
import { loadConfig } from '../src/config/index.js';
import { dlqHeader } from '../src/dlq/index.js';
import { groupOffsets } from '../src/iceberg/offsets.js';
import { loadTable } from '../src/iceberg/table.js';
import { openWarehouse } from '../src/iceberg/warehouse.js';
import { createKafka, Partitioners } from '../src/kafka/client.js';
import { openQueryService, parseQueryRequest } from '../src/query/index.js';
import { Registry } from '../src/registry/registry.js';
import { valueSubject } from '../src/registry/subjects.js';
import { stackContext } from '../src/stack/context.js';
import { stackFilePath, stackUp } from '../src/stack/stack.js';

const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '200' },
    'per-trial': { type: 'string', default: '1500' },
    partitions: { type: 'string', default: '3' },
    seed: { type: 'string', default: '42' },
  },
});
const TRIALS = Number(args.trials);
const PER_TRIAL = Number(args['per-trial']);
const PARTITIONS = Number(args.partitions);
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'AAPL'];
let seed = Number(args.seed);
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

const ctx = stackContext(process.env, () => undefined);
await stackUp(ctx);
const stackFile = stackFilePath(ctx);
const run = randomUUID().slice(0, 8);
const topic = `market.kill${run}.trades`;
const env: Record<string, string> = {
  K2_STACK_FILE: stackFile,
  K2_TOPICS: topic,
  K2_KAFKA_GROUP_ID: `kill-bench-${run}`,
  K2_CATALOG_NAME: `kill_bench_${run}`,
  K2_HTTP_PORT: '0',
  K2_COMMIT_INTERVAL_MS: '200',
  K2_KAFKA_SESSION_TIMEOUT_MS: '2000',
  K2_KAFKA_HEARTBEAT_INTERVAL_MS: '500',
};
const { config } = loadConfig({ env, stackFile });
const kafka = createKafka({ clientId: 'k2-kill-bench', brokers: config.kafka.brokers });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
const schemaId = await new Registry({ url: config.registry.url }).register(
  valueSubject(topic),
  avroSchemaText('trade_v2'),
);
const type = avroType(JSON.parse(avroSchemaText('trade_v2')));
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
});
await producer.connect();

function trade(i: number) {
  const symbol = SYMBOLS[i % SYMBOLS.length]!;
  const sequence = 1_000 + Math.floor(i / SYMBOLS.length);
  const id = `${run}-${i}`;
  const value = frame(
    schemaId,
    type.toBuffer({
      message_id: id,
      trade_id: String(sequence),
      symbol,
      exchange: symbol === 'AAPL' ? 'NASDAQ' : 'BINANCE',
      asset_class: symbol === 'AAPL' ? 'EQUITY' : 'CRYPTO',
      timestamp: 1_735_689_600_000_000 + i * 1_000,
      price: parseDecimal(`${100 + (i % 50)}.${String(i % 100_000_000).padStart(8, '0')}`, 8),
      quantity: parseDecimal('0.5', 8),
      currency: symbol === 'AAPL' ? 'USD' : 'USDT',
      side: i % 2 === 0 ? 'BUY' : 'SELL',
      trade_conditions: [],
      source_sequence: sequence,
      ingestion_timestamp: 1_735_689_600_000_000 + i * 1_000 + 250,
      platform_sequence: null,
      vendor_data: null,
    }),
  );
  return { id, symbol, value };
}

function start(): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['dist/supervisor.js'], {
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}
const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('close', () => resolve()),
  );

/** Kill moments by delay after the process said it was ingesting (commit cycles run every 200 ms). */
function bucket(ms: number): string {
  return ms < 500 ? '<0.5 s' : ms < 1_000 ? '0.5-1 s' : '1-1.6 s';
}

const produced: string[] = [];
let poison = 0;
const phases = new Map<string, number>();
const started = performance.now();
for (let trial = 0; trial < TRIALS; trial++) {
  const base = trial * PER_TRIAL;
  const trades = Array.from({ length: PER_TRIAL }, (_, i) => trade(base + i)).filter(
    (_, i) => i % 397 !== 11, // a missing trade now and then: a gap for the tracker
  );
  const bad = [Buffer.from([1, 0, 0, 0, 1, 2, 3]), frame(999_999, Buffer.from([2, 4, 6]))];
  const messages = trades.map((t) => ({ key: t.symbol, value: t.value }));
  messages.splice(PER_TRIAL >> 1, 0, ...bad.map((value) => ({ key: 'BTCUSDT', value })));
  for (let i = 0; i < messages.length; i += 1_000)
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1_000) });
  produced.push(...trades.map((t) => t.id));
  poison += bad.length;
  const { child, output } = start();
  for (let i = 0; i < 600 && !output().includes('ingesting') && child.exitCode === null; i++)
    await new Promise((r) => setTimeout(r, 25));
  const delay = 100 + random() * 1_500;
  await new Promise((r) => setTimeout(r, delay));
  const at = bucket(delay);
  phases.set(at, (phases.get(at) ?? 0) + 1);
  child.kill('SIGKILL');
  await exited(child);
  if ((trial + 1) % 10 === 0) console.log(`  ${trial + 1}/${TRIALS} kills`);
}

// The last run drains to the end offsets.
const last = start();
const ends = new Map(
  (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)] as [number, bigint]),
);
const warehouse = openWarehouse(config);
let recorded = new Map<number, bigint>();
for (const deadline = Date.now() + 300_000; Date.now() < deadline; ) {
  const table = await loadTable(warehouse, 'market_data.trades_v2').catch(() => undefined);
  recorded = table ? (groupOffsets(table.metadata, config.kafka.groupId).get(topic) ?? new Map()) : new Map();
  if ([...ends].every(([p, end]) => end === 0n || recorded.get(p) === end)) break;
  await new Promise((r) => setTimeout(r, 250));
}
last.child.kill('SIGTERM');
await exited(last.child);
await warehouse.close();
const seconds = (performance.now() - started) / 1000;

const queries = await openQueryService(config);
const answer = await queries.run(
  parseQueryRequest(
    {
      kind: 'sql',
      source: 'iceberg',
      namespace: 'market_data',
      sql:
        "SELECT count(*) AS n, count(DISTINCT message_id) AS d, count(*) FILTER (WHERE message_id NOT LIKE '" +
        run +
        "-%') AS foreign FROM trades",
    },
    BigInt(Date.now()) * 1_000n,
  ),
);
await queries.close();
const [n, distinct, foreign] = (answer.rows[0] as unknown[]).map(Number) as [number, number, number];

// Each poison record once in the DLQ (for this group).
const dlqEnds = await admin.fetchTopicOffsets(`${topic}.dlq`);
const dlqTotal = dlqEnds.reduce((s, p) => s + Number(p.high), 0);
const consumer = kafka.consumer({ groupId: `kill-bench-dlq-${run}` });
await consumer.connect();
await consumer.subscribe({ topic: `${topic}.dlq`, fromBeginning: true });
const positions = new Set<string>();
let quarantined = 0;
await new Promise<void>((resolve) => {
  let seen = 0;
  void consumer.run({
    eachMessage: async ({ message }) => {
      seen++;
      if (String(message.headers?.[dlqHeader.group]) === config.kafka.groupId) {
        quarantined++;
        positions.add(
          `${message.headers?.[dlqHeader.sourcePartition]}@${message.headers?.[dlqHeader.sourceOffset]}`,
        );
      }
      if (seen >= dlqTotal) resolve();
    },
  });
});
await consumer.disconnect();
await producer.disconnect();
await admin.disconnect();

const offsetsAtEnd = [...ends].every(([p, end]) => end === 0n || recorded.get(p) === end);
const ok =
  n === produced.length &&
  distinct === produced.length &&
  foreign === 0 &&
  offsetsAtEnd &&
  quarantined === poison &&
  positions.size === poison;
console.log(
  `\nkill -9 bench: ${TRIALS} kills, ${produced.length} trades, ${poison} poison, ${seconds.toFixed(0)} s`,
);
console.log(`  kill moments: ${[...phases].map(([p, c]) => `${p} ${c}`).join(', ')}`);
console.log(
  `  table: ${n} rows, ${distinct} distinct message_ids (produced ${produced.length}), foreign ${foreign}`,
);
console.log(
  `  offsets at the end offsets: ${offsetsAtEnd}${offsetsAtEnd ? '' : ` (ends ${[...ends]}, recorded ${[...recorded]})`}`,
);
if (!offsetsAtEnd) console.log(last.output().split('\n').slice(-15).join('\n'));
console.log(
  `  DLQ: ${quarantined} records for the group, ${positions.size} distinct source positions (poison ${poison})`,
);
console.log(ok ? '  EXACTLY ONCE: yes' : '  EXACTLY ONCE: NO');
process.exit(ok ? 0 : 1);
