import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  fetchStatus,
  type Reading,
  registerStatusCommand,
  renderStatus,
  StatusUnavailableError,
  type SupervisorStatus,
  statusUrl,
  watchStatus,
} from '../../src/cli/status.js';
import { type StandInTarget, startStandInTarget } from '../support/ops-traffic.js';

/** Runs `k2 status ...` in this process and returns what it printed. */
async function k2Status(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerStatusCommand(program);
  const printed: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
  try {
    await program.parseAsync(['status', ...args], { from: 'user' });
  } finally {
    log.mockRestore();
  }
  return printed.join('\n');
}

/** A closed port on loopback: nothing answers there. */
async function closedAddress(): Promise<string> {
  const target = await startStandInTarget();
  await target.stop();
  return target.address;
}

describe('k2 status', () => {
  let target: StandInTarget;
  beforeAll(async () => {
    target = await startStandInTarget(50);
  });
  afterAll(() => target.stop());

  it('prints /status as plain JSON with --json', async () => {
    const printed = JSON.parse(await k2Status(['--json', '--url', target.address])) as SupervisorStatus;
    expect(printed.state).toBe('running');
    expect(printed.partitions.map((p) => `${p.topic}-${p.partition}`)).toEqual([
      'market.crypto.trades-0',
      'market.crypto.trades-1',
      'market.equities.quotes-0',
    ]);
    expect(printed.health.level).toBe('DEGRADED');
    expect(Object.keys(printed.tables).sort()).toEqual(['quotes_v2', 'trades_v2']);
  });

  it('prints one frame with --once: health, partitions with lag, tables with the last snapshot, actors, symbols', async () => {
    const frame = await k2Status(['--once', '--url', `http://${target.address}/`]);
    const lines = frame.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^k2 status  http://${target.address}/status  \\d\\d:\\d\\d:\\d\\d  supervisor running  writer stand-in$`,
      ),
    );
    expect(frame).toMatch(
      /^health DEGRADED for \d+s {3}breakers s3 closed, catalog closed, registry open, dlq closed$/m,
    );
    expect(frame).toContain('  DEGRADED: consumerLag 12,000 >= 10,000');
    expect(frame).toMatch(
      /^throughput - \(needs two readings\) {3}lag [\d,]+ {3}partitions 3 {3}DLQ [\d,]+/m,
    );
    expect(frame).toMatch(
      /^TOPIC +PART +STATE +LAG +MSG\/S +CONSUMED +FETCHED TO +COMMITTED +DLQ +GAPS +LAST BATCH$/m,
    );
    expect(frame).toMatch(
      /^market\.crypto\.trades +0 +fetching +1[\d,]+ +- +[\d,]+ +[\d,]+ +[\d,]+ +\d+ +\d+ +\d+s ago$/m,
    );
    expect(frame).toMatch(/^trades_v2 +\d+ +\d+ +\d+ +1000000000\d+ +\d+s +1,000 +\d+ ms$/m);
    expect(frame).toContain('  trades_v2 last failure');
    expect(frame).toMatch(/^market\.equities\.quotes-0 +partition +fetching +active/m);
    expect(frame).toMatch(/^NASDAQ +AAPL +[\d,]+ +[\d,]+ +1 +market\.equities\.quotes +0$/m);
  });

  it('fails clearly, naming the URL, when nothing answers', async () => {
    const address = await closedAddress();
    await expect(k2Status(['--json', '--url', address])).rejects.toThrow(
      new RegExp(`cannot read http://${address}/status: ECONNREFUSED \\(is the supervisor running\\?`),
    );
    await expect(fetchStatus(statusUrl(address), 1_000)).rejects.toBeInstanceOf(StatusUnavailableError);
  });

  it('redraws in place on the alternate screen, with msg/s from the second frame, and restores the terminal', async () => {
    const written: string[] = [];
    const out = { write: (s: string) => written.push(s) > 0, columns: 160, rows: 60 };
    const stop = new AbortController();
    const watching = watchStatus(statusUrl(target.address), 200, { out, signal: stop.signal });
    await vi.waitFor(() => expect(written.filter((w) => w.startsWith('\x1b[H'))).toHaveLength(2), {
      timeout: 5_000,
    });
    stop.abort();
    await watching;
    const frames = written.filter((w) => w.startsWith('\x1b[H'));
    expect(written[0]).toBe('\x1b[?1049h\x1b[?25l');
    expect(written.at(-1)).toBe('\x1b[?25h\x1b[?1049l');
    expect(frames[0]).toContain('throughput - (needs two readings)');
    expect(frames[1]).toMatch(/throughput [\d,.]+ msg\/s/);
    expect(frames[1]).toContain('q quits');
    for (const line of frames[1]!.slice(3).split('\n'))
      expect(line.replace('\x1b[K', '').replace('\x1b[J', '').length).toBeLessThanOrEqual(160);
  });

  it('keeps the live view up while the supervisor is unreachable, and says so', async () => {
    const written: string[] = [];
    const stop = new AbortController();
    const address = await closedAddress();
    const watching = watchStatus(statusUrl(address), 200, {
      out: { write: (s: string) => written.push(s) > 0 },
      signal: stop.signal,
    });
    await vi.waitFor(() => expect(written.filter((w) => w.includes('retrying every 0.2s'))).toHaveLength(2), {
      timeout: 5_000,
    });
    stop.abort();
    await watching;
    expect(written[1]).toContain(`cannot read http://${address}/status: ECONNREFUSED`);
  });
});

