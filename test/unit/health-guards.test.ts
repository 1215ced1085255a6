import { describe, expect, it } from 'vitest';
import { K2Error } from '../../src/errors/index.js';
import { CircuitBreaker, CircuitOpenError } from '../../src/health/circuit-breaker.js';
import { createBreakers, guarded, guardedSchemas } from '../../src/health/guards.js';

const outage = () => new K2Error('K2_TEST_DOWN', 'down', { retriable: true });

class Store {
  readonly #calls: string[] = [];
  fail = true;
  async read(key: string): Promise<string> {
    this.#calls.push(key);
    if (this.fail) throw outage();
    return `value of ${key}`;
  }
  name(): string {
    return `store with ${this.#calls.length} calls`;
  }
}

describe('dependency guards', () => {
  it('refuse calls at once while the circuit is open, then let a probe through after the cool-down', async () => {
    let now = 0;
    const breaker = new CircuitBreaker('s3', {
      policy: { failureThreshold: 2, coolDownMs: 1_000 },
      now: () => now,
    });
    const store = new Store();
    const io = guarded(store, breaker, ['read']);
    await expect(io.read('a')).rejects.toThrow('down');
    await expect(io.read('b')).rejects.toThrow('down');
    expect(breaker.state).toBe('open');
    await expect(io.read('c')).rejects.toBeInstanceOf(CircuitOpenError);
    // Unguarded members still work, bound to the target (private fields).
    expect(io.name()).toBe('store with 2 calls');
    now = 1_000;
    store.fail = false;
    await expect(io.read('d')).resolves.toBe('value of d');
    expect(breaker.state).toBe('closed');
  });

  it('keep decoding on cached schemas while the registry circuit is open', async () => {
    const changes: string[] = [];
    const breakers = createBreakers((c) => changes.push(`${c.dependency}:${c.to}`), { failureThreshold: 1 });
    const cached = new Set([1]);
    let asked = 0;
    const schemas = guardedSchemas(
      {
        cached: (id) => cached.has(id),
        writerSchemas: async (ids) => {
          asked++;
          return Object.fromEntries(
            ids.map((id) => [
              id,
              cached.has(id)
                ? { schema: '"string"' }
                : {
                    error: {
                      name: 'RegistryUnavailableError',
                      code: 'K2_REGISTRY_UNAVAILABLE',
                      message: 'down',
                      retriable: true,
                    },
                  },
            ]),
          );
        },
      },
      breakers.registry,
    );
    await expect(schemas.writerSchemas([2])).rejects.toThrow('down');
    expect(changes).toEqual(['registry:open']);
    await expect(schemas.writerSchemas([2])).rejects.toBeInstanceOf(CircuitOpenError);
    expect(await schemas.writerSchemas([1])).toEqual({ 1: { schema: '"string"' } });
    expect(asked).toBe(2);
  });

  it('count every failed DLQ send against the DLQ producer, retriable or not', async () => {
    const breakers = createBreakers(() => undefined, { failureThreshold: 1 });
    await expect(breakers.dlq.run(() => Promise.reject(new Error('broker gone')))).rejects.toThrow();
    expect(breakers.dlq.state).toBe('open');
    await expect(breakers.s3.run(() => Promise.reject(new Error('a bug')))).rejects.toThrow();
    expect(breakers.s3.state).toBe('closed');
  });
});
