import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { BucketNotFoundError, FileNotFoundError, StorageError } from '../errors/index.js';
import { createS3Client, type S3Endpoint } from '../s3/client.js';
import { type RetryPolicy, retry } from '../util/retry.js';

/** Where a warehouse object lives: `s3://bucket/key`. */
export interface ObjectLocation {
  bucket: string;
  key: string;
}

export function parseUri(uri: string): ObjectLocation {
  const match = /^s3a?:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new StorageError(uri, 'not an s3:// URI');
  return { bucket: match[1]!, key: match[2]! };
}

export interface ListedObject {
  uri: string;
  size: number;
  lastModifiedMs: number;
}

/** The few object operations Iceberg needs. Errors are typed: FileNotFoundError, BucketNotFoundError, StorageError. */
export interface FileIO {
  read(uri: string): Promise<Uint8Array>;
  /** Fails with StorageError code K2_ICEBERG_FILE_EXISTS if `ifAbsent` and the object exists. */
  write(uri: string, bytes: Uint8Array, options?: { ifAbsent?: boolean }): Promise<void>;
  /** Exact size in bytes, or undefined when the object does not exist. */
  size(uri: string): Promise<number | undefined>;
  /** Deletes what exists; missing objects are not an error. */
  delete(uris: readonly string[]): Promise<void>;
  list(prefixUri: string): AsyncIterable<ListedObject>;
}

export interface S3FileIOOptions {
  /** Retries of one operation (5xx, throttling, timeouts, connection faults). */
  retry?: Partial<RetryPolicy>;
  /** Deadline of one request. */
  requestTimeoutMs?: number;
  /** Objects at least this large are uploaded in parts. */
  multipartThresholdBytes?: number;
  partSizeBytes?: number;
}

const defaults = {
  retry: { attempts: 6, initialDelayMs: 100, maxDelayMs: 3_000 } satisfies Partial<RetryPolicy>,
  requestTimeoutMs: 30_000,
  multipartThresholdBytes: 32 * 1024 * 1024,
  partSizeBytes: 16 * 1024 * 1024,
};

/** S3 through @aws-sdk/client-s3. The SDK's own retries are off: one retry policy, ours, applies. */
export class S3FileIO implements FileIO {
  private readonly client: S3Client;
  private readonly options: Required<S3FileIOOptions>;

  constructor(endpoint: S3Endpoint, options: S3FileIOOptions = {}) {
    this.client = createS3Client({ ...endpoint, maxAttempts: 1 });
    this.options = {
      retry: { ...defaults.retry, ...options.retry },
      requestTimeoutMs: options.requestTimeoutMs ?? defaults.requestTimeoutMs,
      multipartThresholdBytes: options.multipartThresholdBytes ?? defaults.multipartThresholdBytes,
      partSizeBytes: Math.max(5 * 1024 * 1024, options.partSizeBytes ?? defaults.partSizeBytes),
    };
  }

