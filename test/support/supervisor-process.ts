import { type ChildProcess, spawn } from 'node:child_process';
import { expect, onTestFinished } from 'vitest';
import type { K2Config } from '../../src/config/index.js';
import { waitForCommitted } from './supervisor.js';

export interface SupervisorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** Resolves once `text` was printed; rejects when the process exits first or the time runs out. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** Sends `signal` and resolves with the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

/**
 * `node dist/supervisor.js` as a child process with `env` on top of this one's. It is killed
 * (by its pid, SIGKILL) when the test ends if it still runs.
 */
export function startSupervisorProcess(env: Record<string, string>): SupervisorProcess {
  const child = spawn(process.execPath, ['dist/supervisor.js'], {
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not start dist/supervisor.js');
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const waitFor = async (text: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!output.includes(text)) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`supervisor ${child.pid} exited before printing "${text}":\n${output}`);
      if (Date.now() > deadline)
        throw new Error(`supervisor ${child.pid} did not print "${text}" in ${timeoutMs} ms:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    child,
    pid: child.pid,
    output: () => output,
    exited,
    waitFor,
    stop: async (signal = 'SIGTERM') => {
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      return { code, ms: Date.now() - started };
    },
  };
}

/** The port its HTTP endpoints were bound to (K2_HTTP_PORT=0 picks one), from its start-up log. */
export function httpPort(supervisor: SupervisorProcess): number | undefined {
  const match = /"msg":"k2 supervisor listening","address":\{[^}]*"port":(\d+)/.exec(supervisor.output());
  return match ? Number(match[1]) : undefined;
}

/** The health level its /status shows. */
export async function healthLevel(supervisor: SupervisorProcess): Promise<string> {
  const port = httpPort(supervisor);
  if (port === undefined)
    throw new Error(`supervisor ${supervisor.pid} serves no /status:\n${supervisor.output()}`);
  const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
    health: { level: string };
  };
  return status.health.level;
}

/** One kill -9 trial: start the supervisor, wait until it ingests, kill it after `delayMs`. */
export async function killWhileIngesting(env: Record<string, string>, delayMs: number): Promise<void> {
  const supervisor = startSupervisorProcess(env);
  await supervisor.waitFor('ingesting', 30_000);
  await new Promise((r) => setTimeout(r, delayMs));
  await supervisor.stop('SIGKILL');
}

/** A last supervisor runs until the table records the topic's end offsets, then drains on SIGTERM (exit 0). */
export async function drainToEnd(
  env: Record<string, string>,
  config: K2Config,
  topic: string,
): Promise<void> {
  const last = startSupervisorProcess(env);
  await waitForCommitted(config, topic, 120_000);
  await last.waitFor('ingesting');
  const { code } = await last.stop('SIGTERM');
  expect(code, last.output()).toBe(0);
}
