import { randomUUID } from 'node:crypto';
import { type K2Config, loadConfig } from '../config/index.js';
import { groupOffsets } from '../iceberg/offsets.js';
import { loadTable } from '../iceberg/table.js';
import { MARKET_DATA } from '../iceberg/tables.js';
import type { TableName } from '../iceberg/types.js';
import { openWarehouse } from '../iceberg/warehouse.js';
import { createKafka } from '../kafka/client.js';
import { createProducerContext, ensureMarketTopics } from '../producers/context.js';
import { runEquitiesReplay } from '../producers/equities/run.js';
import { defaultSyntheticSymbols } from '../producers/synthetic/generator.js';
import { runSynthetic } from '../producers/synthetic/run.js';
import { openQueryService, parseQueryRequest, render } from '../query/index.js';
import { stackContext } from '../stack/context.js';
import { stackFilePath, stackUp } from '../stack/stack.js';
import { startSupervisor } from '../supervisor/supervisor.js';

/** Synthetic crypto burst: a few gaps and poison records so the DLQ and the gap report have something to show. */
const CRYPTO_TRADES = 20_000;
const SYNTHETIC_START = Date.UTC(2025, 0, 2, 14, 30) * 1_000;

interface Landed {
  table: string;
  records: number;
  snapshots: number;
  files: number;
  bytes: number;
}

/**
 * `npm run demo`: brings the local stack up, replays the bundled equities day and a synthetic
 * crypto burst (with injected gaps, duplicates and poison records) into fresh topics, runs the
 * supervisor until every record is committed to Iceberg, then prints what landed and a query.
 */
export interface DemoSummary {
  produced: number;
  landed: number;
  dlq: number;
  poison: number;
  duplicates: number;
  gaps: number;
  injectedGaps: number;
  barRows: number;
}

export async function runDemo(): Promise<DemoSummary> {
  const ctx = stackContext();
  await stackUp(ctx);
  const run = randomUUID().slice(0, 6);
  // Fresh topics, consumer group and catalog per run, so every figure below is this run's alone.
  const topics = {
    equityTrades: `market.equities_demo${run}.trades`,
    equityQuotes: `market.equities_demo${run}.quotes`,
    cryptoTrades: `market.crypto_demo${run}.trades`,
  };
  const env = {
    ...process.env,
    K2_TOPICS: Object.values(topics).join(','),
    K2_KAFKA_GROUP_ID: `k2-demo-${run}`,
    K2_CATALOG_NAME: `demo_${run}`,
    K2_COMMIT_INTERVAL_MS: '1000',
    K2_HTTP_PORT: '0',
  };
  const { config } = loadConfig({ env, stackFile: stackFilePath(ctx) });

  console.log(`\nproducing into ${Object.values(topics).join(', ')}`);
  const producer = createProducerContext({ brokers: config.kafka.brokers, registryUrl: config.registry.url });
  await ensureMarketTopics(producer, Object.values(topics), 3);
  const started = Date.now();
  const equities = await runEquitiesReplay(producer, {
    tradesTopic: topics.equityTrades,
    quotesTopic: topics.equityQuotes,
    speed: Number.POSITIVE_INFINITY,
    batchSize: 5_000,
  });
  const crypto = await runSynthetic(producer, {
    count: CRYPTO_TRADES,
    paced: false,
    batchSize: 5_000,
    seed: 7,
    symbols: defaultSyntheticSymbols.slice(0, 4),
    exchange: 'K2DEMO',
    rate: 2_000,
    burstiness: 0.3,
    startMicros: SYNTHETIC_START,
    gapRate: 0.001,
    maxGap: 5,
    duplicateRate: 0.001,
    poison: { 'bad-magic': 0.0002, 'unknown-schema': 0.0002, truncated: 0.0002, 'negative-quantity': 0.0002 },
    topic: topics.cryptoTrades,
  });
  const produced = equities.trades + equities.quotes + crypto.stats.messages;
  const produceSeconds = (Date.now() - started) / 1000;
  console.log(
    `produced ${produced.toLocaleString('en-US')} records in ${produceSeconds.toFixed(1)} s ` +
      `(equities: ${equities.trades} trades, ${equities.quotes} quotes; crypto: ${crypto.stats.trades} trades, ` +
      `${crypto.stats.duplicates} resent duplicates, ${crypto.stats.gaps} injected gaps, ` +
      `${Object.values(crypto.stats.poison).reduce((a, b) => a + b, 0)} poison)`,
  );

  const ingestStarted = Date.now();
  const supervisor = await startSupervisor(config, { handleSignals: false });
  let landed: Landed[];
  let dlq: number;
  let gaps: number;
  let records: number;
  try {
    await waitUntilCommitted(config, Object.values(topics));
    const ingestSeconds = (Date.now() - ingestStarted) / 1000;
    landed = await describeTables(config, ['trades_v2', 'quotes_v2']);
    dlq = await dlqCount(config, Object.values(topics));
    const status = supervisor.http.address()
      ? ((await (await fetch(`http://127.0.0.1:${supervisor.http.address()!.port}/status`)).json()) as {
          partitions: { gapsDetected: number }[];
        })
      : { partitions: [] };
    gaps = status.partitions.reduce((n, p) => n + p.gapsDetected, 0);
    records = landed.reduce((n, t) => n + t.records, 0);
    console.log(
      `\nK2 demo: ${records.toLocaleString('en-US')} records landed exactly once in ${ingestSeconds.toFixed(1)} s`,
    );
    console.log(
      `  throughput seen: ${Math.round(produced / ingestSeconds).toLocaleString('en-US')} records/s from Kafka to committed Iceberg snapshots`,
    );
    console.table(
      landed.map((t) => ({
        table: `${MARKET_DATA}.${t.table}`,
        records: t.records,
        snapshots: t.snapshots,
        files: t.files,
        'bytes/row': t.records ? Number((t.bytes / t.records).toFixed(1)) : 0,
      })),
    );
    console.log(`  sequence gaps found: ${gaps}   DLQ records: ${dlq} (original bytes kept in <topic>.dlq)`);
    console.log(
      `  resent duplicates dropped: ${crypto.stats.duplicates}   poison quarantined: ${dlq}   ` +
        `check: ${produced} produced = ${records} landed + ${dlq} DLQ + ${produced - records - dlq} duplicates`,
    );
  } finally {
    await supervisor.stop();
  }

  const queries = await openQueryService(config);
  let barRows: number;
  try {
    const request = parseQueryRequest(
      {
        kind: 'bars',
        symbols: 'AAPL',
        interval: '1h',
        from: '2025-01-02T14:00:00Z',
        to: '2025-01-02T21:00:00Z',
        namespace: MARKET_DATA,
      },
      BigInt(Date.now()) * 1_000n,
    );
    const result = await queries.run(request);
    barRows = result.rows.length;
    console.log('\nquery: hourly OHLCV bars for AAPL (k2 query bars --symbols AAPL --interval 1h)');
    console.log(render(result, 'table', 'iso'));
  } finally {
    await queries.close();
  }
  console.log(`\nThe stack keeps running; stop it with: npm run stack:down`);
  return {
    produced,
    landed: records,
    dlq,
    poison: Object.values(crypto.stats.poison).reduce((a, b) => a + b, 0),
    duplicates: crypto.stats.duplicates,
    gaps,
    injectedGaps: crypto.stats.gaps,
    barRows,
  };
}

