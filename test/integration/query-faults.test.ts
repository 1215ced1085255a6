import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3FileIO } from '../../src/iceberg/io.js';
import { Partitioners } from '../../src/kafka/client.js';
import { PartialAnswerError, QueryTimeoutError, WarehouseUnavailableError } from '../../src/query/errors.js';
import { KafkaTailSource, type TailSource } from '../../src/query/kafka-source.js';
import { formatIso } from '../../src/query/time.js';
import { Registry } from '../../src/registry/registry.js';
import { kafka, stack } from '../support/stack.js';
import { type QueryEnv, queryEnv, records, STEP, T0, type Trade } from './query-support.js';

const COUNT = 200;
const window = { from: formatIso(T0), to: formatIso(T0 + BigInt(COUNT) * STEP) };

describe('hybrid query when a dependency fails', () => {
  let env: QueryEnv;
  let trades: Trade[];

  beforeAll(async () => {
    env = await queryEnv();
    trades = env.trades(COUNT);
    await env.produce(trades);
    await env.commit(
      trades.filter((t) => t.i < 150),
      env.group,
    );
  });
  afterAll(() => env?.close());

  it('answers from Iceberg with a partial flag and a warning when Kafka is unavailable, and fails when strict', async () => {
    const deadKafka = await env.serviceWith({
      tailSource: new KafkaTailSource({ brokers: ['127.0.0.1:1'], connectionTimeoutMs: 500 }),
    });
    const result = await env.query({ kind: 'trades', ...window }, deadKafka);
    expect(result.rows).toHaveLength(150);
    expect(result.meta.partial).toBe(true);
    expect(result.meta.rows).toEqual({ iceberg: 150, kafka: 0 });
    expect(result.meta.tables[0]!.kafka.status).toBe('unavailable');
    expect(result.meta.warnings.map((w) => w.code)).toContain('K2_QUERY_KAFKA_UNAVAILABLE');
    await expect(env.query({ kind: 'trades', ...window, strict: 'true' }, deadKafka)).rejects.toBeInstanceOf(
      PartialAnswerError,
    );
  });

  it('treats an unreachable schema registry like an unreadable tail: partial, never silently short', async () => {
    const deadRegistry = await env.serviceWith({
      schemas: new Registry({
        url: 'http://127.0.0.1:1/apis/ccompat/v7',
        timeoutMs: 500,
        retry: { attempts: 1 },
      }),
    });
    const result = await env.query({ kind: 'bars', ...window, interval: '1h' }, deadRegistry);
    expect(result.meta.partial).toBe(true);
    expect(result.meta.rows).toEqual({ iceberg: 150, kafka: 0 });
    expect(result.meta.warnings[0]!.message).toMatch(/schema registry/);
  });

  it('fails with a clear error, and no partial answer, when S3 is unavailable', async () => {
    const io = new S3FileIO(
      { ...stack().s3, endpoint: 'http://127.0.0.1:1' },
      { retry: { attempts: 1 }, requestTimeoutMs: 1_000 },
    );
    const deadS3 = await env.serviceWith({ warehouse: { ...env.warehouse.warehouse, io } });
    const failure = env.query({ kind: 'trades', ...window }, deadS3);
    await expect(failure).rejects.toBeInstanceOf(WarehouseUnavailableError);
    await expect(failure).rejects.toThrow(/S3 is unavailable/);
    io.destroy();
  });

  it('interrupts a query past its deadline', async () => {
    const real = new KafkaTailSource({ brokers: stack().kafka.brokers });
    const slow: TailSource = {
      watermarks: async (topic) => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        return real.watermarks(topic);
      },
      fetch: (ranges, onRecords, signal) => real.fetch(ranges, onRecords, signal),
      close: () => real.close(),
    };
    const service = await env.serviceWith({ tailSource: slow });
    await expect(env.query({ kind: 'trades', ...window, timeout: '200ms' }, service)).rejects.toBeInstanceOf(
      QueryTimeoutError,
    );
  });

  it('skips tail records that cannot be decoded, says how many, and keeps the rest', async () => {
    const producer = kafka('k2-test-producer').producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    await producer.send({
      topic: env.topic,
      messages: [{ key: 'BTCUSDT', value: Buffer.from('not avro'), partition: 0 }],
    });
    await producer.disconnect();
    const result = await env.query({ kind: 'trades', ...window });
    expect(records(result)).toHaveLength(COUNT);
    expect(result.meta.partial).toBe(false);
    expect(result.meta.tables[0]!.kafka.decodeFailures).toBe(1);
    expect(result.meta.warnings.map((w) => w.code)).toContain('K2_QUERY_TAIL_POISON');
  });
});
