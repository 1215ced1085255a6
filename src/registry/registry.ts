import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { WriterSchemas } from '../codec/decode.js';
import {
  K2Error,
  RegistryUnavailableError,
  SchemaRejectedError,
  UnknownSchemaError,
} from '../errors/index.js';
import { type RetryPolicy, retry } from '../util/retry.js';

export interface RegistryOptions {
  /** Base URL of the Confluent-compatible API, e.g. http://127.0.0.1:18081/apis/ccompat/v7. */
  url: string;
  /** Per request. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
}

const contentType = 'application/vnd.schemaregistry.v1+json';

/**
 * K2's view of the schema registry: writer schemas by id (cached forever: an id never changes
 * meaning) and registration under BACKWARD compatibility. Network trouble is retriable
 * (RegistryUnavailableError); an unknown id is poison (UnknownSchemaError).
 */
export class Registry {
  readonly url: string;
  readonly #timeoutMs: number;
  readonly #retry: Partial<RetryPolicy>;
  readonly #signal: AbortSignal | undefined;
  readonly #client: SchemaRegistry;
  readonly #schemas = new Map<number, string>();
  readonly #pending = new Map<number, Promise<string>>();

  constructor(options: RegistryOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#retry = options.retry ?? {};
    this.#signal = options.signal;
    this.#client = new SchemaRegistry({ host: this.url, retry: { retries: 0 } });
  }

  /** True when the schema is known without asking the registry. */
  cached(id: number): boolean {
    return this.#schemas.has(id);
  }

  /** The writer schema's JSON text. */
  async schemaText(id: number): Promise<string> {
    const cached = this.#schemas.get(id);
    if (cached !== undefined) return cached;
    let pending = this.#pending.get(id);
    if (!pending) {
      pending = this.#withRetry(() => this.#fetchSchema(id)).finally(() => this.#pending.delete(id));
      this.#pending.set(id, pending);
    }
    const text = await pending;
    this.#schemas.set(id, text);
    return text;
  }

  /** Resolves every id of a batch; a failure is recorded per id, never thrown, so the rest decodes. */
  async writerSchemas(ids: readonly number[]): Promise<WriterSchemas> {
    const out: WriterSchemas = {};
    await Promise.all(
      ids.map(async (id) => {
        try {
          out[id] = { schema: await this.schemaText(id) };
        } catch (error) {
          if (!(error instanceof K2Error)) throw error;
          out[id] = { error: error.toJSON() };
        }
      }),
    );
    return out;
  }

  /** Registers a schema under a subject with BACKWARD compatibility and returns its id. */
  async register(subject: string, schema: string): Promise<number> {
    return this.#withRetry(async () => {
      // A subject created by another client may carry another compatibility level, which makes
      // the client library refuse to register: set it explicitly first.
      await this.#request('PUT', `/config/${encodeURIComponent(subject)}`, {
        compatibility: COMPATIBILITY.BACKWARD,
      });
      try {
        const registering = this.#client.register(
          { type: SchemaType.AVRO, schema },
          { subject, compatibility: COMPATIBILITY.BACKWARD },
        );
        const { id } = await withTimeout(registering, this.#timeoutMs, () => {
          return new RegistryUnavailableError(
            this.url,
            `register ${subject}: no answer in ${this.#timeoutMs} ms`,
          );
        });
        return id;
      } catch (error) {
        throw classifyClientError(this.url, subject, error);
      }
    });
  }

  async #fetchSchema(id: number): Promise<string> {
    const response = await this.#request('GET', `/schemas/ids/${id}`);
    if (response.status === 404) throw new UnknownSchemaError(id);
    const body = (await response.json()) as { schema?: unknown; schemaType?: unknown };
    if (typeof body.schema !== 'string') throw new UnknownSchemaError(id);
    if (body.schemaType !== undefined && body.schemaType !== 'AVRO')
      throw new UnknownSchemaError(id, {
        cause: new Error(`schema ${id} is ${String(body.schemaType)}, not AVRO`),
      });
    return body.schema;
  }

  async #request(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<Response> {
    const signal = this.#signal
      ? AbortSignal.any([this.#signal, AbortSignal.timeout(this.#timeoutMs)])
      : AbortSignal.timeout(this.#timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: { accept: contentType, ...(body === undefined ? {} : { 'content-type': contentType }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      this.#signal?.throwIfAborted();
      throw new RegistryUnavailableError(this.url, `${method} ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (response.status >= 500 || response.status === 429)
      throw new RegistryUnavailableError(this.url, `${method} ${path}: HTTP ${response.status}`);
    if (!response.ok && response.status !== 404)
      throw new K2Error(
        'K2_REGISTRY_REQUEST',
        `${method} ${path}: HTTP ${response.status} ${await response.text()}`,
      );
    return response;
  }

  #withRetry<T>(task: () => Promise<T>): Promise<T> {
    return retry(task, { policy: this.#retry, signal: this.#signal });
  }
}

function classifyClientError(url: string, subject: string, error: unknown): unknown {
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number') {
    if (status >= 500)
      return new RegistryUnavailableError(url, `register ${subject}: HTTP ${status}`, { cause: error });
    return new SchemaRejectedError(subject, status, (error as Error).message, { cause: error });
  }
  if (error instanceof K2Error || !(error instanceof Error) || error instanceof TypeError) return error;
  return new RegistryUnavailableError(url, `register ${subject}: ${error.message}`, { cause: error });
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
