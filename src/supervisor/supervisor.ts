import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createActor } from 'xstate';
import { healthMachine } from '../actors/health.machine.js';
import type { K2Config } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import { behaviourFor } from '../health/behaviour.js';
import { createBreakers, guardedSchemas, guardedWarehouse } from '../health/guards.js';
import type { HealthLevel } from '../health/levels.js';
import { heapRatio } from '../health/process.js';
import { openWarehouse } from '../iceberg/warehouse.js';
import {
  breakerChanged,
  Journal,
  journalInspector,
  journalPool,
  levelChanged,
  metricsProjection,
  PgJournalStore,
  StatusProjection,
} from '../journal/index.js';
import { batchPassthroughSocketFactory } from '../kafka/batch-passthrough.js';
import { createKafka, Partitioners } from '../kafka/client.js';
import { createMetrics, initialiseSeries } from '../metrics/index.js';
import { KafkaTailSource } from '../query/kafka-source.js';
import { Registry } from '../registry/registry.js';
import { CodecPool } from '../workers/pool.js';
import { type HttpEndpoints, startHttp } from './http.js';
import { IngestService, landingTable } from './ingest.js';
import { attachInspector } from './inspector.js';
import { lazyQueryRoute } from './query-route.js';

export interface Supervisor {
  ingest: IngestService;
  http: HttpHandle;
  /** Drains (commit everything buffered) within the configured deadline, then releases everything. */
  stop(): Promise<boolean>;
}

function log(message: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), msg: message, ...fields }));
}

/**
 * The supervisor process: config, the worker pool, the Kafka consumer and DLQ producer, one
 * CommitActor per table, the journal with its projections (/metrics, /status), HTTP and signals.
 */
export async function startSupervisor(
  config: K2Config,
  options: {
    handleSignals?: boolean;
    /** Called after the drain the health level forced (SHUTDOWN); the process entry point exits 1. */
    onHealthShutdown?: (reason: string) => void;
  } = {},
): Promise<Supervisor> {
  const { registry: metricsRegistry, catalogue } = createMetrics();
  initialiseSeries(catalogue, {
    topics: config.supervisor.topics,
    tables: config.supervisor.topics.map(landingTable),
  });
  const journal = new Journal();
  const status = new StatusProjection();
  journal.subscribe(metricsProjection(catalogue));
  journal.subscribe(status.apply);
  // The audit trail: journal entries in PostgreSQL (the catalog database), never blocking ingestion.
  const journalDb = journalPool(config.catalog, (error) =>
    log('journal store connection error', { error: error.message }),
  );
  const store = new PgJournalStore({
    db: journalDb,
    instance: `${config.kafka.groupId}/${process.pid}`,
    metrics: catalogue,
    onError: (error) => log('journal store: write failed, entries kept in memory', { error: String(error) }),
  });
  await store
    .ensureTable()
    .catch((error: unknown) => log('journal store unavailable at start', { error: String(error) }));
  journal.subscribe(store.listener);
  store.start();
  const inspector = attachInspector(config.supervisor.inspect, journalInspector(journal), log);
  const { inspect } = inspector;

  const kafka = createKafka({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    connectionTimeout: config.kafka.connectionTimeoutMs,
  });
  const admin = kafka.admin();
  await admin.connect();
  await ensureDlqTopics(admin, config.supervisor.topics);
  // The ingest consumer has a client of its own: its fetches hand over whole record batches.
  const ingestKafka = config.kafka.batchPassthrough
    ? createKafka({
        clientId: config.kafka.clientId,
        brokers: config.kafka.brokers,
        connectionTimeout: config.kafka.connectionTimeoutMs,
        socketFactory: batchPassthroughSocketFactory(),
      })
    : kafka;
  const consumer = ingestKafka.consumer({
    groupId: config.kafka.groupId,
    sessionTimeout: config.kafka.sessionTimeoutMs,
    heartbeatInterval: config.kafka.heartbeatIntervalMs,
    maxWaitTimeInMs: 500,
    maxBytesPerPartition: config.kafka.fetchPartitionBytes,
  });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const pool = new CodecPool({
    minThreads: config.pool.minThreads,
    maxThreads: config.pool.maxThreads,
    youngGenerationMb: config.pool.youngGenerationMb,
    limits: { maxMessageBytes: config.limits.maxMessageBytes },
  });
  // The HealthActor turns observations into NOMINAL / DEGRADED / CRITICAL / SHUTDOWN with hysteresis;
  // the circuit breakers around S3, the catalog, the registry and the DLQ producer feed it.
  const health = createActor(healthMachine, { input: {}, inspect });
  const breakers = createBreakers((change) => {
    journal.append(breakerChanged(change));
    health.send({ type: 'breaker.changed', dependency: change.dependency, state: change.to });
    log('k2 supervisor: circuit breaker changed', { ...change });
  });
  const warehouse = guardedWarehouse(openWarehouse(config), breakers);
  const registry = new Registry({ url: config.registry.url });
  const dlqReader = new KafkaTailSource({
    brokers: config.kafka.brokers,
    clientId: `${config.kafka.clientId}-dlq-reader`,
    connectionTimeoutMs: config.kafka.connectionTimeoutMs,
  });
  const ingest = new IngestService({
    dlqReader,
    inspect,
    config,
    journal,
    pool,
    registry: guardedSchemas(registry, breakers.registry),
    dlqBreaker: breakers.dlq,
    warehouse,
    consumer,
    producer,
    admin,
    log,
  });

  let state: 'starting' | 'running' | 'draining' = 'starting';
  let level: HealthLevel = 'NOMINAL';
  health.on('level.changed', (event) => {
    level = event.to;
    journal.append(levelChanged('health', event));
    log('k2 supervisor: health level changed', { from: event.from, to: event.to, reasons: event.reasons });
    const behaviour = behaviourFor(event.to, event.reasons);
    ingest.applyBehaviour(behaviour);
    // SHUTDOWN not asked for (CRITICAL with a dependency down too long): drain what can be, then exit
    // non-zero so the service manager restarts the process on a clean slate.
    if (behaviour.drain && state !== 'draining') {
      log('k2 supervisor: shutting down on health', { reason: event.shutdownReason });
      void stop().then(() => options.onHealthShutdown?.(event.shutdownReason ?? 'health'));
    }
  });
  health.start();
  const observe = setInterval(() => {
    health.send({ type: 'observe', observations: { ...ingest.observations(), heapRatio: heapRatio() } });
  }, 1_000).unref();

  // GET /query: the hybrid query over the committed tables and the live tail, on the same pool;
  // the engine loads with the first query.
  const queries = lazyQueryRoute(config, pool, (error: unknown) =>
    log('query failed', { error: String(error) }),
  );
  const endpoints = {
    routes: [queries.handler],
    metrics: metricsRegistry,
    healthy: () => true,
    ready: () => state === 'running' && behaviourFor(level).ready,
    status: () => ({ state, writerId: ingest.writerId, ...status.view() }),
  };
  const http = await serveHttp(config, endpoints);
  let stopping: Promise<boolean> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      state = 'draining';
      clearInterval(observe);
      health.send({ type: 'shutdown', reason: 'stop requested' });
      const drained = await ingest.drain(config.supervisor.drainTimeoutMs);
      await producer.disconnect().catch(() => undefined);
      await dlqReader.close().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await queries.close();
      await pool.destroy();
      await warehouse.close();
      await store.close();
      await journalDb.end();
      await http.close();
      inspector.stop();
      log('k2 supervisor stopped', { drained });
      return drained;
    })();
    return stopping;
  };
  if (options.handleSignals ?? true) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        log(`k2 supervisor: ${signal}, draining`, { deadlineMs: config.supervisor.drainTimeoutMs });
        stop().then(
          (drained) => process.exit(drained ? 0 : 1),
          (error: unknown) => {
            log('k2 supervisor: drain failed', { error: String(error) });
            process.exit(1);
          },
        );
      });
    }
  }
  await ingest.start();
  if (state === 'starting') state = 'running';
  log('k2 supervisor ingesting', { topics: config.supervisor.topics, tables: ingest.tables });

  return { ingest, http, stop };
}

