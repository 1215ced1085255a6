import { createServer } from 'node:net';
import { CompressionTypes } from 'kafkajs';
import { afterAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { frame } from '../../src/codec/wire.js';
import { Partitioners } from '../../src/kafka/client.js';
import { type Supervisor, startSupervisor } from '../../src/supervisor/supervisor.js';
import { faultyS3Proxy } from '../support/faults.js';
import { createTopic, kafka, pgClient, readTopic, stack, unique } from '../support/stack.js';
import {
  pipelineEnv,
  supervisorConfig,
  tableRows,
  waitForCommitted,
  waitForFirstCommit,
} from '../support/supervisor.js';
import { encodeTrade, produce, registerTrades } from '../support/trades.js';

const running: Supervisor[] = [];

/** Starts an in-process supervisor on `env` (stopped once the file is done) and gives its config. */
async function startOwn(env: Record<string, string>) {
  const config = supervisorConfig(env);
  running.push(await startSupervisor(config, { handleSignals: false }));
  return config;
}
afterAll(async () => {
  for (const s of running) await s.stop();
});

describe('supervisor: Kafka → Iceberg exactly once', () => {
  it('lands every trade once, drops resent duplicates, quarantines poison in the DLQ, records the end offsets', async () => {
    const topic = `market.${unique('t').replace('-', '')}.trades`;
    await createTopic(topic, 3);
    const schemaId = await registerTrades(topic);
    const trades = Array.from({ length: 6_000 }, (_, i) => encodeTrade(schemaId, i));
    const poison = [
      Buffer.from([1, 0, 0, 0, 1, 2, 3]), // wrong magic byte
      frame(999_999, Buffer.from([2, 4, 6])), // unknown schema id
      trades[0]!.value.subarray(0, 12), // truncated body
    ];
    const duplicates = trades.slice(100, 103); // resent by a producer retry
    await produce(topic, [
      ...trades.map((t) => ({ key: t.symbol, value: t.value })),
      ...poison.map((value) => ({ key: 'BTCUSDT', value })),
      ...duplicates.map((t) => ({ key: t.symbol, value: t.value })),
    ]);

    const config = supervisorConfig({
      K2_TOPICS: topic,
      K2_KAFKA_GROUP_ID: unique('group'),
      K2_CATALOG_NAME: unique('cat').replace('-', '_'),
    });
    const supervisor = await startSupervisor(config, { handleSignals: false });
    running.push(supervisor);
    await waitForCommitted(config, topic);

    const rows = await tableRows(config);
    expect(rows).toHaveLength(trades.length);
    expect(new Set(rows.map((r) => r.message_id))).toEqual(new Set(trades.map((t) => t.messageId)));

    const quarantined = await readTopic(`${topic}.dlq`, poison.length);
    expect(quarantined.map((q) => q.value!.toString('hex')).sort()).toEqual(
      poison.map((p) => p.toString('hex')).sort(),
    );
    expect(quarantined.every((q) => q.headers['k2.error.code']?.startsWith('K2_'))).toBe(true);

    const port = supervisor.http.address()!.port;
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
      state: string;
      health: { level: string };
      partitions: { partition: number; actorId: string; state: string | null }[];
    };
    expect(status.health.level).toBe('NOMINAL');
    // Each partition's PartitionActor, by its state machine: restored, then consuming.
    expect(status.partitions.length).toBeGreaterThan(0);
    for (const p of status.partitions)
      expect([p.actorId, p.state]).toEqual([`partition-${topic}-${p.partition}`, 'consuming']);
    const query = `http://127.0.0.1:${port}/query?kind=trades&symbol=AAPL&from=2025-01-01T00:00:00Z&to=2025-01-01T01:00:00Z`;
    const answer = (await (await fetch(query)).json()) as { rows: { message_id: string }[] };
    expect(answer.rows.map((r) => r.message_id).sort()).toEqual(
      trades
        .filter((t) => t.symbol === 'AAPL')
        .map((t) => t.messageId)
        .sort(),
    );
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain(
      'k2_health_level{actor="health"} 0',
    );
    expect(status.state).toBe('running');
    expect(await supervisor.stop()).toBe(true);
    running.pop();

    // The audit trail: the snapshot commits (with their ids) and the actors' transitions, in PostgreSQL.
    const db = pgClient();
    await db.connect();
    onTestFinished(() => db.end());
    const audit = await db.query<{ type: string; snapshot: string | null }>(
      "SELECT type, event->>'snapshotId' AS snapshot FROM k2_journal WHERE instance = $1 ORDER BY seq",
      [`${config.kafka.groupId}/${process.pid}`],
    );
    const snapshots = audit.rows.filter((r) => r.type === 'snapshot.committed');
    expect(snapshots.length).toBeGreaterThan(0);
    expect(snapshots.every((r) => /^-?\d+$/.test(r.snapshot ?? ''))).toBe(true);
    expect(audit.rows.some((r) => r.type === 'actor.transition')).toBe(true);
    expect(audit.rows.some((r) => r.type === 'dlq.written')).toBe(true);
  });

  it('reads gzip batches and transactions whole (batch passthrough): aborted trades never land, poison inside a gzip batch reaches the DLQ with its headers', async () => {
    const topic = `market.${unique('t').replace('-', '')}.trades`;
    await createTopic(topic, 2);
    const schemaId = await registerTrades(topic);
    const trades = Array.from({ length: 3_000 }, (_, i) => encodeTrade(schemaId, i));
    const abortedTrades = Array.from({ length: 500 }, (_, i) => encodeTrade(schemaId, 3_000 + i));
    const asMessages = (list: typeof trades) => list.map((t) => ({ key: t.symbol, value: t.value }));
    const poison = Buffer.from([1, 0, 0, 0, 1, 2, 3]);
    const client = kafka('k2-test-passthrough');
    const producerOptions = {
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    };
    const gzip = client.producer(producerOptions);
    await gzip.connect();
    await gzip.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: [
        ...asMessages(trades.slice(0, 1_000)),
        { key: 'BTCUSDT', value: poison, headers: { origin: 'gzip-batch' } },
      ],
    });
    await gzip.disconnect();
    const transactional = client.producer({ ...producerOptions, transactionalId: unique('tx') });
    await transactional.connect();
    const committed = await transactional.transaction();
    await committed.send({ topic, messages: asMessages(trades.slice(1_000, 2_000)) });
    await committed.commit();
    const aborted = await transactional.transaction();
    await aborted.send({ topic, messages: asMessages(abortedTrades) });
    await aborted.abort();
    await transactional.disconnect();
    await produce(topic, asMessages(trades.slice(2_000)));

    const config = await startOwn(pipelineEnv(topic, 'passthrough'));
    await waitForCommitted(config, topic);
    const ids = (await tableRows(config)).map((r) => r.message_id);
    expect(ids).toHaveLength(trades.length);
    expect(new Set(ids)).toEqual(new Set(trades.map((t) => t.messageId)));
    const [quarantined] = await readTopic(`${topic}.dlq`, 1);
    expect(quarantined!.value!.equals(poison)).toBe(true);
    expect(quarantined!.headers.origin).toBe('gzip-batch');
  });

  it('resumes when the checkpoint its recorded offset names is gone at first read (superseded by the previous owner): reads the recorded offset again', async () => {
    const topic = `market.${unique('t').replace('-', '')}.trades`;
    await createTopic(topic, 1);
    const schemaId = await registerTrades(topic);
    const trades = Array.from({ length: 2_000 }, (_, i) => encodeTrade(schemaId, i));
    const asMessages = (list: typeof trades) => list.map((t) => ({ key: t.symbol, value: t.value }));
    const env = pipelineEnv(topic, 'resume');
    await produce(topic, asMessages(trades.slice(0, 1_000)));
    const config = supervisorConfig(env);
    const first = await startSupervisor(config, { handleSignals: false });
    await waitForCommitted(config, topic);
    await first.stop();

    const proxy = await faultyS3Proxy(stack().s3.endpoint);
    onTestFinished(() => proxy.close());
    proxy.hideOnce(/k2-checkpoints/);
    await produce(topic, asMessages(trades.slice(1_000)));
    const resumed = await startOwn({ ...env, K2_S3_ENDPOINT: proxy.endpoint });
    await waitForCommitted(resumed, topic);
    expect(proxy.hidden()).toBe(1);
    const ids = (await tableRows(resumed)).map((r) => r.message_id);
    expect(ids).toHaveLength(trades.length);
    expect(new Set(ids)).toEqual(new Set(trades.map((t) => t.messageId)));
  });

  it('keeps ingesting when its metrics port is taken, and says so once', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const port = (holder.address() as { port: number }).port;
    const topic = `market.${unique('p').replace('-', '')}.trades`;
    await createTopic(topic, 1);
    const schemaId = await registerTrades(topic);
    const trades = Array.from({ length: 500 }, (_, i) => encodeTrade(schemaId, i));
    await produce(
      topic,
      trades.map((t) => ({ key: t.symbol, value: t.value })),
    );
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(String(line)));
    onTestFinished(() => spy.mockRestore());
    const config = supervisorConfig({
      K2_TOPICS: topic,
      K2_HTTP_PORT: String(port),
      K2_KAFKA_GROUP_ID: unique('group'),
      K2_CATALOG_NAME: unique('cat').replace('-', '_'),
    });
    const supervisor = await startSupervisor(config, { handleSignals: false });
    running.push(supervisor);
    await waitForCommitted(config, topic);
    expect(supervisor.http.address()).toBeUndefined();
    expect(lines.filter((l) => l.includes('cannot serve /metrics'))).toHaveLength(1);
    expect((await tableRows(config)).length).toBe(trades.length);
    expect(await supervisor.stop()).toBe(true);
    running.pop();
  });

  it('commits when a table buffers K2_COMMIT_BYTES of records, long before the interval', async () => {
    const topic = `market.${unique('b').replace('-', '')}.trades`;
    await createTopic(topic, 1);
    const schemaId = await registerTrades(topic);
    const trades = Array.from({ length: 2_000 }, (_, i) => encodeTrade(schemaId, i));
    await produce(
      topic,
      trades.map((t) => ({ key: t.symbol, value: t.value })),
    );
    const config = await startOwn({
      ...pipelineEnv(topic, 'bytes'),
      // Only the bytes trigger can commit within the test: the interval is 5 minutes, the row trigger 500k.
      K2_COMMIT_INTERVAL_MS: '300000',
      K2_COMMIT_BYTES: '65536',
    });
    await waitForFirstCommit(config, topic, 30_000);
  });

  it('lands every trade once when each batch is encoded into Parquet ahead of its commit', async () => {
    const topic = `market.${unique('e').replace('-', '')}.trades`;
    await createTopic(topic, 2);
    const schemaId = await registerTrades(topic);
    const trades = Array.from({ length: 3_000 }, (_, i) => encodeTrade(schemaId, i));
    const resent = trades.slice(500, 520);
    await produce(topic, [
      ...trades.map((t) => ({ key: t.symbol, value: t.value })),
      ...resent.map((t) => ({ key: t.symbol, value: t.value })),
    ]);
    const config = await startOwn({
      ...pipelineEnv(topic, 'ahead'),
      // Every batch with a kept row is encoded as it arrives; small fetches make many such batches.
      K2_ENCODE_ROWS: '1',
      K2_KAFKA_FETCH_PARTITION_BYTES: '65536',
    });
    await waitForCommitted(config, topic);
    const rows = await tableRows(config);
    expect(rows).toHaveLength(trades.length);
    expect(new Set(rows.map((r) => r.message_id))).toEqual(new Set(trades.map((t) => t.messageId)));
  });
});
