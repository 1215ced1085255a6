import { Kafka, type KafkaConfig, type logCreator, logLevel, Partitioners } from 'kafkajs';

export { Partitioners };

/**
 * Broker responses that kafkajs logs at ERROR but retries by itself: a coordinator still loading
 * after a broker start, a rebalance in progress, metadata not yet propagated. They are noise unless
 * they persist, in which case the retry that gives up raises a real error.
 */
const transientBrokerErrors = [
  'The coordinator is loading',
  'The group coordinator is not available',
  'This server does not host this topic-partition',
  'There is no leader for this topic-partition',
  'The group is rebalancing',
  'is not the correct coordinator',
];

const quietLogCreator: logCreator =
  () =>
  ({ level, log }) => {
    const message = `${log.message ?? ''} ${String(log.error ?? '')}`;
    if (level <= logLevel.ERROR && transientBrokerErrors.some((text) => message.includes(text))) return;
    if (level > logLevel.WARN) return;
    console.error(JSON.stringify({ ...log, level: logLevel[level], logger: 'kafkajs' }));
  };

/** A kafkajs client with K2's defaults; transient broker noise is filtered out of the log. */
export function createKafka(config: Pick<KafkaConfig, 'brokers' | 'clientId'> & Partial<KafkaConfig>): Kafka {
  return new Kafka({
    logLevel: logLevel.WARN,
    logCreator: quietLogCreator,
    connectionTimeout: 3_000,
    ...config,
  });
}
