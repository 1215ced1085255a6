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

export function kafka(clientId = 'k2-test') {
  return createKafka({ clientId, brokers: stack().kafka.brokers });
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