/** Waits until every topic's end offset is recorded in the tables for the demo's group. */
async function waitUntilCommitted(config: K2Config, topics: string[], timeoutMs = 120_000): Promise<void> {
  const kafka = createKafka({ clientId: 'k2-demo', brokers: config.kafka.brokers });
  const admin = kafka.admin();
  await admin.connect();
  const warehouse = openWarehouse(config);
  try {
    const ends = new Map<string, Map<number, bigint>>();
    for (const topic of topics) {
      ends.set(
        topic,
        new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)])),
      );
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const recorded = new Map<string, Map<number, bigint>>();
      for (const table of ['trades_v2', 'quotes_v2']) {
        const loaded = await loadTable(warehouse, `${MARKET_DATA}.${table}`).catch(() => undefined);
        if (loaded)
          for (const [t, p] of groupOffsets(loaded.metadata, config.kafka.groupId)) recorded.set(t, p);
      }
      const done = [...ends].every(([topic, partitions]) =>
        [...partitions].every(([p, end]) => end === 0n || recorded.get(topic)?.get(p) === end),
      );
      if (done) return;
      if (Date.now() > deadline)
        throw new Error('demo: the supervisor did not commit everything within 2 minutes');
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
    await warehouse.close();
  }
}

async function describeTables(config: K2Config, tables: TableName[]): Promise<Landed[]> {
  const warehouse = openWarehouse(config);
  try {
    return await Promise.all(
      tables.map(async (table) => {
        const loaded = await loadTable(warehouse, `${MARKET_DATA}.${table}`);
        const current = loaded.metadata.snapshots?.find(
          (s) => s['snapshot-id'] === loaded.metadata['current-snapshot-id'],
        );
        const summary: Record<string, string> = current?.summary ?? {};
        return {
          table,
          records: Number(summary['total-records'] ?? 0),
          snapshots: loaded.metadata.snapshots?.length ?? 0,
          files: Number(summary['total-data-files'] ?? 0),
          bytes: Number(summary['total-files-size'] ?? 0),
        };
      }),
    );
  } finally {
    await warehouse.close();
  }
}

async function dlqCount(config: K2Config, topics: string[]): Promise<number> {
  const admin = createKafka({ clientId: 'k2-demo', brokers: config.kafka.brokers }).admin();
  await admin.connect();
  try {
    let count = 0;
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(`${topic}.dlq`)) count += Number(p.high) - Number(p.low);
    }
    return count;
  } finally {
    await admin.disconnect();
  }
}
