import type { Clock } from './clock.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  /** Expected items, when known: enables the bar, the percentage and the ETA. */
  total?: number;
  stream: ProgressStream;
  clock: Clock;
  /** Plain lines (not a TTY): one every this many milliseconds. */
  lineIntervalMs?: number;
  /** TTY: redraws at most this often. */
  redrawMs?: number;
  /** The rate is measured over this trailing window. */
  windowMs?: number;
}

export interface ProgressState {
  label: string;
  done: number;
  total?: number;
  /** Items per second over the trailing window. */
  rate: number;
  elapsedMs: number;
}

/**
 * Progress of a long run: a bar redrawn in place on a TTY, a plain line every ten seconds
 * otherwise (logs, CI), and a closing line either way.
 */
export class Progress {
  readonly #options: Required<Omit<ProgressOptions, 'total'>> & { total?: number };
  readonly #started: number;
  readonly #samples: { at: number; done: number }[] = [];
  #done = 0;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #finished = false;

  constructor(options: ProgressOptions) {
    this.#options = { lineIntervalMs: 10_000, redrawMs: 100, windowMs: 5_000, ...options };
    this.#started = options.clock.nowMs();
    this.#samples.push({ at: this.#started, done: 0 });
  }

  get done(): number {
    return this.#done;
  }

  add(count: number): void {
    this.#done += count;
    const now = this.#options.clock.nowMs();
    const interval = this.#tty ? this.#options.redrawMs : this.#options.lineIntervalMs;
    if (now - this.#lastDraw < interval) return;
    this.#lastDraw = now;
    this.#samples.push({ at: now, done: this.#done });
    while (this.#samples.length > 2 && now - this.#samples[1]!.at > this.#options.windowMs)
      this.#samples.shift();
    this.#draw(now);
  }

  /** Writes the closing line: totals and the average rate. */
  finish(note = ''): void {
    if (this.#finished) return;
    this.#finished = true;
    const now = this.#options.clock.nowMs();
    const elapsedMs = now - this.#started;
    const state = { ...this.#state(now), rate: elapsedMs > 0 ? (this.#done * 1000) / elapsedMs : 0 };
    const line = `${formatPlain({ ...state, total: undefined })} in ${formatDuration(elapsedMs / 1000)}${note ? `; ${note}` : ''}`;
    this.#options.stream.write(this.#tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }

  get #tty(): boolean {
    return this.#options.stream.isTTY === true;
  }

  #state(now: number): ProgressState {
    const first = this.#samples[0]!;
    const windowMs = now - first.at;
    return {
      label: this.#options.label,
      done: this.#done,
      total: this.#options.total,
      rate: windowMs > 0 ? ((this.#done - first.done) * 1000) / windowMs : 0,
      elapsedMs: now - this.#started,
    };
  }

  #draw(now: number): void {
    const state = this.#state(now);
    if (this.#tty)
      this.#options.stream.write(`\r\x1b[2K${formatBar(state, this.#options.stream.columns ?? 80)}`);
    else this.#options.stream.write(`${formatPlain(state)}\n`);
  }
}

/** `synthetic: 1040000/2000000 (52%) 121300 msg/s ETA 8s` */
export function formatPlain(state: ProgressState): string {
  const { label, done, total, rate } = state;
  const count = total === undefined ? `${done}` : `${done}/${total} (${percent(done, total)}%)`;
  const eta = etaSeconds(state);
  return `${label}: ${count} ${Math.round(rate)} msg/s${eta === undefined ? '' : ` ETA ${formatDuration(eta)}`}`;
}

/** `synthetic [#########.........]  52% 1,040,000/2,000,000 121.3k msg/s ETA 8s`, fitted to the width. */
export function formatBar(state: ProgressState, columns: number): string {
  const { label, done, total } = state;
  const eta = etaSeconds(state);
  const counts = total === undefined ? grouped(done) : `${grouped(done)}/${grouped(total)}`;
  const tail = ` ${counts} ${compact(state.rate)} msg/s${eta === undefined ? '' : ` ETA ${formatDuration(eta)}`}`;
  if (total === undefined) return `${label}${tail}`.slice(0, columns - 1);
  const pct = ` ${String(percent(done, total)).padStart(3)}%`;
  const width = Math.max(0, Math.min(30, columns - 1 - label.length - 3 - pct.length - tail.length));
  const filled = total > 0 ? Math.min(width, Math.floor((done / total) * width)) : width;
  const bar = width > 0 ? ` [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]` : '';
  return `${label}${bar}${pct}${tail}`.slice(0, columns - 1);
}

function etaSeconds({ done, total, rate }: ProgressState): number | undefined {
  if (total === undefined || rate <= 0 || done >= total) return undefined;
  return (total - done) / rate;
}

function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
}

/** `8s`, `2m05s`, `1h02m` */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function grouped(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return `${Math.round(n)}`;
}
