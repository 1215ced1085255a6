import {
  bool,
  bucketName,
  hostPorts,
  httpUrl,
  identifier,
  inspectTarget,
  int,
  oneOf,
  optionalTopicList,
  type Parser,
  str,
  topicList,
} from './fields.js';

export interface Field<T> {
  readonly kind: 'field';
  readonly env: string;
  readonly parse: Parser<T>;
  readonly default?: T;
  readonly secret?: boolean;
  readonly doc: string;
}

function field<T>(spec: Omit<Field<T>, 'kind'>): Field<T> {
  return { kind: 'field', ...spec };
}

/**
 * Every configuration key K2 reads: its environment variable, parser, default and meaning.
 * The file form uses the same nesting (`{"kafka": {"brokers": ["127.0.0.1:9092"]}}`).
 */
export const configSchema = {
  kafka: {
    brokers: field({ env: 'K2_KAFKA_BROKERS', parse: hostPorts, doc: 'Kafka bootstrap brokers' }),
    clientId: field({ env: 'K2_KAFKA_CLIENT_ID', parse: str, default: 'k2', doc: 'Kafka client id' }),
    groupId: field({ env: 'K2_KAFKA_GROUP_ID', parse: str, default: 'k2-ingest', doc: 'consumer group' }),
    sessionTimeoutMs: field({
      env: 'K2_KAFKA_SESSION_TIMEOUT_MS',
      parse: int(1_000, 300_000),
      default: 30_000,
      doc: 'consumer group session timeout',
    }),
    heartbeatIntervalMs: field({
      env: 'K2_KAFKA_HEARTBEAT_INTERVAL_MS',
      parse: int(100, 60_000),
      default: 3_000,
      doc: 'consumer heartbeat interval (must be below the session timeout)',
    }),
    fetchPartitionBytes: field({
      env: 'K2_KAFKA_FETCH_PARTITION_BYTES',
      parse: int(64 * 1024, 64 * 1024 * 1024),
      default: 1536 * 1024,
      doc: 'bytes fetched per partition per request: the size of a decode batch (and of the records held while it decodes)',
    }),
    batchPassthrough: field({
      env: 'K2_KAFKA_BATCH_PASSTHROUGH',
      parse: bool,
      default: true,
      doc: 'the ingest consumer reads whole record batches instead of one kafkajs message per record (src/kafka/batch-passthrough.ts); false: kafkajs decodes every record',
    }),
    connectionTimeoutMs: field({
      env: 'K2_KAFKA_CONNECTION_TIMEOUT_MS',
      parse: int(100, 120_000),
      default: 3_000,
      doc: 'broker connection timeout',
    }),
  },
  registry: {
    url: field({
      env: 'K2_REGISTRY_URL',
      parse: httpUrl,
      doc: 'Confluent-compatible schema registry base URL',
    }),
  },
  catalog: {
    host: field({
      env: 'K2_CATALOG_HOST',
      parse: str,
      default: '127.0.0.1',
      doc: 'PostgreSQL host of the Iceberg catalog',
    }),
    port: field({ env: 'K2_CATALOG_PORT', parse: int(1, 65_535), default: 5432, doc: 'PostgreSQL port' }),
    database: field({ env: 'K2_CATALOG_DATABASE', parse: str, default: 'k2', doc: 'PostgreSQL database' }),
    user: field({ env: 'K2_CATALOG_USER', parse: str, default: 'postgres', doc: 'PostgreSQL user' }),
    password: field({
      env: 'K2_CATALOG_PASSWORD',
      parse: str,
      default: 'postgres',
      secret: true,
      doc: 'PostgreSQL password',
    }),
    name: field({
      env: 'K2_CATALOG_NAME',
      parse: identifier,
      default: 'k2',
      doc: 'catalog_name shared with other Iceberg clients',
    }),
  },
  s3: {
    endpoint: field({ env: 'K2_S3_ENDPOINT', parse: httpUrl, doc: 'S3 endpoint (path-style)' }),
    region: field({ env: 'K2_S3_REGION', parse: str, default: 'us-east-1', doc: 'S3 region' }),
    bucket: field({
      env: 'K2_S3_BUCKET',
      parse: bucketName,
      default: 'k2-warehouse',
      doc: 'warehouse bucket',
    }),
    accessKeyId: field({ env: 'K2_S3_ACCESS_KEY_ID', parse: str, doc: 'S3 access key id' }),
    secretAccessKey: field({
      env: 'K2_S3_SECRET_ACCESS_KEY',
      parse: str,
      secret: true,
      doc: 'S3 secret key',
    }),
    forcePathStyle: field({
      env: 'K2_S3_FORCE_PATH_STYLE',
      parse: bool,
      default: true,
      doc: 'path-style addressing',
    }),
  },
  supervisor: {
    topics: field({
      env: 'K2_TOPICS',
      parse: topicList,
      default: ['market.crypto.trades', 'market.equities.trades', 'market.equities.quotes'],
      doc: 'topics to land (market.<asset_class>.<trades|quotes|reference_data>)',
    }),
    lowPriorityTopics: field({
      env: 'K2_LOW_PRIORITY_TOPICS',
      parse: optionalTopicList,
      default: [],
      doc: 'topics paused while the health level is CRITICAL, so the others keep landing (a subset of K2_TOPICS)',
    }),
    maxBufferedRows: field({
      env: 'K2_MAX_BUFFERED_ROWS',
      parse: int(1_000, 50_000_000),
      default: 1_000_000,
      doc: 'rows the process holds (buffered and awaiting commit) before partitions are paused until a commit frees them (backpressure)',
    }),
    heapGrowingPercent: field({
      env: 'K2_HEAP_GROWING_PERCENT',
      parse: int(0, 1_000),
      default: 30,
      doc: "how far V8 lets a thread's heap grow past its live size before the next full collection, in percent (0: V8's own heuristic, which let the busy ingest heap reach ~3× its live size); set at start-up for every thread unless node is run with --heap-growing-percent",
    }),
    commitRows: field({
      env: 'K2_COMMIT_ROWS',
      parse: int(1, 50_000_000),
      default: 500_000,
      doc: 'buffered rows of a table that trigger a commit before the interval ends',
    }),
    commitBytes: field({
      env: 'K2_COMMIT_BYTES',
      parse: int(1_024, 16 * 1024 * 1024 * 1024),
      default: 128 * 1024 * 1024,
      doc: 'buffered source bytes of a table that trigger a commit before the interval ends',
    }),
    encodeRows: field({
      env: 'K2_ENCODE_ROWS',
      parse: int(0, 50_000_000),
      default: 50_000,
      doc: "buffered rows of a partition encoded into Parquet right away, ahead of the commit, so waiting rows are held as a file's bytes rather than decoded columns (0: encode at commit only)",
    }),
    httpHost: field({
      env: 'K2_HTTP_HOST',
      parse: str,
      default: '127.0.0.1',
      doc: 'bind address of /metrics, /healthz, /status',
    }),
    httpPort: field({
      env: 'K2_HTTP_PORT',
      parse: int(0, 65_535),
      default: 9464,
      doc: 'port of the HTTP endpoints',
    }),
    commitIntervalMs: field({
      env: 'K2_COMMIT_INTERVAL_MS',
      parse: int(100, 300_000),
      default: 5_000,
      doc: 'longest time rows wait before an Iceberg commit',
    }),
    inspect: field({
      env: 'K2_INSPECT',
      parse: inspectTarget,
      default: '',
      doc: 'attach the xstate inspector: a ws:// URL (k2 inspect serves one on 127.0.0.1:8080) or "sky"; empty: off',
    }),
    drainTimeoutMs: field({
      env: 'K2_DRAIN_TIMEOUT_MS',
      parse: int(1_000, 600_000),
      default: 30_000,
      doc: 'deadline for a graceful drain on SIGTERM',
    }),
  },
  pool: {
    minThreads: field({
      env: 'K2_POOL_MIN_THREADS',
      parse: int(1, 256),
      default: 1,
      doc: 'worker pool minimum threads',
    }),
    maxThreads: field({
      env: 'K2_POOL_MAX_THREADS',
      parse: int(1, 256),
      default: 2,
      doc: 'worker pool maximum threads',
    }),
    youngGenerationMb: field({
      env: 'K2_POOL_YOUNG_GENERATION_MB',
      parse: int(0, 1_024),
      default: 6,
      doc: "each pool thread's V8 young generation in MiB (0: V8's default, 3 semi-spaces of up to 16 MiB): pool tasks allocate few objects but large buffers, which a small young generation frees sooner",
    }),
  },
  limits: {
    maxMessageBytes: field({
      env: 'K2_MAX_MESSAGE_BYTES',
      parse: int(64, 64 * 1024 * 1024),
      default: 1024 * 1024,
      doc: 'larger record values go to the DLQ',
    }),
  },
  log: {
    level: field({
      env: 'K2_LOG_LEVEL',
      parse: oneOf('debug', 'info', 'warn', 'error'),
      default: 'info',
      doc: 'log level',
    }),
  },
} as const;

type Section = { readonly [key: string]: Field<unknown> };
type Schema = { readonly [section: string]: Section };
type ValueOf<F> = F extends Field<infer T> ? T : never;

export type ConfigOf<S extends Schema> = {
  readonly [section in keyof S]: { readonly [key in keyof S[section]]: ValueOf<S[section][key]> };
};

export type K2Config = ConfigOf<typeof configSchema>;
export type ConfigSchema = typeof configSchema;
