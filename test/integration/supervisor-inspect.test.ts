import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { startSupervisor } from '../../src/supervisor/supervisor.js';
import { createTopic, unique } from '../support/stack.js';
import { supervisorConfig } from '../support/supervisor.js';

interface Received {
  type: string;
  snapshot?: { value?: unknown };
  actorRef?: { id?: string };
}

describe('K2_INSPECT attaches the xstate inspector', () => {
  it('streams the actors of a running supervisor to a WebSocket inspector', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const received: Received[] = [];
    server.on('connection', (socket) =>
      socket.on('message', (data) => received.push(JSON.parse(String(data)) as Received)),
    );

    const topic = `market.${unique('i').replace('-', '')}.trades`;
    await createTopic(topic, 1);
    const { port } = server.address() as AddressInfo;
    const config = supervisorConfig({
      K2_TOPICS: topic,
      K2_KAFKA_GROUP_ID: unique('inspect-group'),
      K2_CATALOG_NAME: unique('inspect').replace('-', '_'),
      K2_INSPECT: `ws://127.0.0.1:${port}`,
    });
    const supervisor = await startSupervisor(config, { handleSignals: false });
    onTestFinished(async () => {
      await supervisor.stop();
    });

    // The health machine's NOMINAL and a commit machine's cycle arrive as inspection snapshots.
    await vi.waitFor(
      () => {
        const values = received.filter((e) => e.type === '@xstate.snapshot').map((e) => e.snapshot?.value);
        expect(values).toContain('NOMINAL');
        expect(values).toContain('committing');
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(received.some((e) => e.type === '@xstate.actor')).toBe(true);
  });

  it('refuses a target that is not a WebSocket URL, naming K2_INSPECT', () => {
    expect(() => supervisorConfig({ K2_INSPECT: 'http://127.0.0.1:8080' })).toThrow(/K2_INSPECT/);
  });
});
