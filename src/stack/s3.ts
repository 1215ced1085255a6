import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client } from '../s3/client.js';
import { type StackContext, stackCredentials } from './context.js';
import { requireJavaAndMaven } from './jvm.js';
import { fetchArtifact } from './maven.js';
import { spawnDetached, stopProcess } from './process.js';
import type { Service } from './service.js';

/** S3Proxy 4.x: a small S3 server on the local filesystem, from Maven Central. */
export const s3ProxyVersion = '4.1.0';

const home = (ctx: StackContext) => join(ctx.dir, 's3');
const jar = (ctx: StackContext) => join(ctx.cacheDir, `s3proxy-${s3ProxyVersion}`, 's3proxy.jar');

function localS3Client(ctx: StackContext): S3Client {
  return createS3Client({
    endpoint: `http://127.0.0.1:${ctx.ports.s3}`,
    region: stackCredentials.s3Region,
    accessKeyId: stackCredentials.s3AccessKeyId,
    secretAccessKey: stackCredentials.s3SecretAccessKey,
    maxAttempts: 1,
  });
}

export const s3Service: Service = {
  name: 's3',
  marker: 's3proxy',
  readyTimeoutMs: 60_000,
  ports: (ctx) => [ctx.ports.s3],
  logFile: (ctx) => join(ctx.dir, 'logs', 's3.log'),

  async prerequisites() {
    requireJavaAndMaven('s3');
  },

  async install(ctx) {
    fetchArtifact(
      ctx,
      's3',
      `s3proxy-${s3ProxyVersion}`,
      `org.gaul:s3proxy:${s3ProxyVersion}:jar:jar-with-dependencies`,
      's3proxy.jar',
    );
    mkdirSync(join(home(ctx), 'data'), { recursive: true });
    writeFileSync(
      join(home(ctx), 's3proxy.conf'),
      [
        `s3proxy.endpoint=http://127.0.0.1:${ctx.ports.s3}`,
        's3proxy.authorization=aws-v2-or-v4',
        `s3proxy.identity=${stackCredentials.s3AccessKeyId}`,
        `s3proxy.credential=${stackCredentials.s3SecretAccessKey}`,
        'jclouds.provider=filesystem-nio2',
        `jclouds.filesystem.basedir=${join(home(ctx), 'data')}`,
        '',
      ].join('\n'),
    );
  },

  async start(ctx) {
    return spawnDetached(
      'java',
      ['-Xmx384m', '-jar', jar(ctx), '--properties', join(home(ctx), 's3proxy.conf')],
      { logFile: this.logFile(ctx), env: { ...process.env, LOG_LEVEL: 'warn' } },
    ).pid;
  },

  async ready(ctx) {
    const client = localS3Client(ctx);
    try {
      await client.send(new ListBucketsCommand({}));
      return true;
    } catch {
      return false;
    } finally {
      client.destroy();
    }
  },

  async afterReady(ctx) {
    const client = localS3Client(ctx);
    try {
      await client.send(new HeadBucketCommand({ Bucket: stackCredentials.s3Bucket })).catch(async () => {
        await client.send(new CreateBucketCommand({ Bucket: stackCredentials.s3Bucket }));
      });
    } finally {
      client.destroy();
    }
  },

  async stop(_ctx, pid) {
    await stopProcess(pid, 15_000);
  },
};
