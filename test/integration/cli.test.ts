import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ensureBuilt, runNode } from '../support/cli.js';
import { kafka, unique } from '../support/stack.js';

const k2 = 'dist/cli/k2.js';

beforeAll(() => ensureBuilt());

describe('k2 CLI', () => {
  it('has --help on every command, found by walking the help tree', async () => {
    const seen: string[] = [];
    const walk = async (command: string[]) => {
      const run = await runNode(k2, [...command, '--help']);
      expect(run.code, `k2 ${command.join(' ')} --help`).toBe(0);
      expect(run.stdout).toMatch(/^Usage: k2/);
      seen.push(command.join(' '));
      const listing = run.stdout.split(/^Commands:$/m)[1] ?? '';
      const subcommands = [...listing.matchAll(/^ {2}([a-z][\w-]*)/gm)]
        .map((m) => m[1]!)
        .filter((c) => c !== 'help');
      for (const sub of subcommands) await walk([...command, sub]);
    };
    await walk([]);
    expect(seen).toEqual(
      expect.arrayContaining(['stack up', 'stack down', 'stack status', 'config', 'demo', 'iceberg compact']),
    );
  });

  it('stack status reports every service of the running stack', async () => {
    const run = await runNode(k2, ['stack', 'status', '--json']);
    expect(run.code).toBe(0);
    const states = JSON.parse(run.stdout) as { name: string; ready: boolean }[];
    expect(states.map((s) => [s.name, s.ready])).toEqual([
      ['postgres', true],
      ['s3', true],
      ['kafka', true],
      ['registry', true],
    ]);
  });

  it('stack up while running starts nothing and succeeds', async () => {
    const run = await runNode(k2, ['stack', 'up']);
    expect(run.code).toBe(0);
    expect(run.stdout.match(/already running/g)).toHaveLength(4);
  });

  it('stack down when nothing runs says so and exits 0', async () => {
    const run = await runNode(k2, ['stack', 'down'], {
      K2_STACK_DIR: mkdtempSync(join(tmpdir(), 'k2-empty-')),
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('nothing to stop');
  });

  it('config names a bad key and exits 78', async () => {
    const run = await runNode(k2, ['config'], { K2_POOL_MAX_THREADS: 'many' });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('K2_POOL_MAX_THREADS: must be an integer, got "many"');
  });

  it('config prints the effective config with secrets masked', async () => {
    const run = await runNode(k2, ['config', '--json']);
    expect(run.code).toBe(0);
    const described = JSON.parse(run.stdout) as Record<string, { value: unknown; source: string }>;
    expect(described['kafka.brokers']?.source).toBe('stack');
    expect(described['s3.secretAccessKey']?.value).toBe('***');
    expect(run.stdout).not.toContain('k2-local-secret');
  });
});

describe('supervisor process', () => {
  it('refuses to start on a bad config value, naming the key', async () => {
    const run = await runNode('dist/supervisor.js', [], { K2_COMMIT_INTERVAL_MS: '-5' });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('K2_COMMIT_INTERVAL_MS: must be between');
  });

  it('refuses to start when a topic to land does not exist, naming K2_TOPICS', async () => {
    const run = await runNode('dist/supervisor.js', [], {
      K2_TOPICS: 'market.nowhere.trades',
      K2_HTTP_PORT: '0',
    });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('K2_TOPICS: topics do not exist');
  });

  it('serves /healthz, /readyz, /status and /metrics on loopback and exits 0 on SIGTERM', async () => {
    const port = 19_464 + Math.floor(Math.random() * 500);
    const topic = `market.${unique('cli').replace('-', '')}.trades`;
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const child = spawn(process.execPath, ['dist/supervisor.js'], {
      env: {
        ...process.env,
        K2_HTTP_PORT: String(port),
        K2_TOPICS: topic,
        K2_KAFKA_GROUP_ID: unique('cli-group'),
        K2_CATALOG_NAME: unique('cli').replace('-', '_'),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const base = `http://127.0.0.1:${port}`;
    // Joining the consumer group is the slow part of start-up on a loaded 2-core machine.
    for (let i = 0; i < 900 && !output.includes('ingesting'); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(output, output).toContain('ingesting');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(((await (await fetch(`${base}/status`)).json()) as { state: string }).state).toBe('running');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('k2_process_resident_memory_bytes');
    expect(metrics).toContain('k2_messages_consumed_total');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(output).toContain('"drained":true');
  });
});
