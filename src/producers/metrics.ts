import { Registry } from 'prom-client';
import { instantiate } from '../metrics/catalogue.js';
import { counter, gauge, histogram, type MetricOf } from '../metrics/typed.js';

/**
 * The producers' metrics, a catalogue of their own (a producer is its own process, with its own
 * /metrics). Labels are bounded: `source` is one of the producer kinds, topics and exchanges come
 * from configuration, `error_class` and `reason` from code.
 */
export const producerMetricSpecs = {
  messagesProduced: counter(
    'k2_producer_messages_total',
    'Messages acknowledged by Kafka (acks=all), by source and topic',
    ['source', 'topic'],
  ),
  bytesProduced: counter('k2_producer_bytes_total', 'Value bytes acknowledged by Kafka', ['source', 'topic']),
  produceErrors: counter(
    'k2_producer_errors_total',
    'Batches that could not be delivered after retries, by error class',
    ['source', 'topic', 'error_class'],
  ),
  produceRetries: counter('k2_producer_retries_total', 'Batches sent again after a retriable failure', [
    'source',
    'topic',
  ]),
  sendDuration: histogram(
    'k2_producer_send_duration_seconds',
    'From send to acknowledgement of one batch (all its topics)',
    ['source'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  ),
  batchMessages: histogram(
    'k2_producer_batch_messages',
    'Messages per batch sent',
    ['source'],
    [1, 10, 100, 500, 1_000, 2_000, 5_000, 10_000],
  ),
  sourceRejected: counter(
    'k2_producer_source_rejected_total',
    'Input the source could not turn into a record (malformed frame, bad CSV row), by reason',
    ['source', 'reason'],
  ),
  injected: counter(
    'k2_producer_injected_total',
    'Faults injected by the synthetic generator (gap, duplicate, poison kinds)',
    ['source', 'kind'],
  ),
  feedConnections: counter('k2_producer_feed_connections_total', 'Websocket connections opened', ['source']),
  feedDisconnects: counter('k2_producer_feed_disconnects_total', 'Websocket connections lost, by reason', [
    'source',
    'reason',
  ]),
  feedGaps: counter(
    'k2_producer_feed_gaps_total',
    'Trade id gaps seen by a feed (kind stream or reconnect)',
    ['source', 'exchange', 'kind'],
  ),
  feedMissing: counter('k2_producer_feed_missing_total', 'Trade ids missing in the gaps a feed saw', [
    'source',
    'exchange',
  ]),
  feedOutOfOrder: counter(
    'k2_producer_feed_out_of_order_total',
    'Trades that arrived with an id at or below the last one seen (late or repeated)',
    ['source', 'exchange'],
  ),
  feedConnected: gauge('k2_producer_feed_connected', '1 while the feed websocket is open', ['source']),
  buffered: gauge('k2_producer_buffered_messages', 'Messages encoded and waiting to be sent', ['source']),
} as const;

export type ProducerMetricName = keyof typeof producerMetricSpecs;
export type ProducerMetricCatalogue = {
  readonly [K in ProducerMetricName]: MetricOf<(typeof producerMetricSpecs)[K]>;
};

export interface ProducerMetrics {
  registry: Registry;
  catalogue: ProducerMetricCatalogue;
}

/** A fresh registry holding every producer metric (never prom-client's global one). */
export function createProducerMetrics(): ProducerMetrics {
  const registry = new Registry();
  const catalogue = Object.fromEntries(
    Object.entries(producerMetricSpecs).map(([key, spec]) => [key, instantiate(spec, registry)]),
  ) as unknown as ProducerMetricCatalogue;
  return { registry, catalogue };
}
