import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import pg from 'pg';
import { loadConfig } from '../config/index.js';
import { createKafka, Partitioners } from '../kafka/client.js';
import { createS3Client } from '../s3/client.js';
import { stackContext } from '../stack/context.js';
import { stackFilePath, stackUp } from '../stack/stack.js';

const smokeSchema = {
  type: 'record',
  name: 'DemoTrade',
  namespace: 'com.k2.demo',
  fields: [
    { name: 'symbol', type: 'string' },
    { name: 'price', type: 'string' },
  ],
};

/**
 * Brings the local stack up and sends a few records through every real service. The full demo
 * (sample data through the supervisor into Iceberg, then a query) builds on this path.
 */
export async function runDemo(): Promise<void> {
  const started = Date.now();
  const ctx = stackContext();
  await stackUp(ctx);
  const { config } = loadConfig({ stackFile: stackFilePath(ctx) });

  const topic = 'k2.demo.smoke';
  const kafka = createKafka({ clientId: 'k2-demo', brokers: config.kafka.brokers });
  const admin = kafka.admin();
  await admin.connect();
  if (!(await admin.listTopics()).includes(topic)) {
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  }
  const registry = new SchemaRegistry({ host: config.registry.url });
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(smokeSchema) },
    { subject: `${topic}-value` },
  );
  const trades = [
    { symbol: 'BTCUSDT', price: '97000.12345678' },
    { symbol: 'ETHUSDT', price: '3500.00000001' },
    { symbol: 'AAPL', price: '231.45000000' },
  ];
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const runId = randomUUID();
  await producer.send({
    topic,
    messages: await Promise.all(
      trades.map(async (t) => ({
        key: t.symbol,
        value: await registry.encode(id, t),
        headers: { run: runId },
      })),
    ),
  });
  await producer.disconnect();

  const high = (await admin.fetchTopicOffsets(topic))[0]?.high ?? '0';
  const consumer = kafka.consumer({ groupId: `k2-demo-${runId}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const landed: { symbol: string; price: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('demo: records did not come back within 30 s')), 30_000);
    void consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (message.headers?.run?.toString() === runId) landed.push(await registry.decode(message.value!));
        if (BigInt(message.offset) + 1n >= BigInt(high)) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  await admin.disconnect();

  const db = new pg.Client({ ...config.catalog });
  await db.connect();
  const version = (await db.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  await db.end();

  const s3 = createS3Client(config.s3);
  const key = `demo/${runId}.json`;
  await s3.send(new PutObjectCommand({ Bucket: config.s3.bucket, Key: key, Body: JSON.stringify(landed) }));
  const back = JSON.parse(
    await (
      await s3.send(new GetObjectCommand({ Bucket: config.s3.bucket, Key: key }))
    ).Body!.transformToString(),
  ) as unknown[];
  s3.destroy();

  console.log(
    `\nK2 demo: every service of the local stack answered (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  console.log(
    `  kafka     ${config.kafka.brokers.join(',')}  topic ${topic}: ${landed.length} records produced and consumed back`,
  );
  console.log(`  registry  ${config.registry.url}  schema id ${id} for subject ${topic}-value`);
  console.log(
    `  postgres  ${config.catalog.host}:${config.catalog.port}/${config.catalog.database}  server ${version}`,
  );
  console.log(`  s3        ${config.s3.endpoint}  s3://${config.s3.bucket}/${key} (${back.length} records)`);
  console.table(landed);
  console.log('The stack keeps running; stop it with: npm run stack:down');
}
