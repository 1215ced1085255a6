import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { K2Error, StackError } from '../errors/index.js';
import { sleep } from '../util/retry.js';
import { type StackContext, type StackFile, stackCredentials } from './context.js';
import { kafkaService } from './kafka.js';
import { postgresService, wipePostgres } from './postgres.js';
import { commandLine, isAlive, isPortFree, portOwner, tail, waitUntil } from './process.js';
import { registryBasePath, registryService } from './registry.js';
import { s3Service } from './s3.js';
import type { Service } from './service.js';

/** Start order: the registry keeps its schemas in PostgreSQL. */
export const services: readonly Service[] = [postgresService, s3Service, kafkaService, registryService];

export type ServiceState = {
  name: string;
  pid?: number;
  running: boolean;
  ready: boolean;
  ports: number[];
  log: string;
};

const pidFile = (ctx: StackContext, service: Service) => join(ctx.dir, 'run', `${service.name}.pid`);
export const stackFilePath = (ctx: StackContext) => join(ctx.dir, 'stack.json');

/** The pid we recorded, if that process is still the service we started. */
function runningPid(ctx: StackContext, service: Service): number | undefined {
  const file = pidFile(ctx, service);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && commandLine(pid)?.includes(service.marker))
    return pid;
  rmSync(file, { force: true });
  return undefined;
}

