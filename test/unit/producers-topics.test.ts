import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  ensureTopics,
  marketTopic,
  marketTopicSpecs,
  TopicConfigMismatchError,
} from '../../src/kafka/topics.js';

/** An admin double over a set of topics with their configs. */
function fakeAdmin(existing: Record<string, Record<string, string>>, raceCreates: string[] = []) {
  const topics = new Map(Object.entries(existing));
  const created: string[][] = [];
  const admin = {
    listTopics: async () => [...topics.keys()],
    createTopics: async ({
      topics: specs,
    }: {
      topics: { topic: string; configEntries: { name: string; value: string }[] }[];
    }) => {
      for (const t of raceCreates) topics.set(t, {});
      if (specs.some((s) => topics.has(s.topic))) throw new Error('Topic with this name already exists');
      created.push(specs.map((s) => s.topic));
      for (const s of specs)
        topics.set(s.topic, Object.fromEntries(s.configEntries.map((e) => [e.name, e.value])));
      return true;
    },
    describeConfigs: async ({ resources }: { resources: { name: string; configNames: string[] }[] }) => ({
      resources: resources.map((r) => ({
        resourceName: r.name,
        configEntries: r.configNames
          .filter((n) => topics.get(r.name)?.[n] !== undefined)
          .map((n) => ({ configName: n, configValue: topics.get(r.name)![n] })),
      })),
    }),
  } as unknown as Admin;
  return { admin, created, topics };
}

describe('market topics', () => {
  it('names topics market.<asset_class>.<data_type>', () => {
    expect(marketTopic('CRYPTO', 'trades')).toBe('market.crypto.trades');
    expect(marketTopic('EQUITY', 'quotes')).toBe('market.equities.quotes');
    expect(marketTopic('EQUITY', 'reference_data')).toBe('market.equities.reference_data');
  });

  it('compacts reference data topics only, and adds a .dlq topic per topic with the same partitions', () => {
    expect(marketTopicSpecs(['market.crypto.trades', 'market.equities.reference_data'], 6)).toEqual([
      { topic: 'market.crypto.trades', partitions: 6 },
      { topic: 'market.equities.reference_data', partitions: 6, config: { 'cleanup.policy': 'compact' } },
      { topic: 'market.crypto.trades.dlq', partitions: 6 },
      { topic: 'market.equities.reference_data.dlq', partitions: 6 },
    ]);
  });

  it('creates only what is missing and is idempotent', async () => {
    const { admin, created } = fakeAdmin({ 'market.crypto.trades': {} });
    const specs = marketTopicSpecs(['market.crypto.trades', 'market.equities.trades'], 3);
    expect(await ensureTopics(admin, specs)).toEqual({
      created: ['market.equities.trades', 'market.crypto.trades.dlq', 'market.equities.trades.dlq'],
      existing: ['market.crypto.trades'],
    });
    expect(await ensureTopics(admin, specs)).toEqual({ created: [], existing: specs.map((s) => s.topic) });
    expect(created).toHaveLength(1);
  });

  it('tolerates another process creating the same topics at the same time', async () => {
    const { admin } = fakeAdmin({}, ['t']);
    await expect(ensureTopics(admin, [{ topic: 't', partitions: 1 }])).resolves.toBeDefined();
  });

  it('refuses an existing reference topic that is not compacted', async () => {
    const { admin } = fakeAdmin({ 'market.equities.reference_data': { 'cleanup.policy': 'delete' } });
    const error = await ensureTopics(admin, marketTopicSpecs(['market.equities.reference_data'], 1)).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(TopicConfigMismatchError);
    expect(error).toMatchObject({
      code: 'K2_TOPIC_CONFIG_MISMATCH',
      topic: 'market.equities.reference_data',
      actual: 'delete',
    });
  });
});
