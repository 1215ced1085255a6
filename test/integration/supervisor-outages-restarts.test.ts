import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ensureBuilt } from '../support/cli.js';
import { privateKafka, privatePostgres } from '../support/private-stack.js';
import { createTopic, unique } from '../support/stack.js';
import {
  expectLandedOnce,
  pipelineEnv,
  supervisorConfig,
  waitForFirstCommit,
} from '../support/supervisor.js';
import { startSupervisorProcess } from '../support/supervisor-process.js';
import { registerTrades, streamTrades } from '../support/trades.js';

beforeAll(() => ensureBuilt());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The shared stack is everyone's: these tests restart private instances started by the stack code.
describe('supervisor across service restarts: every record lands exactly once', () => {
  it('survives a restart of its PostgreSQL catalog while trades flow', async () => {
    const postgres = await privatePostgres();
    onTestFinished(() => postgres.dispose());
    const topic = `market.${unique('pgrestart').replace('-', '')}.trades`;
    await createTopic(topic, 3);
    const schemaId = await registerTrades(topic);
    const env = {
      ...pipelineEnv(topic, 'pgrestart'),
      K2_CATALOG_PORT: String(postgres.port),
      K2_HTTP_PORT: '0',
      K2_COMMIT_INTERVAL_MS: '300',
    };
    const config = supervisorConfig(env);
    const stream = streamTrades(topic, schemaId, { perTick: 200, everyMs: 100, runId: 'pgrestart' });
    onTestFinished(() => void stream.stop().catch(() => undefined));
    const supervisor = startSupervisorProcess(env);
    await supervisor.waitFor('k2 supervisor ingesting');
    await waitForFirstCommit(config, topic);

    await postgres.stop();
    await sleep(8_000);
    await postgres.start();

    await sleep(3_000);
    const produced = await stream.stop();
    await expectLandedOnce(config, topic, produced, { timeoutMs: 60_000, output: supervisor.output });
    expect(supervisor.child.exitCode, supervisor.output()).toBeNull();
    expect((await supervisor.stop('SIGTERM')).code, supervisor.output()).toBe(0);
  }, 150_000);

  it('survives a restart of its Kafka broker mid-stream', async () => {
    const broker = await privateKafka();
    onTestFinished(() => broker.dispose());
    const brokers = [`127.0.0.1:${broker.port}`];
    const topic = `market.${unique('brokerrestart').replace('-', '')}.trades`;
    await createTopic(topic, 3, brokers);
    const schemaId = await registerTrades(topic);
    const env = {
      K2_TOPICS: topic,
      K2_KAFKA_BROKERS: brokers[0]!,
      K2_KAFKA_GROUP_ID: unique('brokerrestart-group'),
      K2_CATALOG_NAME: unique('brokerrestart').replace('-', '_'),
      K2_HTTP_PORT: '0',
      K2_COMMIT_INTERVAL_MS: '1000',
    };
    const config = supervisorConfig(env);
    const supervisor = startSupervisorProcess(env);
    await supervisor.waitFor('k2 supervisor ingesting');
    const first = streamTrades(topic, schemaId, { perTick: 300, everyMs: 100, runId: 'broker', brokers });
    onTestFinished(() => void first.stop().catch(() => undefined));
    await waitForFirstCommit(config, topic);
    await sleep(2_000);
    // The producer stops first so that every trade it counts was acknowledged; the supervisor is
    // still holding uncommitted rows (1 s commit interval) when the broker goes.
    const before = await first.stop();
    await broker.stop();
    await sleep(5_000);
    await broker.start();
    const second = streamTrades(topic, schemaId, {
      perTick: 300,
      everyMs: 100,
      runId: 'broker',
      firstIndex: before.length,
      brokers,
    });
    onTestFinished(() => void second.stop().catch(() => undefined));
    await sleep(3_000);
    const produced = [...before, ...(await second.stop())];
    await expectLandedOnce(config, topic, produced, { timeoutMs: 90_000, output: supervisor.output });
    expect(supervisor.child.exitCode, supervisor.output()).toBeNull();
    expect((await supervisor.stop('SIGTERM')).code, supervisor.output()).toBe(0);
  }, 180_000);
});
