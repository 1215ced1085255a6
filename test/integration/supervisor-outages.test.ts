import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ensureBuilt } from '../support/cli.js';
import { faultyS3Proxy, tcpCut } from '../support/faults.js';
import { createTopic, endOffsets, pgClient, stack, unique } from '../support/stack.js';
import {
  expectLandedOnce,
  lastSnapshotOffsets,
  supervisorConfig,
  tableRows,
  waitForFirstCommit,
} from '../support/supervisor.js';
import {
  healthLevel,
  type SupervisorProcess,
  startSupervisorProcess,
} from '../support/supervisor-process.js';
import { encodeTrade, produce, registerTrades, streamTrades } from '../support/trades.js';

beforeAll(() => ensureBuilt());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A topic of its own with trade_v2 registered, and a group and catalog no other test uses. */
async function setup(name: string, partitions: number, env: Record<string, string> = {}) {
  const topic = `market.${unique(name).replace('-', '')}.trades`;
  await createTopic(topic, partitions);
  const schemaId = await registerTrades(topic);
  const processEnv = {
    K2_TOPICS: topic,
    K2_KAFKA_GROUP_ID: unique(`${name}-group`),
    K2_CATALOG_NAME: unique(name).replace('-', '_'),
    K2_HTTP_PORT: '0',
    ...env,
  };
  return { topic, schemaId, env: processEnv, config: supervisorConfig(processEnv) };
}

describe('supervisor under outages: every record lands exactly once', () => {
  it('two supervisors in one group, members leaving and joining while commits run, land every trade once', async () => {
    // Five partitions: each of the four symbols (the keys) hashes to its own, so both members get work.
    const { topic, schemaId, env, config } = await setup('pair', 5, {
      K2_COMMIT_INTERVAL_MS: '200',
      K2_KAFKA_SESSION_TIMEOUT_MS: '3000',
      K2_KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    });
    const stream = streamTrades(topic, schemaId, { perTick: 200, everyMs: 100, runId: 'pair' });
    onTestFinished(() => void stream.stop().catch(() => undefined));
    const started: SupervisorProcess[] = [];
    const start = async () => {
      const supervisor = startSupervisorProcess(env);
      started.push(supervisor);
      await supervisor.waitFor('k2 supervisor ingesting');
      return supervisor;
    };
    const members: [SupervisorProcess, SupervisorProcess] = [await start(), await start()];
    const exits: { signal: string; code: number | null; output: string }[] = [];
    // Each round stops one member (the other keeps committing through the rebalance) and starts it again.
    const rounds: NodeJS.Signals[] = ['SIGTERM', 'SIGTERM', 'SIGKILL', 'SIGTERM'];
    for (const [round, signal] of rounds.entries()) {
      await sleep(2_500);
      const leaving = members[round % 2]!;
      const { code } = await leaving.stop(signal);
      exits.push({ signal, code, output: leaving.output() });
      members[round % 2] = await start();
    }
    await sleep(2_000);
    const produced = await stream.stop();
    expect(produced.length).toBeGreaterThan(10_000);
    await expectLandedOnce(config, topic, produced, {
      timeoutMs: 90_000,
      output: () => members.map((m) => m.output()).join('\n'),
    });
    for (const member of members) {
      const { code } = await member.stop('SIGTERM');
      expect(code, member.output()).toBe(0);
    }
    for (const exit of exits.filter((e) => e.signal === 'SIGTERM')) expect(exit.code, exit.output).toBe(0);
    // Every member took part: each was given partitions with trades on them.
    for (const member of started) expect(member.output()).toContain('"msg":"partition assigned"');
  }, 180_000);

  it('drains on SIGTERM under load within K2_DRAIN_TIMEOUT_MS, exits 0, and a successor lands every trade once', async () => {
    await sigtermRounds('drain', [
      { pauseMs: 1_500, commitIntervalMs: 1_000 },
      { pauseMs: 300, commitIntervalMs: 1_000 },
      { pauseMs: 1_000, commitIntervalMs: 100 },
    ]);
  }, 180_000);

  it('a SIGTERM during a commit cycle still commits everything the process had consumed', async () => {
    // With a 100 ms interval under load a cycle is nearly always running when the signal arrives.
    const rounds = [
      { pauseMs: 1_000, commitIntervalMs: 100 },
      { pauseMs: 700, commitIntervalMs: 100 },
    ];
    await sigtermRounds('drainall', rounds, async ({ pid, group, output, before, recorded }) => {
      const consumed = await consumedByProcess(group, pid);
      expect(consumed.size, output).toBeGreaterThan(0);
      for (const [partition, records] of consumed) {
        expect({ partition, committedThrough: recorded.get(partition) ?? 0n }, output).toEqual({
          partition,
          committedThrough: (before.get(partition) ?? 0n) + BigInt(records),
        });
      }
    });
  }, 180_000);

  it('rides out S3 answering 503 for 10 s: retries the commit, lands every trade once', async () => {
    const proxy = await faultyS3Proxy(stack().s3.endpoint);
    onTestFinished(() => proxy.close());
    const { topic, schemaId, env, config } = await setup('s3down', 3, {
      K2_COMMIT_INTERVAL_MS: '300',
      K2_S3_ENDPOINT: proxy.endpoint,
    });
    const stream = streamTrades(topic, schemaId, { perTick: 200, everyMs: 100, runId: 's3down' });
    onTestFinished(() => void stream.stop().catch(() => undefined));
    const supervisor = startSupervisorProcess(env);
    await supervisor.waitFor('k2 supervisor ingesting');
    await waitForFirstCommit(config, topic);

    proxy.failAll(true);
    const levels = await watchHealth(supervisor, 10_000);
    proxy.failAll(false);
    expect(proxy.failed()).toBeGreaterThan(0);
    console.log(`S3 outage: ${proxy.failed()} requests answered 503; health levels seen: ${levels}`);

    // Trades keep coming for longer than a circuit breaker's cool-down (10 s) after S3 heals.
    await sleep(15_000);
    const produced = await stream.stop();
    await expectLandedOnce(config, topic, produced, { timeoutMs: 60_000, output: supervisor.output });
    expect((await supervisor.stop('SIGTERM')).code, supervisor.output()).toBe(0);
  }, 120_000);

  it('waits out an unreachable registry (schemas not cached yet): nothing goes to the DLQ, every trade lands once', async () => {
    const registryUrl = new URL(stack().registry.url);
    const cut = await tcpCut(Number(registryUrl.port));
    onTestFinished(() => cut.close());
    const { topic, schemaId, env, config } = await setup('regdown', 2, {
      K2_COMMIT_INTERVAL_MS: '300',
      K2_REGISTRY_URL: `http://127.0.0.1:${cut.port}${registryUrl.pathname}`,
    });
    // A fresh process that has decoded nothing yet holds no schema: cut the registry before any trade.
    const supervisor = startSupervisorProcess(env);
    await supervisor.waitFor('k2 supervisor ingesting');
    cut.setDown(true);
    const stream = streamTrades(topic, schemaId, { perTick: 100, everyMs: 100, runId: 'regdown' });
    onTestFinished(() => void stream.stop().catch(() => undefined));
    const levels = await watchHealth(supervisor, 10_000);
    expect(cut.refused()).toBeGreaterThan(0);
    console.log(`registry outage: ${cut.refused()} connections refused; health levels seen: ${levels}`);
    expect(stream.produced.length).toBeGreaterThan(0);
    expect(await tableRows(config, 'message_id')).toEqual([]);
    cut.setDown(false);

    await sleep(2_000);
    const produced = await stream.stop();
    await expectLandedOnce(config, topic, produced, { timeoutMs: 60_000, output: supervisor.output });
    const dlq = await endOffsets(`${topic}.dlq`);
    expect([...dlq.values()].every((end) => end === 0n)).toBe(true);
    expect((await supervisor.stop('SIGTERM')).code, supervisor.output()).toBe(0);
  }, 120_000);
});

