import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/index.js';
import { ConfigError, K2Error } from '../errors/index.js';
import type { StatusView } from '../journal/index.js';

/** The supervisor's /status body: the journal's status projection plus the process state. */
export interface SupervisorStatus extends StatusView {
  state?: string;
  writerId?: string;
}

/** One /status reading and when it was taken, for rates between two readings. */
export interface Reading {
  at: number;
  status: SupervisorStatus;
}

export class StatusUnavailableError extends K2Error {
  constructor(url: string, reason: string) {
    super(
      'K2_STATUS_UNAVAILABLE',
      `cannot read ${url}: ${reason} (is the supervisor running? pass --url or set K2_HTTP_HOST / K2_HTTP_PORT)`,
      { retriable: true },
    );
  }
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      "the supervisor's /status as a live view refreshed like top (partitions, actor levels, lag, snapshots, throughput); q quits",
    )
    .option(
      '--url <url>',
      'the supervisor (default: http://<supervisor.httpHost>:<supervisor.httpPort> from the configuration)',
    )
    .option('--json', 'print /status once as plain JSON')
    .option('--once', 'print one frame and exit (what happens when stdout is not a terminal)')
    .option('-n, --interval <seconds>', 'refresh interval', parseSeconds, 2)
    .option('-c, --config <file>', 'JSON config file (default: $K2_CONFIG)')
    .action(
      async (o: { url?: string; json?: boolean; once?: boolean; interval: number; config?: string }) => {
        const url = statusUrl(o.url ?? configuredUrl(o.config));
        const timeoutMs = Math.max(1_000, o.interval * 1_000);
        if (o.json) {
          console.log(JSON.stringify(await fetchStatus(url, timeoutMs), null, 2));
          return;
        }
        if (o.once || !process.stdout.isTTY) {
          const reading = { at: Date.now(), status: await fetchStatus(url, timeoutMs) };
          console.log(renderStatus(reading, { url }).join('\n'));
          return;
        }
        await watchStatus(url, o.interval * 1_000, { out: process.stdout, input: process.stdin });
      },
    );
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0.2 || seconds > 3_600) {
    throw new InvalidArgumentError('a number of seconds between 0.2 and 3600');
  }
  return seconds;
}

function configuredUrl(file: string | undefined): string {
  let supervisor: { httpHost: string; httpPort: number };
  try {
    supervisor = loadConfig({ file }).config.supervisor;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new K2Error(
      error.code,
      `${error.message} (k2 status needs only the supervisor's address: --url skips the configuration)`,
    );
  }
  const { httpHost, httpPort } = supervisor;
  // A supervisor bound to every interface is reached on loopback.
  const host = httpHost === '0.0.0.0' || httpHost === '::' ? '127.0.0.1' : httpHost;
  return `http://${host.includes(':') ? `[${host}]` : host}:${httpPort}`;
}

