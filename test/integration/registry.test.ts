import { describe, expect, it } from 'vitest';
import { avroSchema, avroSchemaNames, avroSchemaText } from '../../src/codec/schemas.js';
import { RegistryUnavailableError, SchemaRejectedError, UnknownSchemaError } from '../../src/errors/index.js';
import { Registry } from '../../src/registry/registry.js';
import { valueSubject } from '../../src/registry/subjects.js';
import { registry as confluentClient, stack, unique } from '../support/stack.js';

const fast = { attempts: 2, initialDelayMs: 10, maxDelayMs: 20 };
const k2Registry = () => new Registry({ url: stack().registry.url, retry: fast });

function variant(edit: (schema: ReturnType<typeof avroSchema>) => void): string {
  const schema = avroSchema('trade_v2');
  edit(schema);
  return JSON.stringify(schema);
}

describe('schema registry (real, Confluent-compatible API)', () => {
  it('registers every K2 schema under <topic>-value with BACKWARD compatibility, idempotently', async () => {
    const registry = k2Registry();
    for (const name of avroSchemaNames) {
      const subject = valueSubject(unique(`market.test.${name}`));
      const id = await registry.register(subject, avroSchemaText(name));
      expect(id).toBeGreaterThan(0);
      expect(await registry.register(subject, avroSchemaText(name))).toBe(id);
      const config = await fetch(`${stack().registry.url}/config/${subject}`).then((r) => r.json());
      expect(config).toMatchObject({ compatibilityLevel: 'BACKWARD' });
      expect(JSON.parse(await k2Registry().schemaText(id))).toMatchObject({ name });
    }
  });

  it('refuses an incompatible change (409) and accepts a compatible one', async () => {
    const registry = k2Registry();
    const subject = valueSubject(unique('market.crypto.trades'));
    const v1 = await registry.register(subject, avroSchemaText('trade_v2'));
    const incompatible = variant((schema) => {
      schema.fields.push({ name: 'venue_code', type: 'string' }); // a new field with no default
    });
    const refused = await registry.register(subject, incompatible).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SchemaRejectedError);
    expect(refused).toMatchObject({ status: 409, retriable: false, subject });
    const compatible = variant((schema) => {
      schema.fields.push({ name: 'venue_code', type: ['null', 'string'], default: null });
    });
    const v2 = await registry.register(subject, compatible);
    expect(v2).not.toBe(v1);
    expect(await confluentClient().getLatestSchemaId(subject)).toBe(v2);
  });

  it('registers into a subject another client created with another compatibility level', async () => {
    const subject = valueSubject(unique('market.crypto.trades'));
    const created = await fetch(`${stack().registry.url}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: avroSchemaText('trade_v2') }),
    });
    expect(created.ok).toBe(true);
    await fetch(`${stack().registry.url}/config/${subject}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'NONE' }),
    });
    const id = await k2Registry().register(subject, avroSchemaText('trade_v2'));
    expect(id).toBe(((await created.json()) as { id: number }).id);
  });

  it('an unknown schema id is poison; an unreachable registry is retriable', async () => {
    const missing = await k2Registry()
      .schemaText(2_000_000_000)
      .catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(UnknownSchemaError);
    expect(missing).toMatchObject({ code: 'K2_DECODE_UNKNOWN_SCHEMA', retriable: false });
    const down = new Registry({ url: 'http://127.0.0.1:9/apis/ccompat/v7', retry: fast, timeoutMs: 500 });
    const unreachable = await down
      .register('x-value', avroSchemaText('trade_v2'))
      .catch((error: unknown) => error);
    expect(unreachable).toBeInstanceOf(RegistryUnavailableError);
    expect(await down.writerSchemas([1])).toEqual({
      1: { error: expect.objectContaining({ code: 'K2_REGISTRY_UNAVAILABLE', retriable: true }) },
    });
  });
});
