import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPorts, type StackContext, stackContext } from '../../src/stack/context.js';
import { kafkaService } from '../../src/stack/kafka.js';
import { postgresService, wipePostgres } from '../../src/stack/postgres.js';
import { isAlive, tail, waitUntil } from '../../src/stack/process.js';
import type { Service } from '../../src/stack/service.js';
import { freePort } from './prometheus.js';

export interface PrivateService {
  readonly port: number;
  /** The running process, if any. */
  readonly pid: number | undefined;
  /** Stops it by its pid the way `k2 stack down` does (PostgreSQL: pg_ctl fast; Kafka: SIGTERM). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory and waits until it answers. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

/**
 * A second instance of one stack service, started by the same code as `k2 stack up` but on free
 * ports and in its own folder, so a test can restart it without touching the shared stack.
 */
async function privateService(service: Service): Promise<PrivateService> {
  const dir = mkdtempSync(join(tmpdir(), `k2-private-${service.name}-`));
  // PostgreSQL runs as the postgres user, which must reach the folder.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'logs'));
  const shared = stackContext(process.env, () => undefined);
  const ctx: StackContext = {
    dir,
    cacheDir: shared.cacheDir,
    ports: {
      ...defaultPorts,
      kafka: await freePort(),
      kafkaController: await freePort(),
      postgres: await freePort(),
    },
    log: () => undefined,
  };
  let pid: number | undefined;
  const start = async () => {
    pid = await service.start(ctx);
    const started = pid;
    const outcome = await waitUntil(() => service.ready(ctx), {
      timeoutMs: service.readyTimeoutMs,
      alive: () => isAlive(started),
    });
    if (outcome !== 'ready')
      throw new Error(`private ${service.name} ${outcome}:\n${tail(service.logFile(ctx))}`);
    await service.afterReady?.(ctx);
  };
  const stop = async () => {
    if (pid !== undefined) await service.stop(ctx, pid);
    pid = undefined;
  };
  await service.prerequisites(ctx);
  await service.install(ctx);
  try {
    await start();
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return {
    port: service.ports(ctx)[0]!,
    get pid() {
      return pid;
    },
    stop,
    start,
    dispose: async () => {
      await stop();
      if (service === postgresService) wipePostgres(ctx);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A private PostgreSQL with the `k2` database, for catalog restarts. */
export const privatePostgres = () => privateService(postgresService);

/** A private single-node KRaft broker, for broker restarts. */
export const privateKafka = () => privateService(kafkaService);
