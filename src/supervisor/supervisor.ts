import type { Server } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { K2Config } from '../config/index.js';
import { startHttp } from './http.js';

/**
 * The supervisor process: config, HTTP endpoints and signal handling. The ingestion actors
 * (partition, commit, DLQ, health) attach here.
 */
export async function startSupervisor(config: K2Config): Promise<{ stop: () => Promise<void> }> {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'k2_' });
  let state: 'running' | 'draining' = 'running';
  const startedAt = new Date().toISOString();
  const server: Server = await startHttp(config.supervisor.httpHost, config.supervisor.httpPort, {
    metrics,
    healthy: () => true,
    ready: () => state === 'running',
    status: () => ({ state, startedAt, pid: process.pid }),
  });
  const address = server.address();
  console.log(JSON.stringify({ msg: 'k2 supervisor listening', address }));

  const stop = async () => {
    state = 'draining';
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      console.log(JSON.stringify({ msg: `k2 supervisor: ${signal}, draining` }));
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
  return { stop };
}
