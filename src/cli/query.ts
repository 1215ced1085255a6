import { writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config/index.js';
import type { OutputFormat, TimestampStyle } from '../query/format/index.js';
import type { QueryParams } from '../query/request.js';
import type { OpenQueryServiceOptions, QueryService } from '../query/service.js';

/** Flags every `k2 query` subcommand takes, by their query parameter names. */
interface CommonFlags {
  table?: string;
  namespace?: string;
  symbols?: string;
  exchanges?: string;
  from?: string;
  to?: string;
  source?: string;
  group?: string;
  topics?: string;
  snapshot?: string;
  maxRows?: string;
  maxWindow?: string;
  timeout?: string;
  strict?: boolean;
  format?: OutputFormat;
  timestamps: TimestampStyle;
  output?: string;
  cacheDir?: string;
  cacheMaxMb?: number;
}

/**
 * `k2 query <kind>`: the hybrid query (committed Iceberg rows plus the Kafka tail), and `k2 serve`:
 * the same queries over HTTP (GET /query) on loopback.
 */
export function registerQueryCommands(program: Command): void {
  const query = program
    .command('query')
    .description(
      'query committed Iceberg data plus the uncommitted Kafka tail (hybrid), deduplicated by message_id',
    );

  const kind = (name: string, description: string) =>
    withCommonFlags(query.command(name).description(description));

  kind('trades', 'trades for symbols in a time window, oldest first')
    .option('--last <n>', 'only the newest N trades of the window')
    .action((o: CommonFlags & { last?: string }) => runQuery('trades', o, { last: o.last }));

  kind('bars', 'OHLCV bars per exchange and symbol')
    .addOption(
      new Option('--interval <interval>', 'bar width').choices(['1s', '1m', '1h', '1d']).default('1m'),
    )
    .action((o: CommonFlags & { interval: string }) => runQuery('bars', o, { interval: o.interval }));

  kind('vwap', 'volume-weighted average price per exchange and symbol over the window').action(
    (o: CommonFlags) => runQuery('vwap', o, {}),
  );

  kind('latest', 'the last trade and last quote per exchange and symbol')
    .option('--quotes-table <name>', 'quotes table', 'quotes_v2')
    .action((o: CommonFlags & { quotesTable: string }) =>
      runQuery('latest', o, { 'quotes-table': o.quotesTable }),
    );

  kind('gaps', "exchange sequence gaps: the supervisor's gaps table, else computed from the trades")
    .option('--gaps-table <name>', 'gaps table', 'sequence_gaps')
    .action((o: CommonFlags & { gapsTable: string }) => runQuery('gaps', o, { 'gaps-table': o.gapsTable }));

  kind(
    'stats',
    'snapshots, files, rows and bytes per table and partition, and the uncommitted tail per partition',
  )
    .argument('[table]', 'table (default trades_v2)')
    .action((table: string | undefined, o: CommonFlags) =>
      runQuery('stats', { ...o, table: table ?? o.table }, {}),
    );

  kind('sql', 'one SELECT over views named after the tables (trades, quotes, any table of the namespace)')
    .argument('<sql...>', 'the SELECT statement')
    .action((sql: string[], o: CommonFlags) => runQuery('sql', o, { sql: sql.join(' ') }));

  program
    .command('serve')
    .description('serve GET /query (and /healthz) over HTTP on loopback')
    .option('--host <host>', 'bind address (loopback unless you mean otherwise)', '127.0.0.1')
    .option('--port <port>', 'port', port, 9465)
    .option('--max-concurrent <n>', 'queries at once; more get HTTP 429', positiveInt, 4)
    .option('--cache-dir <dir>', 'local cache of Iceberg data files')
    .option('--cache-max-mb <mb>', 'bound of the cache', positiveInt)
    .action(
      (o: { host: string; port: number; maxConcurrent: number; cacheDir?: string; cacheMaxMb?: number }) =>
        serve(o),
    );
}

function withCommonFlags(command: Command): Command {
  return command
    .option('--table <name>', 'table, with or without namespace (default trades_v2)')
    .option('--namespace <ns>', 'namespace of unqualified table names', 'market_data')
    .option('--symbols <list>', 'comma-separated symbols')
    .option('--exchanges <list>', 'comma-separated exchanges')
    .option('--from <time>', 'window start (inclusive): ISO-8601, microseconds, now, -15m')
    .option('--to <time>', 'window end (exclusive), default now')
    .addOption(
      new Option('--source <side>', 'which side answers (sql defaults to iceberg)').choices([
        'hybrid',
        'iceberg',
        'kafka',
      ]),
    )
    .option('--group <group>', 'consumer group whose recorded offsets start the tail (default kafka.groupId)')
    .option('--topics <list>', 'topics feeding the table (default: those the group recorded)')
    .option('--snapshot <id>', 'answer as of this snapshot (its files and its offsets)')
    .option('--max-rows <n>', 'refuse answers with more rows (default 100000)')
    .option('--max-window <duration>', 'refuse longer windows (default 31d)')
    .option('--timeout <duration>', 'interrupt the query after this long (default 60s)')
    .option('--strict', 'fail instead of answering from Iceberg alone when the Kafka tail cannot be read')
    .addOption(
      new Option('--format <format>', 'output format (default: table on a terminal, else json)').choices([
        'table',
        'json',
        'csv',
        'arrow',
      ]),
    )
    .addOption(new Option('--timestamps <style>', 'timestamps as').choices(['iso', 'micros']).default('iso'))
    .option('--output <file>', 'write the answer to a file instead of stdout')
    .option('--cache-dir <dir>', 'local cache of Iceberg data files')
    .option('--cache-max-mb <mb>', 'bound of the cache', positiveInt);
}

async function runQuery(
  kind: string,
  o: CommonFlags,
  extra: Record<string, string | undefined>,
): Promise<void> {
  const { parseQueryRequest } = await import('../query/request.js');
  const { nowMicros } = await import('../query/time.js');
  const { render, summaryLine } = await import('../query/format/index.js');
  const params: Record<string, string | undefined> = {
    kind,
    table: o.table,
    namespace: o.namespace,
    symbols: o.symbols,
    exchanges: o.exchanges,
    from: o.from,
    to: o.to,
    source: o.source,
    group: o.group,
    topics: o.topics,
    snapshot: o.snapshot,
    'max-rows': o.maxRows,
    'max-window': o.maxWindow,
    timeout: o.timeout,
    strict: o.strict ? 'true' : undefined,
    ...extra,
  };
  const request = parseQueryRequest(
    Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as QueryParams,
    nowMicros(),
  );
  const format = o.format ?? (process.stdout.isTTY ? 'table' : 'json');
  if (format === 'arrow' && !o.output && process.stdout.isTTY) {
    throw new InvalidArgumentError('Arrow IPC is binary: pass --output <file> or pipe stdout');
  }
  const service = await openService(o);
  try {
    const result = await service.run(request);
    const body = render(result, format, o.timestamps);
    if (o.output) await writeFile(o.output, body);
    else process.stdout.write(body);
    for (const warning of result.meta.warnings)
      console.error(`k2: warning: ${warning.message} [${warning.code}]`);
    if (format !== 'json') console.error(summaryLine(result.meta, result.rows.length));
  } finally {
    await service.close();
  }
}

async function openService(
  o: { cacheDir?: string; cacheMaxMb?: number },
  extra: OpenQueryServiceOptions = {},
): Promise<QueryService> {
  const { openQueryService } = await import('../query/service.js');
  return openQueryService(loadConfig().config, {
    ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
    ...(o.cacheMaxMb ? { cacheMaxBytes: o.cacheMaxMb * 1024 * 1024 } : {}),
    ...extra,
  });
}

async function serve(o: {
  host: string;
  port: number;
  maxConcurrent: number;
  cacheDir?: string;
  cacheMaxMb?: number;
}): Promise<void> {
  const { createServer } = await import('node:http');
  const { createQueryHandler } = await import('../query/http.js');
  const service = await openService(o, { maxConcurrent: o.maxConcurrent });
  const handle = createQueryHandler({
    service,
    onError: (error) =>
      console.error(`k2 serve: ${error instanceof Error ? (error.stack ?? error.message) : error}`),
  });
  const server: Server = createServer((req, res) => {
    if (handle(req, res)) return;
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('ok\n');
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: GET /query\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  const bound =
    typeof address === 'object' && address ? `${address.address}:${address.port}` : `${o.host}:${o.port}`;
  console.error(`k2 serve: GET http://${bound}/query?kind=...`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await service.close();
}

function positiveInt(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('expected a positive integer');
  return value;
}

function port(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535)
    throw new InvalidArgumentError('expected a port');
  return value;
}
