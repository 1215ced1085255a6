import type { WriterSchemas } from '../codec/decode.js';
import { RegistryUnavailableError } from '../errors/index.js';
import type { Catalog } from '../iceberg/catalog.js';
import type { FileIO } from '../iceberg/io.js';
import type { Warehouse } from '../iceberg/table.js';
import type { WriterSchemaSource } from '../workers/pool.js';
import {
  type BreakerChange,
  type BreakerPolicy,
  CircuitBreaker,
  type Dependency,
  dependencies,
} from './circuit-breaker.js';

export type Breakers = Record<Dependency, CircuitBreaker>;

/** One breaker per dependency, all reporting their changes to `onChange`. */
export function createBreakers(
  onChange: (change: BreakerChange) => void,
  policy: Partial<BreakerPolicy> = {},
): Breakers {
  return Object.fromEntries(
    dependencies.map((dependency) => [
      dependency,
      // Any failure to hand poison to Kafka counts: kafkajs marks few of its errors retriable.
      new CircuitBreaker(dependency, {
        policy,
        onChange,
        ...(dependency === 'dlq' ? { isFailure: () => true } : {}),
      }),
    ]),
  ) as Breakers;
}

/**
 * `target` with the named async methods run under `breaker`: an open circuit refuses the call at
 * once (CircuitOpenError, retriable) instead of waiting for another timeout. Other members pass
 * through untouched, bound to the target (class private fields keep working).
 */
export function guarded<T extends object>(
  target: T,
  breaker: CircuitBreaker,
  methods: readonly (keyof T)[],
): T {
  const names = new Set<PropertyKey>(methods);
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value !== 'function') return value;
      if (!names.has(property)) return value.bind(object);
      return (...args: unknown[]) => breaker.run(() => value.apply(object, args) as Promise<unknown>);
    },
  });
}

const ioCalls = ['read', 'write', 'size', 'delete'] as const satisfies readonly (keyof FileIO)[];
const catalogCalls = [
  'createNamespace',
  'namespaceExists',
  'loadNamespaceProperties',
  'listNamespaces',
  'dropNamespace',
  'listTables',
  'loadTable',
  'registerTable',
  'swapMetadataLocation',
  'dropTable',
] as const satisfies readonly (keyof Catalog)[];

/** The warehouse with S3 calls under the s3 breaker and catalog calls under the catalog breaker. */
export function guardedWarehouse<W extends Warehouse>(warehouse: W, breakers: Breakers): W {
  return {
    ...warehouse,
    io: guarded(warehouse.io, breakers.s3, ioCalls),
    catalog: guarded(warehouse.catalog, breakers.catalog, catalogCalls),
  };
}

/**
 * Writer schemas through the registry breaker. Ids already cached never touch the registry, so
 * decoding keeps going on cached schemas while the circuit is open; a lookup the registry could
 * not answer counts against it (an unknown id is an answer, not an outage).
 */
export function guardedSchemas(
  source: WriterSchemaSource & { cached(id: number): boolean },
  breaker: CircuitBreaker,
): WriterSchemaSource {
  return {
    writerSchemas(ids: readonly number[]): Promise<WriterSchemas> {
      if (ids.every((id) => source.cached(id))) return source.writerSchemas(ids);
      return breaker.run(async () => {
        const schemas = await source.writerSchemas(ids);
        for (const entry of Object.values(schemas)) {
          if ('error' in entry && entry.error.retriable)
            throw new RegistryUnavailableError('registry', entry.error.message);
        }
        return schemas;
      });
    },
  };
}