/** The health levels /status shows, once a second for `ms`. */
async function watchHealth(supervisor: SupervisorProcess, ms: number): Promise<string[]> {
  const levels = new Set<string>();
  for (const end = Date.now() + ms; Date.now() < end; ) {
    await sleep(1_000);
    levels.add(await healthLevel(supervisor));
  }
  return [...levels];
}

const DRAIN_TIMEOUT_MS = 8_000;

/**
 * A 30k-trade backlog plus a live stream. Each round starts a supervisor, lets it ingest for a while
 * and sends SIGTERM: it must exit 0 within K2_DRAIN_TIMEOUT_MS, leaving whole commits (the table's
 * rows are exactly its recorded offset ranges); `onDrained` checks more. A last one lands the rest.
 */
async function sigtermRounds(
  name: string,
  rounds: { pauseMs: number; commitIntervalMs: number }[],
  onDrained?: (round: {
    pid: number;
    group: string;
    output: string;
    before: Map<number, bigint>;
    recorded: Map<number, bigint>;
  }) => Promise<void>,
): Promise<void> {
  const { topic, schemaId, env, config } = await setup(name, 3, {
    K2_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
  });
  const backlog = Array.from({ length: 30_000 }, (_, i) => encodeTrade(schemaId, i, name));
  await produce(
    topic,
    backlog.map((t) => ({ key: t.symbol, value: t.value })),
  );
  const stream = streamTrades(topic, schemaId, {
    perTick: 300,
    everyMs: 100,
    runId: name,
    firstIndex: backlog.length,
  });
  onTestFinished(() => void stream.stop().catch(() => undefined));

  let before = new Map<number, bigint>();
  for (const { pauseMs, commitIntervalMs } of rounds) {
    const supervisor = startSupervisorProcess({ ...env, K2_COMMIT_INTERVAL_MS: String(commitIntervalMs) });
    await supervisor.waitFor('k2 supervisor ingesting');
    await sleep(pauseMs);
    const { code, ms } = await supervisor.stop('SIGTERM');
    const output = supervisor.output();
    expect(code, output).toBe(0);
    expect(ms, output).toBeLessThan(DRAIN_TIMEOUT_MS + 3_000);
    expect(output).toContain('"drained":true');
    const recorded = await lastSnapshotOffsets(config, topic);
    const rows = await tableRows(config, 'message_id');
    expect(rows.length, output).toBe(Number([...recorded.values()].reduce((a, b) => a + b, 0n)));
    await onDrained?.({ pid: supervisor.pid, group: config.kafka.groupId, output, before, recorded });
    before = recorded;
  }

  const produced = [...backlog.map((t) => t.messageId), ...(await stream.stop())];
  const last = startSupervisorProcess(env);
  await expectLandedOnce(config, topic, produced, { timeoutMs: 90_000, output: last.output });
  expect((await last.stop('SIGTERM')).code, last.output()).toBe(0);
}

/** Records each partition's batches brought in, from the audit journal of one supervisor process. */
async function consumedByProcess(group: string, pid: number): Promise<Map<number, number>> {
  const db = pgClient();
  await db.connect();
  try {
    const { rows } = await db.query<{ partition: number; records: string }>(
      `SELECT (event->>'partition')::int AS partition, sum((event->>'records')::int)::text AS records
         FROM k2_journal WHERE instance = $1 AND type = 'batch.decoded' GROUP BY 1`,
      [`${group}/${pid}`],
    );
    return new Map(rows.map((r) => [r.partition, Number(r.records)]));
  } finally {
    await db.end();
  }
}
