import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/cli.js';
import { kafka, unique } from '../support/stack.js';
import { supervisorConfig, tableRows } from '../support/supervisor.js';
import { drainToEnd, killWhileIngesting } from '../support/supervisor-process.js';
import { encodeTrade, produce, registerTrades } from '../support/trades.js';

beforeAll(() => ensureBuilt());

const TRIALS = 20;
const PER_TRIAL = 1_500;

describe('supervisor under kill -9: every record lands exactly once', () => {
  it(`survives ${TRIALS} kills at random points (uploading, committing, before the Kafka commit)`, async () => {
    const topic = `market.${unique('k').replace('-', '')}.trades`;
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const schemaId = await registerTrades(topic);
    const env = {
      K2_TOPICS: topic,
      K2_KAFKA_GROUP_ID: unique('kill-group'),
      K2_CATALOG_NAME: unique('kill').replace('-', '_'),
      K2_HTTP_PORT: '0',
      K2_COMMIT_INTERVAL_MS: '200',
      // A killed member leaves the group when its session expires: keep that short (the stack allows 1 s).
      K2_KAFKA_SESSION_TIMEOUT_MS: '2000',
      K2_KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const produced: string[] = [];
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };

    for (let trial = 0; trial < TRIALS; trial++) {
      const trades = Array.from({ length: PER_TRIAL }, (_, i) =>
        encodeTrade(schemaId, trial * PER_TRIAL + i, 'kill'),
      );
      await produce(
        topic,
        trades.map((t) => ({ key: t.symbol, value: t.value })),
      );
      produced.push(...trades.map((t) => t.messageId));
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
  }, 600_000);
});