  read(uri: string): Promise<Uint8Array> {
    const { bucket, key } = parseUri(uri);
    return this.call(uri, async (signal) => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
        abortSignal: signal,
      });
      if (!out.Body) throw new StorageError(uri, 'empty response body', { retriable: true });
      return out.Body.transformToByteArray();
    });
  }

  async write(uri: string, bytes: Uint8Array, options: { ifAbsent?: boolean } = {}): Promise<void> {
    if (bytes.byteLength >= this.options.multipartThresholdBytes && !options.ifAbsent) {
      return this.writeMultipart(uri, bytes);
    }
    const { bucket, key } = parseUri(uri);
    await this.call(uri, (signal) =>
      this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentLength: bytes.byteLength,
          ...(options.ifAbsent ? { IfNoneMatch: '*' } : {}),
        }),
        { abortSignal: signal },
      ),
    );
  }

  async size(uri: string): Promise<number | undefined> {
    const { bucket, key } = parseUri(uri);
    try {
      const head = await this.call(uri, (signal) =>
        this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
      );
      return head.ContentLength;
    } catch (error) {
      if (error instanceof FileNotFoundError) return undefined;
      throw error;
    }
  }

  async delete(uris: readonly string[]): Promise<void> {
    const byBucket = new Map<string, string[]>();
    for (const uri of uris) {
      const { bucket, key } = parseUri(uri);
      byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), key]);
    }
    for (const [bucket, keys] of byBucket) {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        const out = await this.call(`s3://${bucket}/`, (signal) =>
          this.client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
            { abortSignal: signal },
          ),
        );
        const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
        if (failed.length > 0) {
          throw new StorageError(`s3://${bucket}/${failed[0]!.Key}`, `delete failed: ${failed[0]!.Code}`, {
            retriable: true,
          });
        }
      }
    }
  }

  async *list(prefixUri: string): AsyncIterable<ListedObject> {
    const { bucket, key: prefix } = parseUri(prefixUri.endsWith('/') ? prefixUri : `${prefixUri}/`);
    let token: string | undefined;
    do {
      const page = await this.call(prefixUri, (signal) =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
          { abortSignal: signal },
        ),
      );
      for (const object of page.Contents ?? []) {
        yield {
          uri: `s3://${bucket}/${object.Key}`,
          size: object.Size ?? 0,
          lastModifiedMs: object.LastModified?.getTime() ?? 0,
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  destroy(): void {
    this.client.destroy();
  }

  private async writeMultipart(uri: string, bytes: Uint8Array): Promise<void> {
    const { bucket, key } = parseUri(uri);
    const created = await this.call(uri, (signal) =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }), {
        abortSignal: signal,
      }),
    );
    const uploadId = created.UploadId!;
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      for (
        let offset = 0, part = 1;
        offset < bytes.byteLength;
        offset += this.options.partSizeBytes, part++
      ) {
        const body = bytes.subarray(offset, offset + this.options.partSizeBytes);
        const out = await this.call(uri, (signal) =>
          this.client.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: part,
              Body: body,
              ContentLength: body.byteLength,
            }),
            { abortSignal: signal },
          ),
        );
        parts.push({ ETag: out.ETag!, PartNumber: part });
      }
      await this.call(uri, (signal) =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
          { abortSignal: signal },
        ),
      );
    } catch (error) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(() => undefined);
      throw error;
    }
  }

  /** One request with a deadline, errors mapped to typed ones, retried when retriable. */
  private call<T>(uri: string, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return retry(
      async () => {
        try {
          return await request(AbortSignal.timeout(this.options.requestTimeoutMs));
        } catch (error) {
          throw toStorageError(uri, error);
        }
      },
      { policy: this.options.retry },
    );
  }
}

const throttlingCodes = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'ServiceUnavailable',
  'InternalError',
  'TooManyRequestsException',
]);

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/** Maps an SDK or network error to K2's typed storage errors; never reads the message text. */
export function toStorageError(uri: string, error: unknown): unknown {
  if (error instanceof StorageError) return error;
  if (error instanceof TypeError || error instanceof RangeError) return error;
  const e = error as {
    name?: string;
    Code?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  const name = e?.Code ?? e?.name ?? '';
  const status = e?.$metadata?.httpStatusCode;
  if (name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket')) {
    return new FileNotFoundError(uri, { cause: error });
  }
  if (name === 'NoSuchBucket') return new BucketNotFoundError(uri, { cause: error });
  if (name === 'PreconditionFailed' || status === 412) {
    return new StorageError(uri, 'already exists', { code: 'K2_ICEBERG_FILE_EXISTS', cause: error });
  }
  const timedOut = name === 'TimeoutError' || name === 'AbortError';
  const network = networkCodes.has(e?.code ?? '') || networkCodes.has(name);
  const transient =
    timedOut ||
    network ||
    throttlingCodes.has(name) ||
    status === 429 ||
    (status !== undefined && status >= 500) ||
    e?.$retryable !== undefined;
  const what = status ? `${name || 'error'} (HTTP ${status})` : name || 'request failed';
  return new StorageError(uri, what, { retriable: transient, cause: error });
}