/** Every landed topic has `<topic>.dlq` with as many partitions, so quarantined records keep their partition. */
async function ensureDlqTopics(
  admin: ReturnType<ReturnType<typeof createKafka>['admin']>,
  topics: readonly string[],
) {
  for (const topic of topics) landingTable(topic);
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    throw new ConfigError(
      'K2_TOPICS',
      `topics do not exist (auto-create is off; create them first): ${missing.join(', ')}`,
    );
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
  const existingDlqs = topics.map((t) => `${t}.dlq`).filter((t) => existing.has(t));
  if (existingDlqs.length > 0) {
    const dlqMetadata = await admin.fetchTopicMetadata({ topics: existingDlqs });
    for (const dlq of dlqMetadata.topics) {
      const source = metadata.topics.find((t) => `${t.name}.dlq` === dlq.name)!;
      if (dlq.partitions.length < source.partitions.length) {
        throw new ConfigError(
          'K2_TOPICS',
          `${dlq.name} has ${dlq.partitions.length} partitions, fewer than ${source.name}'s ${source.partitions.length}: poison keeps its source partition number, so add partitions to the DLQ`,
        );
      }
    }
  }
  const dlqs = metadata.topics
    .filter((t) => !existing.has(`${t.name}.dlq`))
    .map((t) => ({ topic: `${t.name}.dlq`, numPartitions: t.partitions.length, replicationFactor: -1 }));
  if (dlqs.length > 0) await admin.createTopics({ topics: dlqs, waitForLeaders: true });
}

export interface HttpHandle {
  /** The bound address, once the endpoints are served. */
  address(): AddressInfo | undefined;
  close(): Promise<void>;
}

/**
 * The HTTP endpoints are for watching, not for ingesting: when the port is taken the supervisor
 * says so once, keeps ingesting, and retries the bind quietly until it gets the port.
 */
async function serveHttp(config: K2Config, endpoints: HttpEndpoints): Promise<HttpHandle> {
  const { httpHost: host, httpPort: port } = config.supervisor;
  let server: Server | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const attempt = async (first: boolean): Promise<void> => {
    try {
      server = await startHttp(host, port, endpoints);
      log('k2 supervisor listening', { address: server.address() });
      if (!first) log('k2 supervisor: HTTP endpoints are served again', { address: server.address() });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
      if (first) {
        log(
          `k2 supervisor: cannot serve /metrics, /healthz, /readyz and /status on ${host}:${port} (${code}); ingestion continues without them, retrying every 30 s (set K2_HTTP_PORT to move them)`,
        );
      }
      if (!closed) timer = setTimeout(() => void attempt(false), 30_000).unref();
    }
  };
  await attempt(true);
  return {
    address: () => (server?.address() as AddressInfo | null) ?? undefined,
    close: async () => {
      closed = true;
      clearTimeout(timer);
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}
