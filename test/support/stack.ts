import { randomUUID } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import pg from 'pg';
import { inject } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { createS3Client } from '../../src/s3/client.js';

/** The running local stack's endpoints, provided by the global setup. */
export function stack() {
  return inject('stack').config;
}

/** A name no other test uses: topics, tables and keys are per test. */
export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A client of the local broker, or of `brokers` (a private broker a test started). */
export function kafka(clientId = 'k2-test', brokers: string[] = stack().kafka.brokers) {
  return createKafka({ clientId, brokers });
}

export async function createTopic(topic: string, partitions: number, brokers?: string[]): Promise<void> {
  const admin = kafka('k2-test-admin', brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** partition → end offset (the next offset to be written). */
export async function endOffsets(topic: string, brokers?: string[]): Promise<Map<number, bigint>> {
  const admin = kafka('k2-test-admin', brokers).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

export function registry(): SchemaRegistry {
  return new SchemaRegistry({ host: stack().registry.url });
}

export function pgClient(database = stack().catalog.database): pg.Client {
  const { host, port, user, password } = stack().catalog;
  return new pg.Client({ host, port, user, password, database });
}

export function s3() {
  return createS3Client(stack().s3);
}

/** Reads a whole topic (values and headers); resolves once `count` records arrived, and any beyond right behind. */
export async function readTopic(topic: string, count: number) {
  const consumer = kafka().consumer({ groupId: unique('reader') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const records: { value: Buffer | null; headers: Record<string, string> }[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${topic}: ${records.length} of ${count}`)), 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
        );
        records.push({ value: message.value, headers });
        if (records.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  // Anything beyond `count` (a duplicate) arrives right behind: give it a moment.
  await new Promise((r) => setTimeout(r, 1_000));
  await consumer.disconnect();
  return records;
}
