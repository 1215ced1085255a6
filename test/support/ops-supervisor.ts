import { type ChildProcess, spawn } from 'node:child_process';
import { frame } from '../../src/codec/wire.js';
import { ensureBuilt } from './cli.js';
import { freePort } from './prometheus.js';
import { createTopic, unique } from './stack.js';
import { supervisorConfig, waitForCommitted } from './supervisor.js';
import { encodeTrade, produce, registerTrades, streamTrades, type TestTrade } from './trades.js';

export interface ScrapeTarget {
  /** host:port of the supervisor's /metrics and /status. */
  address: string;
  /** What the supervisor printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Trade indices left out: sequence 1100 of every symbol (a small gap) and 1500..1649 (a large one). */
const skipped = (i: number) => (i >= 400 && i < 404) || (i >= 2_000 && i < 2_600);
const burst = 4_000;
const trickle = { everyMs: 500, perTick: 40 };

/**
 * `node dist/supervisor.js` on its own topic, group and catalog, after a burst of trades with
 * sequence gaps, resent duplicates and poison (bad magic byte, truncated body, unknown schema id),
 * all landed before this resolves; then clean trades keep trickling in until `stop()`.
 */
export async function startSupervisorWithTraffic(): Promise<ScrapeTarget> {
  ensureBuilt();
  const topic = `market.${unique('ops').replace('-', '')}.trades`;
  await createTopic(topic, 2);
  const schemaId = await registerTrades(topic);
  const trades = Array.from({ length: burst }, (_, i) => encodeTrade(schemaId, i, 'ops'));
  const poison = [
    Buffer.from([1, 0, 0, 0, 1, 2, 3]),
    trades[0]!.value.subarray(0, 12),
    frame(999_999, Buffer.from([2, 4, 6])),
  ];
  const message = (t: TestTrade) => ({ key: t.symbol, value: t.value });
  await produce(topic, [
    ...trades.filter((_, i) => !skipped(i)).map(message),
    ...poison.map((value) => ({ key: 'BTCUSDT', value })),
    ...trades.slice(100, 108).map(message),
  ]);

  const port = await freePort();
  const env = {
    K2_TOPICS: topic,
    K2_KAFKA_GROUP_ID: unique('ops-group'),
    K2_CATALOG_NAME: unique('ops').replace('-', '_'),
    K2_HTTP_HOST: '127.0.0.1',
    K2_HTTP_PORT: String(port),
    K2_COMMIT_INTERVAL_MS: '500',
  };
  const child: ChildProcess = spawn(process.execPath, ['dist/supervisor.js'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const crashed = exited.then(() => {
    throw new Error(`supervisor exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
  });
  crashed.catch(() => undefined);
  const stopSupervisor = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await Promise.race([waitForCommitted(supervisorConfig(env), topic), crashed]);
  } catch (error) {
    await stopSupervisor();
    throw error;
  }

  const stream = streamTrades(topic, schemaId, { ...trickle, runId: 'ops', firstIndex: burst });
  return {
    address: `127.0.0.1:${port}`,
    output: () => output,
    stop: async () => {
      await stream.stop().catch(() => undefined);
      await stopSupervisor();
    },
  };
}
