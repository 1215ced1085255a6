/**
 * Where a bench phase's CPU went, from Linux's /proc: the whole box's busy time and each named
 * process's own (all its threads). Elsewhere (no /proc) every figure is undefined and the bench
 * prints none.
 */
import { readFileSync } from 'node:fs';
import { procStat } from '../src/stack/process.js';

/** /proc counts in clock ticks; USER_HZ is 100 on every Linux the bench runs on. */
const TICK_SECONDS = 0.01;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The box's busy seconds (every state but idle and iowait), summed over its cores. */
function boxBusySeconds(): number | undefined {
  const line = read('/proc/stat')?.split('\n', 1)[0];
  if (!line?.startsWith('cpu ')) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return ticks.reduce((sum, n, i) => (i === 3 || i === 4 ? sum : sum + n), 0) * TICK_SECONDS;
}

/** A process's user + system seconds so far, over all its threads. */
export function processSeconds(pid: number | 'self'): number | undefined {
  const fields = procStat(pid);
  return fields && (Number(fields[11]) + Number(fields[12])) * TICK_SECONDS;
}

export type CpuSplit = {
  wallSeconds: number;
  /** Busy core-seconds of the whole box. */
  box: number;
  /** Each named process's core-seconds; the rest of `box` is everything else on the machine. */
  processes: Record<string, number>;
};

/**
 * Starts measuring; `stop` ends it. A process's figure is its CPU at its last `sample`, or at `stop`
 * when it was never sampled (a process about to be killed is sampled just before).
 */
export function cpuMeter(pids: Record<string, number | 'self'>): {
  sample(name: string): void;
  stop(): CpuSplit | undefined;
} {
  const start = performance.now();
  const boxStart = boxBusySeconds();
  const first = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processSeconds(pid)]));
  const last: Record<string, number | undefined> = {};
  const sample = (name: string) => {
    const pid = pids[name];
    if (pid !== undefined) last[name] = processSeconds(pid) ?? last[name];
  };
  return {
    sample,
    stop() {
      for (const name of Object.keys(pids)) if (last[name] === undefined) sample(name);
      const boxEnd = boxBusySeconds();
      if (boxStart === undefined || boxEnd === undefined) return undefined;
      const processes: Record<string, number> = {};
      for (const [name, before] of Object.entries(first)) {
        const after = last[name];
        if (before !== undefined && after !== undefined) processes[name] = after - before;
      }
      return { wallSeconds: (performance.now() - start) / 1000, box: boxEnd - boxStart, processes };
    },
  };
}

/**
 * One line per phase: CPU µs per trade for the box and each process, and how busy the box was.
 * `cores` is the machine's core count.
 */
export function describeCpu(split: CpuSplit, trades: number, cores: number): string {
  const us = (seconds: number) => ((seconds * 1e6) / trades).toFixed(1);
  const named = Object.values(split.processes).reduce((a, b) => a + b, 0);
  const parts = [
    ...Object.entries(split.processes).map(([name, seconds]) => `${name} ${us(seconds)}`),
    `other ${us(Math.max(0, split.box - named))}`,
  ];
  const busy = (100 * split.box) / (split.wallSeconds * cores);
  return `box ${us(split.box)} CPU-µs/trade (${parts.join(', ')}); box ${busy.toFixed(0)} % busy`;
}
