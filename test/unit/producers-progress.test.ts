import { describe, expect, it } from 'vitest';
import { formatBar, formatDuration, formatPlain, Progress } from '../../src/producers/progress.js';
import { FakeClock } from './producers-fixtures.js';

function stream(isTTY: boolean, columns = 100) {
  const writes: string[] = [];
  return { writes, isTTY, columns, write: (text: string) => writes.push(text) };
}

describe('progress', () => {
  it('formats a bar with percentage, counts, rate and ETA, fitted to the terminal', () => {
    const state = { label: 'synthetic', done: 1_040_000, total: 2_000_000, rate: 121_300, elapsedMs: 8_000 };
    expect(formatBar(state, 100)).toBe(
      'synthetic [###############...............]  52% 1,040,000/2,000,000 121.3k msg/s ETA 8s',
    );
    expect(formatBar(state, 60).length).toBeLessThan(60);
    expect(formatBar({ ...state, total: undefined }, 100)).toBe('synthetic 1,040,000 121.3k msg/s');
  });

  it('formats plain lines for logs', () => {
    expect(formatPlain({ label: 'equities', done: 500, total: 50_000, rate: 1_000, elapsedMs: 500 })).toBe(
      'equities: 500/50000 (1%) 1000 msg/s ETA 50s',
    );
    expect(formatPlain({ label: 'binance', done: 12, rate: 3.4, elapsedMs: 500 })).toBe(
      'binance: 12 3 msg/s',
    );
    expect([5, 125, 3_725].map(formatDuration)).toEqual(['5s', '2m05s', '1h02m']);
  });

  it('redraws in place on a TTY, at most every 100 ms, with the rate over the recent window', () => {
    const clock = new FakeClock();
    const out = stream(true);
    const progress = new Progress({ label: 'p', total: 1_000, stream: out, clock });
    for (let i = 0; i < 10; i++) {
      clock.advance(50);
      progress.add(50);
    }
    expect(out.writes).toHaveLength(5);
    expect(out.writes.every((w) => w.startsWith('\r\x1b[2K') && !w.endsWith('\n'))).toBe(true);
    expect(out.writes.at(-1)).toContain('1.0k msg/s');
    progress.finish('done');
    expect(out.writes.at(-1)).toBe('\r\x1b[2Kp: 500 1000 msg/s in 1s; done\n');
  });

  it('writes a plain line every ten seconds when not on a TTY, and a closing line', () => {
    const clock = new FakeClock();
    const out = stream(false);
    const progress = new Progress({ label: 'p', total: 100_000, stream: out, clock });
    for (let i = 0; i < 30; i++) {
      clock.advance(1_000);
      progress.add(1_000);
    }
    progress.finish();
    expect(out.writes).toEqual([
      'p: 1000/100000 (1%) 1000 msg/s ETA 1m39s\n',
      'p: 11000/100000 (11%) 1000 msg/s ETA 1m29s\n',
      'p: 21000/100000 (21%) 1000 msg/s ETA 1m19s\n',
      'p: 30000 1000 msg/s in 30s\n',
    ]);
  });
});