/** `host:port`, `http://host:port` or `.../status`: the /status URL. */
export function statusUrl(base: string): string {
  const url = new URL(/^[a-z]+:\/\//i.test(base) ? base : `http://${base}`);
  if (!url.pathname.endsWith('/status')) url.pathname = `${url.pathname.replace(/\/$/, '')}/status`;
  return url.toString();
}

export async function fetchStatus(
  url: string,
  timeoutMs: number,
  cancel?: AbortSignal,
): Promise<SupervisorStatus> {
  const timeout = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { signal: cancel ? AbortSignal.any([cancel, timeout]) : timeout });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer in ${timeoutMs} ms`
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new StatusUnavailableError(url, reason);
  }
  if (!response.ok) throw new StatusUnavailableError(url, `HTTP ${response.status}`);
  try {
    return (await response.json()) as SupervisorStatus;
  } catch {
    throw new StatusUnavailableError(url, 'the answer is not JSON');
  }
}

export interface WatchIo {
  out: { write(text: string): boolean; columns?: number; rows?: number };
  /** Keys: q or Ctrl-C quit. Read in raw mode when it is a terminal. */
  input?: NodeJS.ReadStream;
  /** Stops the view (tests). */
  signal?: AbortSignal;
}

/** The refreshing view: the alternate screen, redrawn every interval until q, Ctrl-C or the signal. */
export async function watchStatus(url: string, intervalMs: number, io: WatchIo): Promise<void> {
  const stop = new AbortController();
  const quit = () => stop.abort();
  io.signal?.addEventListener('abort', quit, { once: true });
  const onKey = (key: Buffer) => {
    if (key.includes(0x71) || key.includes(0x03)) quit();
  };
  const raw = io.input?.isTTY === true;
  if (raw) {
    io.input!.setRawMode(true);
    io.input!.resume();
    io.input!.on('data', onKey);
  }
  process.once('SIGINT', quit);
  io.out.write('\x1b[?1049h\x1b[?25l');
  let previous: Reading | undefined;
  try {
    while (!stop.signal.aborted) {
      let lines: string[];
      try {
        const reading = {
          at: Date.now(),
          status: await fetchStatus(url, Math.max(1_000, intervalMs), stop.signal),
        };
        lines = renderStatus(reading, { url, previous, interactive: true });
        previous = reading;
      } catch (error) {
        if (!(error instanceof StatusUnavailableError)) throw error;
        if (stop.signal.aborted) break;
        lines = [
          `k2 status  ${url}  ${clock(Date.now())}`,
          '',
          ...wrap(error.message, io.out.columns ?? 120),
          `retrying every ${intervalMs / 1_000}s`,
          '',
          'q quits',
        ];
        previous = undefined;
      }
      const width = io.out.columns ?? 120;
      const height = io.out.rows ?? 1_000;
      io.out.write(
        `\x1b[H${lines
          .slice(0, height)
          .map((l) => `${l.slice(0, width)}\x1b[K`)
          .join('\n')}\x1b[J`,
      );
      await sleep(intervalMs, stop.signal);
    }
  } finally {
    io.out.write('\x1b[?25h\x1b[?1049l');
    process.off('SIGINT', quit);
    io.signal?.removeEventListener('abort', quit);
    if (raw) {
      io.input!.off('data', onKey);
      io.input!.setRawMode(false);
      io.input!.pause();
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export interface RenderOptions {
  url: string;
  /** The reading before this one: rates are the difference. */
  previous?: Reading;
  /** Show the key help line. */
  interactive?: boolean;
  /** Symbols listed, most recently moved first. */
  maxSymbols?: number;
}

/** One frame of `k2 status`, as lines. Pure: the same reading renders the same frame. */
export function renderStatus(reading: Reading, options: RenderOptions): string[] {
  const { status, at } = reading;
  const seconds = options.previous ? (at - options.previous.at) / 1_000 : 0;
  const before = new Map(
    (options.previous?.status.partitions ?? []).map((p) => [
      `${p.topic}\u0000${p.partition}`,
      p.recordsConsumed,
    ]),
  );
  const rateOf = (topic: string, partition: number, consumed: number): number | null => {
    const earlier = before.get(`${topic}\u0000${partition}`);
    return seconds > 0 && earlier !== undefined && consumed >= earlier
      ? (consumed - earlier) / seconds
      : null;
  };
  const rates = status.partitions.map((p) => rateOf(p.topic, p.partition, p.recordsConsumed));
  const known = rates.filter((r): r is number => r !== null);
  const totalLag = status.partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0);
  const health = status.health;

  const lines = [
    `k2 status  ${options.url}  ${clock(at)}  supervisor ${status.state ?? '?'}${status.writerId ? `  writer ${status.writerId}` : ''}`,
    `health ${health.level}${health.since ? ` for ${age(at, health.since)}` : ''}   breakers ${Object.entries(
      status.breakers,
    )
      .map(([dependency, b]) => `${dependency} ${b.state.replace('_', ' ')}`)
      .join(', ')}`,
  ];
  for (const reason of health.reasons) {
    lines.push(
      'signal' in reason
        ? `  ${reason.level}: ${reason.signal} ${count(reason.value)} >= ${count(reason.threshold)}`
        : `  ${reason.level}: ${reason.dependency} circuit ${reason.state.replace('_', ' ')}`,
    );
  }
  if (health.shutdownReason) lines.push(`  shutdown: ${health.shutdownReason}`);
  lines.push(
    `throughput ${known.length > 0 ? `${perSecond(known.reduce((a, b) => a + b, 0))} msg/s` : '- (needs two readings)'}   ` +
      `lag ${count(totalLag)}   partitions ${status.partitions.length}   DLQ ${count(status.dlq.total)}   ` +
      `gaps ${count(status.gaps.detected)} detected, ${count(status.gaps.closed)} closed   ` +
      `journal #${status.journal.lastSeq}${status.journal.lastAt ? ` ${age(at, status.journal.lastAt)} ago` : ''}`,
    '',
  );

  lines.push(
    ...table(
      [
        'TOPIC',
        'PART',
        'STATE',
        'LAG',
        'MSG/S',
        'CONSUMED',
        'FETCHED TO',
        'COMMITTED',
        'DLQ',
        'GAPS',
        'LAST BATCH',
      ],
      status.partitions.map((p, i) => [
        p.topic,
        String(p.partition),
        p.state ?? '-',
        p.lag === null ? '-' : count(p.lag),
        rates[i] === null ? '-' : perSecond(rates[i]!),
        count(p.recordsConsumed),
        offset(p.fetchedThrough),
        offset(p.committedOffset),
        count(p.dlqRecords),
        count(p.gapsDetected),
        p.lastBatchAt ? `${age(at, p.lastBatchAt)} ago` : '-',
      ]),
      'no partitions assigned',
    ),
    '',
  );

  lines.push(
    ...table(
      ['TABLE', 'SNAPSHOTS', 'FILES', 'FAILURES', 'LAST SNAPSHOT', 'AGE', 'RECORDS', 'DURATION'],
      Object.entries(status.tables).map(([name, t]) => [
        name,
        count(t.snapshots),
        count(t.filesWritten),
        count(t.commitFailures),
        t.lastSnapshot?.snapshotId ?? '-',
        t.lastSnapshot ? age(at, t.lastSnapshot.at) : '-',
        t.lastSnapshot ? count(t.lastSnapshot.records) : '-',
        t.lastSnapshot ? `${count(t.lastSnapshot.durationMs)} ms` : '-',
      ]),
      'no table written yet',
    ),
  );
  const lastFailures = Object.entries(status.tables).filter(([, t]) => t.lastFailure);
  for (const [name, t] of lastFailures) {
    lines.push(
      `  ${name} last failure ${age(at, t.lastFailure!.at)} ago: ${t.lastFailure!.code} ${t.lastFailure!.message}`,
    );
  }
  lines.push('');

  lines.push(
    ...table(
      ['ACTOR', 'MACHINE', 'STATE', 'STATUS', 'SINCE'],
      Object.entries(status.actors).map(([id, a]) => [
        id,
        a.machine,
        a.state,
        a.status,
        `${age(at, a.at)} ago`,
      ]),
      'no actors',
    ),
    '',
  );

  const watermarks = [...status.symbols.watermarks].reverse().slice(0, options.maxSymbols ?? 10);
  lines.push(
    ...table(
      ['EXCHANGE', 'SYMBOL', 'COMPLETE THROUGH', 'HIGHEST', 'OPEN GAPS', 'TOPIC', 'PART'],
      watermarks.map((w) => [
        w.exchange,
        w.symbol,
        offset(w.completeThrough),
        offset(w.highest),
        count(w.openGaps),
        w.topic,
        String(w.partition),
      ]),
      'no sequenced symbols yet',
    ),
  );
  const more = status.symbols.shown - watermarks.length;
  if (more > 0 || status.symbols.evicted > 0) {
    lines.push(
      `  ${more} more symbols${status.symbols.evicted > 0 ? `, ${status.symbols.evicted} evicted from /status` : ''}`,
    );
  }
  if (options.interactive) lines.push('', 'q quits');
  return lines;
}

const numeric = /^-?[\d,.]+( ms)?$/;

/** Columns padded to their widest cell; numbers right-aligned. */
function table(headers: string[], rows: string[][], empty: string): string[] {
  if (rows.length === 0) return [headers[0]!, `  (${empty})`];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = headers.map((_, i) => rows.every((r) => numeric.test(r[i]!) || r[i] === '-'));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

function count(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: Number.isInteger(n) ? 0 : 1 });
}

function perSecond(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: n < 10 ? 1 : 0 });
}

/** Lines of at most `width` characters, broken at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** Offsets and sequences are 64-bit decimal strings. */
function offset(value: string | null): string {
  return value === null ? '-' : BigInt(value).toLocaleString('en-US');
}

/** Local wall-clock time, like top. */
function clock(at: number): string {
  return new Date(at).toTimeString().slice(0, 8);
}

/** "4s", "3m12s", "2h05m" from an ISO time to `at`. */
function age(at: number, iso: string): string {
  const s = Math.max(0, Math.round((at - Date.parse(iso)) / 1_000));
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3_600)}h${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`;
}