/** Brings every service up; what is already running is left alone. Nothing is left half-started on failure. */
export async function stackUp(ctx: StackContext, list: readonly Service[] = services): Promise<StackFile> {
  for (const sub of ['run', 'logs']) mkdirSync(join(ctx.dir, sub), { recursive: true });
  return withLock(ctx, async () => {
    const started: { service: Service; pid: number }[] = [];
    const pids: Record<string, number> = {};
    try {
      for (const service of list) {
        let pid = runningPid(ctx, service);
        if (pid !== undefined) {
          await awaitReady(ctx, service, pid);
          ctx.log(`${service.name}: already running (pid ${pid})`);
        } else {
          await checkPortsFree(ctx, service);
          await step(service, () => service.prerequisites(ctx));
          await step(service, () => service.install(ctx));
          const t0 = Date.now();
          pid = await step(service, () => service.start(ctx));
          writeFileSync(pidFile(ctx, service), `${pid}\n`);
          started.push({ service, pid });
          await awaitReady(ctx, service, pid);
          ctx.log(
            `${service.name}: started (pid ${pid}, ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
          );
        }
        await step(service, async () => service.afterReady?.(ctx));
        pids[service.name] = pid;
      }
    } catch (error) {
      for (const { service, pid } of started.reverse()) {
        ctx.log(`${service.name}: stopping (pid ${pid}) because the stack did not come up`);
        await service.stop(ctx, pid).catch(() => undefined);
        rmSync(pidFile(ctx, service), { force: true });
      }
      throw error;
    }
    const file = describeStack(ctx, pids, list);
    writeFileSync(stackFilePath(ctx), `${JSON.stringify(file, null, 2)}\n`);
    return file;
  });
}

/** Errors of a step name the service they came from. */
async function step<T>(service: Service, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof K2Error) throw error;
    throw new StackError(service.name, (error as Error).message, { cause: error });
  }
}

async function checkPortsFree(ctx: StackContext, service: Service): Promise<void> {
  for (const port of service.ports(ctx)) {
    if (await isPortFree(port)) continue;
    const owner = portOwner(port);
    throw new StackError(
      service.name,
      `port 127.0.0.1:${port} is already taken${owner ? ` by ${owner}` : ''}; stop that process or choose another port (K2_STACK_*_PORT)`,
    );
  }
}

async function awaitReady(ctx: StackContext, service: Service, pid: number): Promise<void> {
  const outcome = await waitUntil(() => service.ready(ctx), {
    timeoutMs: service.readyTimeoutMs,
    alive: () => isAlive(pid),
  });
  if (outcome === 'ready') return;
  const why =
    outcome === 'died'
      ? 'exited during start-up'
      : `did not answer within ${service.readyTimeoutMs / 1000} s`;
  throw new StackError(
    service.name,
    `${why}; last lines of ${service.logFile(ctx)}:\n${tail(service.logFile(ctx))}`,
  );
}

/** Stops the services this stack started (by their recorded pids); `wipe` also removes their data. */
export async function stackDown(
  ctx: StackContext,
  options: { wipe?: boolean } = {},
  list: readonly Service[] = services,
): Promise<string[]> {
  if (!existsSync(ctx.dir)) {
    ctx.log(`nothing to stop: no stack at ${ctx.dir}`);
    return [];
  }
  return withLock(ctx, async () => {
    const stopped: string[] = [];
    for (const service of [...list].reverse()) {
      const pid = runningPid(ctx, service);
      if (pid === undefined) continue;
      await service.stop(ctx, pid);
      rmSync(pidFile(ctx, service), { force: true });
      stopped.push(service.name);
      ctx.log(`${service.name}: stopped (pid ${pid})`);
    }
    if (stopped.length === 0) ctx.log('nothing to stop: no stack service is running');
    rmSync(stackFilePath(ctx), { force: true });
    if (options.wipe) {
      wipePostgres(ctx);
      for (const sub of ['kafka', 'registry', 's3', 'logs', 'run'])
        rmSync(join(ctx.dir, sub), { recursive: true, force: true });
      ctx.log(`wiped data under ${ctx.dir} (downloads stay cached in ${ctx.cacheDir})`);
    }
    return stopped;
  });
}

export async function stackStatus(ctx: StackContext): Promise<ServiceState[]> {
  const states: ServiceState[] = [];
  for (const service of services) {
    const pid = runningPid(ctx, service);
    const ready = pid !== undefined && (await service.ready(ctx).catch(() => false));
    states.push({
      name: service.name,
      pid,
      running: pid !== undefined,
      ready,
      ports: service.ports(ctx),
      log: service.logFile(ctx),
    });
  }
  return states;
}

export function describeStack(
  ctx: StackContext,
  pids: Record<string, number>,
  list: readonly Service[] = services,
): StackFile {
  const { ports } = ctx;
  return {
    startedAt: new Date().toISOString(),
    services: Object.fromEntries(
      list.map((s) => [s.name, { pid: pids[s.name] ?? 0, ports: s.ports(ctx), log: s.logFile(ctx) }]),
    ),
    config: {
      kafka: { brokers: [`127.0.0.1:${ports.kafka}`] },
      registry: { url: registryUrl(ctx) },
      catalog: {
        host: '127.0.0.1',
        port: ports.postgres,
        database: stackCredentials.pgDatabase,
        user: stackCredentials.pgUser,
        password: stackCredentials.pgPassword,
      },
      s3: {
        endpoint: `http://127.0.0.1:${ports.s3}`,
        region: stackCredentials.s3Region,
        bucket: stackCredentials.s3Bucket,
        accessKeyId: stackCredentials.s3AccessKeyId,
        secretAccessKey: stackCredentials.s3SecretAccessKey,
      },
    },
  };
}

export function registryUrl(ctx: StackContext): string {
  return `http://127.0.0.1:${ctx.ports.registry}${registryBasePath}`;
}

/**
 * One stack command at a time per stack folder (tests and a user may race). A lock whose holder
 * died is taken over.
 */
async function withLock<T>(ctx: StackContext, body: () => Promise<T>): Promise<T> {
  const lock = join(ctx.dir, 'stack.lock');
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const text = readFileSync(lock, 'utf8').trim();
      const holder = Number(text);
      if (text !== '' && (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder))) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new StackError('stack', `another stack command (pid ${holder}) holds ${lock}`);
      await sleep(250);
    }
  }
  try {
    return await body();
  } finally {
    rmSync(lock, { force: true });
  }
}
