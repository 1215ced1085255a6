import { S3Client } from '@aws-sdk/client-s3';

export interface S3Endpoint {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle?: boolean;
  maxAttempts?: number;
}

/**
 * An S3 client for S3-compatible servers. Recent SDKs add CRC32 checksums and aws-chunked bodies to
 * every request by default, which MinIO-era and S3Proxy servers reject; only send them when required.
 */
export function createS3Client(endpoint: S3Endpoint): S3Client {
  return new S3Client({
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    forcePathStyle: endpoint.forcePathStyle ?? true,
    credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: endpoint.maxAttempts ?? 3,
  });
}
