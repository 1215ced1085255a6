import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { StackError } from '../errors/index.js';
import { type StackContext, stackCredentials } from './context.js';
import { isAlive, onPath, run, stopProcess } from './process.js';
import type { Service } from './service.js';

const isRoot = process.getuid?.() === 0;

/** Newest Debian PostgreSQL server binaries, e.g. /usr/lib/postgresql/15/bin. */
function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/**
 * initdb and postgres refuse to run as root, so as root they run as the `postgres` user, which must
 * be able to reach the data directory. A project cloned under a private folder (mktemp -d is 0700)
 * is out of its reach; then the cluster lives under /var/tmp and `.k2/pg` links to it.
 */
function dataRoot(ctx: StackContext): string {
  const link = join(ctx.dir, 'pg');
  // PostgreSQL must be given the real path: a link inside a folder it cannot enter does not help it.
  if (existsSync(link)) return realpathSync(link);
  if (!isRoot || spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', ctx.dir]).status === 0) {
    mkdirSync(link, { recursive: true });
    return link;
  }
  const hash = createHash('sha256').update(ctx.dir).digest('hex').slice(0, 12);
  const real = `/var/tmp/k2-pg-${hash}`;
  mkdirSync(real, { recursive: true });
  symlinkSync(real, link);
  ctx.log(
    `postgres: ${ctx.dir} is not reachable by the postgres user; the cluster lives in ${real} (linked from ${link})`,
  );
  return real;
}

function asPostgres(command: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function pgRun(command: string, args: string[]): string {
  const [cmd, fullArgs] = asPostgres(command, args);
  return run(cmd, fullArgs, { timeoutMs: 120_000, cwd: '/' });
}

/** A connection to the cluster's maintenance database. */
function adminClient(ctx: StackContext, connectionTimeoutMillis?: number): pg.Client {
  return new pg.Client({
    host: '127.0.0.1',
    port: ctx.ports.postgres,
    user: stackCredentials.pgUser,
    password: stackCredentials.pgPassword,
    database: 'postgres',
    connectionTimeoutMillis,
  });
}

export const postgresService: Service = {
  name: 'postgres',
  marker: 'postgres',
  readyTimeoutMs: 30_000,
  ports: (ctx) => [ctx.ports.postgres],
  // Written by the postgres user, so it lives in the cluster's folder.
  logFile: (ctx) => join(ctx.dir, 'pg', 'postgres.log'),

  async prerequisites(ctx) {
    if (binDir()) return;
    if (isRoot && onPath('apt-get')) {
      ctx.log('postgres: server binaries missing; installing Debian package postgresql');
      try {
        run('apt-get', ['update', '-qq'], { timeoutMs: 300_000 });
        run('apt-get', ['install', '-y', '-qq', 'postgresql'], {
          timeoutMs: 600_000,
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        });
      } catch (error) {
        throw new StackError('postgres', `installing postgresql failed: ${(error as Error).message}`);
      }
      if (binDir()) return;
    }
    throw new StackError(
      'postgres',
      'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; install them (Debian: apt-get install postgresql)',
    );
  },

  async install(ctx) {
    const bin = binDir()!;
    const root = dataRoot(ctx);
    const data = join(root, 'data');
    if (existsSync(join(data, 'PG_VERSION'))) return;
    mkdirSync(join(root, 'run'), { recursive: true });
    mkdirSync(data, { recursive: true });
    if (isRoot) {
      const uid = Number(run('id', ['-u', 'postgres']).trim());
      const gid = Number(run('id', ['-g', 'postgres']).trim());
      for (const path of [root, join(root, 'run'), data]) chownSync(path, uid, gid);
    }
    ctx.log('postgres: initdb');
    pgRun(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      stackCredentials.pgUser,
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-instructions',
    ]);
  },

  async start(ctx) {
    const bin = binDir()!;
    const root = dataRoot(ctx);
    const data = join(root, 'data');
    const log = join(root, 'postgres.log');
    const options = [
      `-p ${ctx.ports.postgres}`,
      `-k ${join(root, 'run')}`,
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=200',
      '-c fsync=off',
      '-c synchronous_commit=off',
    ].join(' ');
    pgRun(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start']);
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || !isAlive(pid))
      throw new StackError('postgres', 'pg_ctl reported a start but no postmaster runs');
    return pid;
  },

  async ready(ctx) {
    const client = adminClient(ctx, 1_000);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  },

  async afterReady(ctx) {
    const client = adminClient(ctx);
    await client.connect();
    try {
      for (const database of [stackCredentials.pgDatabase, 'registry']) {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        // Identifiers cannot be parameters; these two are constants of this module.
        if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${database}`);
      }
    } finally {
      await client.end();
    }
  },

  async stop(ctx, pid) {
    const bin = binDir();
    const data = join(dataRoot(ctx), 'data');
    if (bin && existsSync(join(data, 'postmaster.pid'))) {
      try {
        pgRun(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
        return;
      } catch {
        // fall through to signals
      }
    }
    await stopProcess(pid, 15_000);
  },
};

/** Removes the cluster's data, including a relocated one under /var/tmp. */
export function wipePostgres(ctx: StackContext): void {
  const link = join(ctx.dir, 'pg');
  let isLink = false;
  try {
    isLink = lstatSync(link).isSymbolicLink();
  } catch {
    return;
  }
  if (isLink && existsSync(link)) rmSync(realpathSync(link), { recursive: true, force: true });
  rmSync(link, { recursive: true, force: true });
}
