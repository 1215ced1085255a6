import { beforeAll, describe, expect, it } from 'vitest';
import { frame } from '../../src/codec/wire.js';
import { dlqHeader } from '../../src/dlq/index.js';
import { ensureBuilt } from '../support/cli.js';
import { createTopic, readTopic, unique } from '../support/stack.js';
import { pipelineEnv, supervisorConfig, tableRows } from '../support/supervisor.js';
import { drainToEnd, killWhileIngesting } from '../support/supervisor-process.js';
import { encodeTrade, produce, registerTrades } from '../support/trades.js';

beforeAll(() => ensureBuilt());

const TRIALS = 20;
const PER_TRIAL = 1_500;

describe('supervisor under kill -9: every record lands exactly once, every poison record in the DLQ once', () => {
  it(`survives ${TRIALS} kills at random points (uploading, committing, before the Kafka commit)`, async () => {
    const topic = `market.${unique('k').replace('-', '')}.trades`;
    await createTopic(topic, 3);
    const schemaId = await registerTrades(topic);
    const env = {
      ...pipelineEnv(topic, 'kill'),
      K2_HTTP_PORT: '0',
      K2_COMMIT_INTERVAL_MS: '200',
      // A killed member leaves the group when its session expires: keep that short (the stack allows 1 s).
      K2_KAFKA_SESSION_TIMEOUT_MS: '2000',
      K2_KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const produced: string[] = [];
    let poisonCount = 0;
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };

    for (let trial = 0; trial < TRIALS; trial++) {
      const trades = Array.from({ length: PER_TRIAL }, (_, i) =>
        encodeTrade(schemaId, trial * PER_TRIAL + i, 'kill'),
      );
      // Poison amid the trades: each record quarantined once, however often its batch is replayed.
      const poison = [Buffer.from([1, 0, 0, 0, 1, 2, 3]), frame(999_999, Buffer.from([2, 4, 6]))];
      const messages = trades.map((t) => ({ key: t.symbol, value: t.value }));
      messages.splice(
        PER_TRIAL >> 1,
        0,
        ...poison.map((value, i) => ({ key: ['BTCUSDT', 'AAPL'][i]!, value })),
      );
      await produce(topic, messages);
      produced.push(...trades.map((t) => t.messageId));
      poisonCount += poison.length;
      // Kill it somewhere inside its commit cycles.
      // Every other run encodes each batch ahead of its commit, so kills also land amid early encodes.
      await killWhileIngesting({ ...env, K2_ENCODE_ROWS: trial % 2 ? '1' : '50000' }, 100 + random() * 1_200);
    }

    const config = supervisorConfig(env);
    await drainToEnd(env, config, topic);

    const rows = await tableRows(config);
    const ids = rows.map((r) => r.message_id as string);
    expect(ids.length).toBe(produced.length);
    expect(new Set(ids)).toEqual(new Set(produced));

    const dlq = await readTopic(`${topic}.dlq`, poisonCount);
    const positions = dlq
      .filter((r) => r.headers[dlqHeader.group] === env.K2_KAFKA_GROUP_ID)
      .map((r) => `${r.headers[dlqHeader.sourcePartition]}@${r.headers[dlqHeader.sourceOffset]}`);
    expect(positions).toHaveLength(poisonCount);
    expect(new Set(positions).size).toBe(poisonCount);
  }, 600_000);
});
