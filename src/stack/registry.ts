import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from '../errors/index.js';
import { type StackContext, stackCredentials } from './context.js';
import { requireJavaAndMaven } from './jvm.js';
import { fetchArtifact } from './maven.js';
import { run, spawnDetached, stopProcess } from './process.js';
import type { Service } from './service.js';

/** 3.0.9 is the newest Apicurio on Maven Central that runs on Java 17 (3.3.x needs Java 21). */
export const apicurioVersion = '3.0.9';
/** Apicurio serves the Confluent REST API under this path. */
export const registryBasePath = '/apis/ccompat/v7';

const distDir = (ctx: StackContext) => join(ctx.cacheDir, `apicurio-registry-${apicurioVersion}`);

/** The Quarkus launcher: `quarkus-run.jar` in fast-jar builds, `*-runner.jar` in legacy-jar ones. */
function runnerJar(ctx: StackContext): string | undefined {
  const unpacked = join(distDir(ctx), 'unpacked');
  if (!existsSync(unpacked)) return undefined;
  const found = run('find', [
    unpacked,
    '-maxdepth',
    '3',
    '(',
    '-name',
    'quarkus-run.jar',
    '-o',
    '-name',
    '*-runner.jar',
    ')',
  ]);
  return found.trim().split('\n')[0] || undefined;
}

export const registryService: Service = {
  name: 'registry',
  marker: 'apicurio-registry',
  readyTimeoutMs: 120_000,
  ports: (ctx) => [ctx.ports.registry],
  logFile: (ctx) => join(ctx.dir, 'logs', 'registry.log'),

  async prerequisites() {
    requireJavaAndMaven('registry');
  },

  async install(ctx) {
    if (runnerJar(ctx)) return;
    const archive = fetchArtifact(
      ctx,
      'registry',
      `apicurio-registry-${apicurioVersion}`,
      `io.apicurio:apicurio-registry-app:${apicurioVersion}:tar.gz:all`,
      'apicurio-registry-app.tar.gz',
    );
    const unpacked = join(distDir(ctx), 'unpacked');
    mkdirSync(unpacked, { recursive: true });
    run('tar', ['-xzf', archive, '-C', unpacked]);
    if (!runnerJar(ctx))
      throw new StackError(
        'registry',
        `no Quarkus runner jar in ${archive}: ${readdirSync(unpacked).join(', ')}`,
      );
  },

  async start(ctx) {
    mkdirSync(join(ctx.dir, 'registry'), { recursive: true });
    return spawnDetached(
      'java',
      [
        '-Xmx256m',
        '-XX:+UseSerialGC',
        `-Dquarkus.http.port=${ctx.ports.registry}`,
        '-Dquarkus.http.host=127.0.0.1',
        '-jar',
        runnerJar(ctx)!,
      ],
      {
        logFile: this.logFile(ctx),
        cwd: join(ctx.dir, 'registry'),
        env: {
          ...process.env,
          APICURIO_STORAGE_KIND: 'sql',
          APICURIO_STORAGE_SQL_KIND: 'postgresql',
          APICURIO_DATASOURCE_URL: `jdbc:postgresql://127.0.0.1:${ctx.ports.postgres}/registry`,
          APICURIO_DATASOURCE_USERNAME: stackCredentials.pgUser,
          APICURIO_DATASOURCE_PASSWORD: stackCredentials.pgPassword,
          // The same schema written with other whitespace keeps its id, as with Confluent's registry.
          APICURIO_CCOMPAT_USE_CANONICAL_HASH: 'true',
        },
      },
    ).pid;
  },

  async ready(ctx) {
    try {
      const response = await fetch(`http://127.0.0.1:${ctx.ports.registry}${registryBasePath}/subjects`, {
        signal: AbortSignal.timeout(2_000),
      });
      return response.ok;
    } catch {
      return false;
    }
  },

  /** Apicurio's global default is NONE; Confluent's is BACKWARD, which K2 relies on. */
  async afterReady(ctx) {
    const response = await fetch(`http://127.0.0.1:${ctx.ports.registry}${registryBasePath}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'BACKWARD' }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok)
      throw new StackError('registry', `setting global compatibility failed: HTTP ${response.status}`);
  },

  async stop(_ctx, pid) {
    await stopProcess(pid, 20_000);
  },
};
