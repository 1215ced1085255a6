import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuMeter, describeCpu, processSeconds } from '../../bench/cpu.js';

function burn(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

describe.skipIf(!existsSync('/proc/self/stat'))('bench CPU split (/proc)', () => {
  it('counts a busy loop as this process CPU, within the box total', () => {
    const meter = cpuMeter({ bench: 'self', nobody: 2 ** 22 + 1 });
    burn(300);
    const split = meter.stop()!;
    // Clock ticks are 10 ms and the loop is one thread: about 0.3 s, never more than the wall.
    expect(split.processes.bench).toBeGreaterThan(0.2);
    expect(split.processes.bench).toBeLessThanOrEqual(split.wallSeconds + 0.02);
    expect(split.box).toBeGreaterThanOrEqual(split.processes.bench! - 0.02);
    // A pid that does not exist gives no figure rather than a zero.
    expect(split.processes.nobody).toBeUndefined();
  });

  it('keeps a sample taken before a process goes away', () => {
    const meter = cpuMeter({ bench: 'self' });
    burn(150);
    meter.sample('bench');
    const sampled = processSeconds('self')!;
    burn(150);
    const split = meter.stop()!;
    expect(split.processes.bench).toBeLessThan(sampled);
  });

  it('describes CPU µs per trade, the rest as other, and how busy the box was', () => {
    const line = describeCpu(
      { wallSeconds: 2, box: 3, processes: { supervisor: 2, kafka: 0.5 } },
      1_000_000,
      2,
    );
    expect(line).toBe('box 3.0 CPU-µs/trade (supervisor 2.0, kafka 0.5, other 0.5); box 75 % busy');
  });
});
