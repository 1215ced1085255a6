import kafkajs, { type Admin } from 'kafkajs';
import { dlqTopicFor } from '../dlq/index.js';
import { K2Error } from '../errors/index.js';

/** The data type segment of `market.<asset_class>.<data_type>`; it names the table a topic lands in. */
export const dataTypes = ['trades', 'quotes', 'reference_data'] as const;
export type DataType = (typeof dataTypes)[number];

/** The asset class segment of a topic, by the Avro AssetClass symbol. */
export const assetClassSegments = {
  CRYPTO: 'crypto',
  EQUITY: 'equities',
  FX: 'fx',
  FUTURE: 'futures',
  OPTION: 'options',
  OTHER: 'other',
} as const;
export type AssetClassSymbol = keyof typeof assetClassSegments;

/** `market.crypto.trades` for (CRYPTO, trades). */
export function marketTopic(assetClass: AssetClassSymbol, dataType: DataType): string {
  return `market.${assetClassSegments[assetClass]}.${dataType}`;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Omitted: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Topic configs; for a topic that already exists these are checked, never altered. */
  config?: Readonly<Record<string, string>>;
}

/**
 * The spec of a market topic: reference data is keyed by exchange+symbol on a compacted topic (the
 * latest version of each instrument is kept forever); trades and quotes use the broker's retention.
 */
export function marketTopicSpec(topic: string, partitions: number): TopicSpec {
  return topic.endsWith('.reference_data')
    ? { topic, partitions, config: { 'cleanup.policy': 'compact' } }
    : { topic, partitions };
}

/** The spec of `<topic>.dlq`: as many partitions as its source, never compacted (every poison record is kept). */
export function dlqTopicSpec(source: TopicSpec): TopicSpec {
  const dlq: TopicSpec = { topic: dlqTopicFor(source.topic), partitions: source.partitions };
  return source.replicationFactor === undefined
    ? dlq
    : { ...dlq, replicationFactor: source.replicationFactor };
}

/** Market topics and their DLQs, in that order. */
export function marketTopicSpecs(topics: readonly string[], partitions: number): TopicSpec[] {
  const specs = topics.map((topic) => marketTopicSpec(topic, partitions));
  return [...specs, ...specs.map(dlqTopicSpec)];
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
}

/** An existing topic whose config contradicts its spec (a reference topic that is not compacted). */
export class TopicConfigMismatchError extends K2Error {
  constructor(
    readonly topic: string,
    readonly key: string,
    readonly expected: string,
    readonly actual: string | undefined,
  ) {
    super(
      'K2_TOPIC_CONFIG_MISMATCH',
      `topic ${topic} exists with ${key}=${actual ?? '(unset)'}, K2 needs ${key}=${expected}; fix it with kafka-configs or delete the topic`,
    );
  }
}

/**
 * Creates the topics that do not exist yet (idempotent: safe to call from every process at start,
 * concurrently too) and checks the configs of those that do. Partition counts of existing topics
 * are left as they are: changing them would move keys between partitions.
 */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<EnsureTopicsResult> {
  const present = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !present.has(spec.topic));
  if (missing.length > 0) {
    try {
      await admin.createTopics({
        topics: missing.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions,
          ...(spec.replicationFactor === undefined ? {} : { replicationFactor: spec.replicationFactor }),
          configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
        waitForLeaders: true,
      });
    } catch (error) {
      // Another process may have created some of them since the listing: only a topic still missing is an error.
      const now = new Set(await admin.listTopics());
      if (missing.some((spec) => !now.has(spec.topic))) throw error;
    }
  }
  const created = new Set(missing.map((spec) => spec.topic));
  await checkConfigs(
    admin,
    specs.filter((spec) => !created.has(spec.topic) && spec.config !== undefined),
  );
  return {
    created: [...created],
    existing: specs.filter((spec) => !created.has(spec.topic)).map((spec) => spec.topic),
  };
}

// kafkajs is CommonJS and Node cannot see ConfigResourceTypes as a named export.
async function checkConfigs(admin: Admin, specs: readonly TopicSpec[]): Promise<void> {
  if (specs.length === 0) return;
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((spec) => ({
      type: kafkajs.ConfigResourceTypes.TOPIC,
      name: spec.topic,
      configNames: Object.keys(spec.config ?? {}),
    })),
  });
  for (const spec of specs) {
    const entries = described.resources.find((r) => r.resourceName === spec.topic)?.configEntries ?? [];
    for (const [key, expected] of Object.entries(spec.config ?? {})) {
      const actual = entries.find((e) => e.configName === key)?.configValue;
      if (actual !== expected) throw new TopicConfigMismatchError(spec.topic, key, expected, actual);
    }
  }
}
