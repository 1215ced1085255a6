import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';

/** Debian's prometheus package (promtool included), installed by scripts/install-prometheus.sh when missing. */
export function installPrometheus(): void {
  const out = spawnSync('bash', ['scripts/install-prometheus.sh'], { encoding: 'utf8', stdio: 'inherit' });
  if (out.status !== 0) throw new Error('scripts/install-prometheus.sh failed');
}

export function promtool(args: string[]): { status: number | null; output: string } {
  const out = spawnSync('promtool', args, { encoding: 'utf8' });
  return { status: out.status, output: `${out.stdout}${out.stderr}` };
}

/** promtool without blocking, for tests that run side by side. */
export function promtoolAsync(args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', args);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

export interface LocalPrometheus {
  /** http://127.0.0.1:<port> */
  url: string;
  /** GET /api/v1/<path>; rejects on an HTTP or API error with Prometheus's message. */
  api<T = unknown>(path: string, params?: Record<string, string>): Promise<T>;
  /** What Prometheus printed, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** A port nothing listens on right now (listen on 0, read it, close): for a child process's own server. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * A real Prometheus on 127.0.0.1, in a temporary folder, scraping `target` every second as job
 * k2-supervisor and evaluating `ruleFiles` every second.
 */
export async function startPrometheus(target: string, ruleFiles: string[]): Promise<LocalPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'k2-prometheus-'));
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: ruleFiles.map((f) => resolve(f)),
    scrape_configs: [{ job_name: 'k2-supervisor', static_configs: [{ targets: [target] }] }],
  };
  writeFileSync(join(dir, 'prometheus.yml'), toYaml(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));

  const api = async <T>(path: string, params: Record<string, string> = {}): Promise<T> => {
    const response = await fetch(`${url}/api/v1/${path}?${new URLSearchParams(params)}`, {
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success')
      throw new Error(`Prometheus ${path} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  };
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}:\n${output}`);
    }
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) }).catch(
      () => undefined,
    );
    if (ready?.ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready on ${url} in 15 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, api, log: () => output, stop };
}