describe('a k2 status frame', () => {
  const status = (consumed: number, lag: number): SupervisorStatus => ({
    state: 'running',
    health: { level: 'NOMINAL', since: null, reasons: [], shutdownReason: null },
    breakers: {
      s3: { state: 'closed', since: null },
      catalog: { state: 'closed', since: null },
      registry: { state: 'closed', since: null },
      dlq: { state: 'closed', since: null },
    },
    partitions: [
      {
        topic: 't',
        partition: 0,
        actorId: 't-0',
        state: 'fetching',
        lag,
        highWatermark: '9007199254740993',
        fetchedThrough: '9007199254740993',
        committedOffset: '9007199254740000',
        recordsConsumed: consumed,
        dlqRecords: 0,
        gapsDetected: 0,
        lastBatchAt: '2025-01-01T00:00:09.000Z',
      },
    ],
    tables: {},
    symbols: { shown: 0, evicted: 0, watermarks: [] },
    gaps: { detected: 0, closed: 0, recent: [] },
    dlq: { total: 0 },
    actors: {},
    journal: { lastSeq: 7, lastAt: '2025-01-01T00:00:09.000Z' },
  });
  const at = Date.parse('2025-01-01T00:00:10.000Z');

  it('shows msg/s as the difference between two readings, and 64-bit offsets exactly', () => {
    const previous: Reading = { at: at - 2_000, status: status(1_000, 50) };
    const frame = renderStatus({ at, status: status(3_500, 20) }, { url: 'u', previous }).join('\n');
    expect(frame).toMatch(/^throughput 1,250 msg\/s {3}lag 20 /m);
    expect(frame).toMatch(
      /^t +0 +fetching +20 +1,250 +3,500 +9,007,199,254,740,993 +9,007,199,254,740,000 +0 +0 +1s ago$/m,
    );
    expect(frame).toContain('  (no table written yet)');
  });

  it('shows no rate for a partition whose count went back (reassigned)', () => {
    const previous: Reading = { at: at - 2_000, status: status(5_000, 50) };
    expect(renderStatus({ at, status: status(100, 20) }, { url: 'u', previous }).join('\n')).toContain(
      'throughput - (needs two readings)',
    );
  });

  it('accepts host:port, a base URL or the /status URL', () => {
    expect(statusUrl('127.0.0.1:9464')).toBe('http://127.0.0.1:9464/status');
    expect(statusUrl('http://k2:9464/')).toBe('http://k2:9464/status');
    expect(statusUrl('https://k2.example/ops/status')).toBe('https://k2.example/ops/status');
  });
});
