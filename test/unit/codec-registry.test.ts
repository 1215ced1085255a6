import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { avroSchemaText } from '../../src/codec/schemas.js';
import { RegistryUnavailableError, UnknownSchemaError } from '../../src/errors/index.js';
import { Registry } from '../../src/registry/registry.js';
import { valueSubject } from '../../src/registry/subjects.js';

/** A stand-in registry on 127.0.0.1 that fails on demand, to test K2's side of the protocol. */
let server: Server;
let url: string;
const hits: string[] = [];
let failuresLeft = 0;
beforeAll(async () => {
  server = createServer((request, response) => {
    hits.push(`${request.method} ${request.url}`);
    if (failuresLeft > 0) {
      failuresLeft--;
      response.writeHead(503).end();
      return;
    }
    const match = /\/schemas\/ids\/(\d+)$/.exec(request.url ?? '');
    if (match?.[1] === '7') {
      setTimeout(
        () =>
          response
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ schema: avroSchemaText('trade_v2') })),
        20,
      );
      return;
    }
    response
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error_code: 40403, message: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const fast = { attempts: 3, initialDelayMs: 1, maxDelayMs: 5 };

describe('registry client', () => {
  it('fetches a writer schema once per id: concurrent callers share the request, later ones hit the cache', async () => {
    hits.length = 0;
    const registry = new Registry({ url, retry: fast });
    const texts = await Promise.all([registry.schemaText(7), registry.schemaText(7), registry.schemaText(7)]);
    expect(new Set(texts).size).toBe(1);
    await registry.schemaText(7);
    expect(hits).toEqual(['GET /apis/ccompat/v7/schemas/ids/7']);
  });

  it('retries a registry that answers 5xx, then succeeds', async () => {
    hits.length = 0;
    failuresLeft = 2;
    expect(JSON.parse(await new Registry({ url, retry: fast }).schemaText(7))).toMatchObject({
      name: 'trade_v2',
    });
    expect(hits).toHaveLength(3);
  });

  it('gives up with a retriable error when the registry stays down, and a poison error for an unknown id', async () => {
    failuresLeft = 10;
    const down = await new Registry({ url, retry: fast }).schemaText(7).catch((error: unknown) => error);
    expect(down).toBeInstanceOf(RegistryUnavailableError);
    expect(down).toMatchObject({ retriable: true });
    failuresLeft = 0;
    hits.length = 0;
    const unknown = await new Registry({ url, retry: fast }).schemaText(8).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(UnknownSchemaError);
    expect(hits).toHaveLength(1); // poison is never retried
  });

  it('resolves the ids of a batch into schemas or serialisable errors', async () => {
    const resolved = await new Registry({ url, retry: fast }).writerSchemas([7, 8]);
    expect(Object.keys(resolved)).toEqual(['7', '8']);
    expect(resolved[8]).toEqual({
      error: expect.objectContaining({ code: 'K2_DECODE_UNKNOWN_SCHEMA', retriable: false }),
    });
    expect(structuredClone(resolved)).toEqual(resolved);
  });

  it('names value subjects after the topic (TopicNameStrategy)', () => {
    expect(valueSubject('market.crypto.trades')).toBe('market.crypto.trades-value');
  });
});
