import { randomUUID } from 'node:crypto';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { Partitioners } from '../../src/kafka/client.js';
import { kafka, pgClient, registry, s3, stack, unique } from '../support/stack.js';

describe('local stack: each real service answers its real client', () => {
  it('kafka: a record produced with kafkajs is consumed back by a consumer group', async () => {
    const topic = unique('smoke');
    const client = kafka();
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const producer = client.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const value = randomUUID();
    await producer.send({ topic, messages: [{ key: 'BTCUSDT', value }] });
    await producer.disconnect();

    const consumer = client.consumer({ groupId: unique('smoke-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no record within 30 s')), 30_000);
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve(message.value?.toString() ?? '');
        },
      });
    });
    await consumer.disconnect();
    expect(received).toBe(value);
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('kafka: topics are not auto-created', async () => {
    const admin = kafka().admin();
    await admin.connect();
    const producer = kafka().producer({
      allowAutoTopicCreation: true,
      retry: { retries: 1 },
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const topic = unique('never-created');
    await expect(producer.send({ topic, messages: [{ value: 'x' }], timeout: 2_000 })).rejects.toThrow();
    expect(await admin.listTopics()).not.toContain(topic);
    await producer.disconnect();
    await admin.disconnect();
  });

  it('registry: an Avro schema registered with the Confluent client is fetched back by id and round-trips a record', async () => {
    const client = registry();
    const subject = `${unique('smoke')}-value`;
    const schema = {
      type: 'record',
      name: 'Smoke',
      namespace: 'com.k2.test',
      fields: [
        { name: 'symbol', type: 'string' },
        { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 18, scale: 8 } },
      ],
    };
    const { id } = await client.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject },
    );
    expect(id).toBeGreaterThan(0);
    expect(await client.getLatestSchemaId(subject)).toBe(id);
    const encoded = await client.encode(id, { symbol: 'BTCUSDT', price: Buffer.from([0x01, 0x02]) });
    expect(encoded[0]).toBe(0);
    expect(encoded.readUInt32BE(1)).toBe(id);
    const decoded = await registry().decode(encoded);
    expect(decoded.symbol).toBe('BTCUSDT');
    expect(Buffer.from(decoded.price)).toEqual(Buffer.from([0x01, 0x02]));
  });

  it('postgres: a row written with pg is read back', async () => {
    const client = pgClient();
    await client.connect();
    try {
      const table = unique('smoke').replace('-', '_');
      await client.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, price numeric(18,8))`);
      await client.query(`INSERT INTO ${table} VALUES ($1, $2)`, ['9007199254740993', '123.45678901']);
      const { rows } = await client.query(`SELECT id::text, price::text FROM ${table}`);
      expect(rows).toEqual([{ id: '9007199254740993', price: '123.45678901' }]);
      await client.query(`DROP TABLE ${table}`);
    } finally {
      await client.end();
    }
  });

  it('s3: objects put with the AWS SDK are listed and read back byte for byte', async () => {
    const client = s3();
    const bucket = stack().s3.bucket;
    const prefix = `${unique('smoke')}/`;
    const body = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
    for (const name of ['a.bin', 'b.bin', 'c.bin']) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + name, Body: body }));
    }
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    expect(listed.Contents?.map((o) => o.Key).sort()).toEqual(
      ['a.bin', 'b.bin', 'c.bin'].map((n) => prefix + n),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}b.bin` }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body);
    await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: listed.Contents!.map((o) => ({ Key: o.Key! })) },
      }),
    );
    client.destroy();
  });
});
