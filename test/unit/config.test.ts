import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/index.js';

const required = {
  K2_KAFKA_BROKERS: '127.0.0.1:19092',
  K2_REGISTRY_URL: 'http://127.0.0.1:18081/apis/ccompat/v7',
  K2_S3_ENDPOINT: 'http://127.0.0.1:19000',
  K2_S3_ACCESS_KEY_ID: 'id',
  K2_S3_SECRET_ACCESS_KEY: 'very-secret',
};

function load(env: Record<string, string>, file?: string) {
  return loadConfig({ env, file, stackFile: false });
}

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function tempFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'k2-config-')), 'k2.json');
  writeFileSync(path, content);
  return path;
}

describe('configuration', () => {
  it('parses the environment into typed values with defaults', () => {
    const { config, sources } = load({ ...required, K2_KAFKA_BROKERS: 'a:1, b:2', K2_POOL_MAX_THREADS: '4' });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.pool.maxThreads).toBe(4);
    expect(config.supervisor.httpHost).toBe('127.0.0.1');
    expect(sources['pool.maxThreads']).toBe('env');
    expect(sources['pool.minThreads']).toBe('default');
    expect(Object.isFrozen(config.kafka)).toBe(true);
  });

  it('names the environment variable of a missing required key', () => {
    const { K2_KAFKA_BROKERS: _, ...rest } = required;
    expect(configErrorOf(() => load(rest)).key).toBe('K2_KAFKA_BROKERS');
  });

  it('names the key and the bad value', () => {
    const error = configErrorOf(() => load({ ...required, K2_HTTP_PORT: 'eighty' }));
    expect(error.key).toBe('K2_HTTP_PORT');
    expect(error.message).toContain('"eighty"');
    expect(configErrorOf(() => load({ ...required, K2_KAFKA_BROKERS: 'nohostport' })).key).toBe(
      'K2_KAFKA_BROKERS',
    );
    expect(configErrorOf(() => load({ ...required, K2_LOG_LEVEL: 'loud' })).message).toContain(
      'debug, info, warn, error',
    );
    expect(configErrorOf(() => load({ ...required, K2_REGISTRY_URL: 'ftp://x' })).key).toBe(
      'K2_REGISTRY_URL',
    );
  });

  it('enforces cross-field rules', () => {
    const heartbeat = configErrorOf(() =>
      load({ ...required, K2_KAFKA_HEARTBEAT_INTERVAL_MS: '40000', K2_KAFKA_SESSION_TIMEOUT_MS: '30000' }),
    );
    expect(heartbeat.key).toBe('K2_KAFKA_HEARTBEAT_INTERVAL_MS');
    expect(
      configErrorOf(() => load({ ...required, K2_POOL_MIN_THREADS: '3', K2_POOL_MAX_THREADS: '2' })).key,
    ).toBe('K2_POOL_MIN_THREADS');
  });

  it('reads a config file beneath the environment', () => {
    const file = tempFile(
      JSON.stringify({ kafka: { brokers: ['file:1'], groupId: 'from-file' }, pool: { maxThreads: 8 } }),
    );
    const { config, sources } = load({ ...required, K2_KAFKA_BROKERS: '', K2_POOL_MAX_THREADS: '3' }, file);
    expect(config.kafka.brokers).toEqual(['file:1']);
    expect(config.kafka.groupId).toBe('from-file');
    expect(config.pool.maxThreads).toBe(3);
    expect(sources['kafka.groupId']).toBe('file');
  });

  it('rejects unknown keys and bad JSON in the file, naming them', () => {
    expect(configErrorOf(() => load(required, tempFile('{"kafka": {"brokrs": ["a:1"]}}'))).key).toContain(
      'kafka.brokrs',
    );
    expect(configErrorOf(() => load(required, tempFile('{"kafak": {}}'))).key).toContain('kafak');
    expect(configErrorOf(() => load(required, tempFile('{nope'))).message).toContain('not valid JSON');
    expect(configErrorOf(() => load(required, '/nonexistent/k2.json')).message).toContain('cannot read');
  });

  it('reads the local stack file as the lowest layer above defaults', () => {
    const stack = tempFile(
      JSON.stringify({ config: { kafka: { brokers: ['127.0.0.1:19092'] }, s3: { bucket: 'stack-bucket' } } }),
    );
    const { config, sources } = loadConfig({ env: { ...required, K2_KAFKA_BROKERS: '' }, stackFile: stack });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(config.s3.bucket).toBe('stack-bucket');
    expect(sources['s3.bucket']).toBe('stack');
  });

  it('masks secrets when describing the effective config', () => {
    const described = describeConfig(load(required));
    expect(described['s3.secretAccessKey']?.value).toBe('***');
    expect(described['catalog.password']?.value).toBe('***');
    expect(JSON.stringify(described)).not.toContain('very-secret');
    expect(described['s3.accessKeyId']?.value).toBe('id');
  });
});
