import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StackError } from '../../src/errors/index.js';
import { defaultPorts, type StackContext } from '../../src/stack/context.js';
import { requireJavaAndMaven } from '../../src/stack/jvm.js';
import { isAlive, spawnDetached, stopProcess } from '../../src/stack/process.js';
import type { Service } from '../../src/stack/service.js';
import { stackDown, stackUp } from '../../src/stack/stack.js';

/** A stand-in service that runs a real shell process; `ready` decides whether it ever answers. */
function fakeService(
  name: string,
  script: string,
  options: { ready?: () => boolean; ports?: number[] } = {},
): Service & {
  starts: number;
  lastPid?: number;
} {
  const service = {
    name,
    marker: `k2-fake-${name}`,
    readyTimeoutMs: 1_500,
    starts: 0,
    lastPid: undefined as number | undefined,
    ports: () => options.ports ?? [],
    logFile: (ctx: StackContext) => join(ctx.dir, 'logs', `${name}.log`),
    prerequisites: async () => undefined,
    install: async () => undefined,
    async start(ctx: StackContext) {
      service.starts++;
      // The marker rides along as $0 so the pid check recognises the process.
      const { pid } = spawnDetached('sh', ['-c', script, `k2-fake-${name}`], {
        logFile: service.logFile(ctx),
      });
      service.lastPid = pid;
      return pid;
    },
    ready: async () => (options.ready ?? (() => true))(),
    stop: async (_ctx: StackContext, pid: number) => {
      await stopProcess(pid, 2_000);
    },
  };
  return service;
}

const lines: string[] = [];
function context(): StackContext {
  return {
    dir: mkdtempSync(join(tmpdir(), 'k2-stack-')),
    cacheDir: tmpdir(),
    ports: defaultPorts,
    log: (l) => lines.push(l),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  lines.length = 0;
});

async function rejection(promise: Promise<unknown>): Promise<StackError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StackError);
  return error as StackError;
}

describe('stack orchestration', () => {
  it('a second up leaves running services alone', async () => {
    const ctx = context();
    const service = fakeService('steady', 'sleep 30');
    cleanups.push(async () => void (await stackDown(ctx, {}, [service])));
    await stackUp(ctx, [service]);
    const firstPid = service.lastPid;
    await stackUp(ctx, [service]);
    expect(service.starts).toBe(1);
    expect(lines).toContain(`steady: already running (pid ${firstPid})`);
  });

  it('a service that never answers fails with its log tail, and nothing is left half-started', async () => {
    const ctx = context();
    const first = fakeService('first', 'sleep 30');
    const stuck = fakeService('stuck', 'echo "listening on nothing at all"; sleep 30', {
      ready: () => false,
    });
    const error = await rejection(stackUp(ctx, [first, stuck]));
    expect(error.message).toContain('stuck: did not answer within 1.5 s');
    expect(error.message).toContain('listening on nothing at all');
    expect(isAlive(first.lastPid!)).toBe(false);
    expect(isAlive(stuck.lastPid!)).toBe(false);
    expect(lines).toContain(`first: stopping (pid ${first.lastPid}) because the stack did not come up`);
  });

  it('a service that exits during start-up is reported with what it printed', async () => {
    const ctx = context();
    const crashing = fakeService('crashing', 'echo "fatal: cannot bind" >&2; exit 3', { ready: () => false });
    const error = await rejection(stackUp(ctx, [crashing]));
    expect(error.message).toContain('crashing: exited during start-up');
    expect(error.message).toContain('fatal: cannot bind');
  });

  it('a port already taken is named with its owner before anything starts', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const ctx = context();
    const blocked = fakeService('blocked', 'sleep 30', { ports: [port] });
    const error = await rejection(stackUp(ctx, [blocked]));
    expect(error.message).toMatch(
      new RegExp(`port 127.0.0.1:${port} is already taken( by node \\(pid ${process.pid}\\))?`),
    );
    expect(blocked.starts).toBe(0);
  });

  it('down when nothing runs says so and succeeds', async () => {
    const ctx = context();
    expect(await stackDown(ctx, {}, [fakeService('idle', 'sleep 30')])).toEqual([]);
    expect(lines.some((l) => l.startsWith('nothing to stop'))).toBe(true);
  });

  it('down stops only what the stack started, by pid', async () => {
    const ctx = context();
    const service = fakeService('owned', 'sleep 30');
    const bystander = spawnDetached('sh', ['-c', 'sleep 30', 'k2-fake-owned'], {
      logFile: join(ctx.dir, 'bystander.log'),
    });
    cleanups.push(async () => void (await stopProcess(bystander.pid, 1_000)));
    await stackUp(ctx, [service]);
    expect(await stackDown(ctx, {}, [service])).toEqual(['owned']);
    expect(isAlive(service.lastPid!)).toBe(false);
    expect(isAlive(bystander.pid)).toBe(true);
  });

  it('down --wipe removes the data but keeps the download cache', async () => {
    const ctx = context();
    const service = fakeService('wiped', 'sleep 30');
    await stackUp(ctx, [service]);
    mkdirSync(join(ctx.dir, 'kafka', 'data'), { recursive: true });
    await stackDown(ctx, { wipe: true }, [service]);
    expect(existsSync(join(ctx.dir, 'kafka'))).toBe(false);
    expect(existsSync(join(ctx.dir, 'logs'))).toBe(false);
    expect(existsSync(join(ctx.dir, 'stack.json'))).toBe(false);
    expect(existsSync(ctx.cacheDir)).toBe(true);
  });

  it('missing Java or Maven is a clear error', () => {
    const path = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), 'k2-empty-path-'));
    try {
      expect(() => requireJavaAndMaven('kafka')).toThrow(
        /kafka: Java 17\+ is required but `java` is not on the PATH/,
      );
    } finally {
      process.env.PATH = path;
    }
  });
});
