import { hostname } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/index.js';
import type { Warehouse } from '../iceberg/table.js';

/** `k2 iceberg ...`: inspect and maintain K2's Iceberg tables through the configured catalog and S3. */
export function registerIcebergCommands(program: Command): void {
  const iceberg = program.command('iceberg').description("inspect and maintain K2's Iceberg tables");

  iceberg
    .command('create-tables')
    .description('create market_data.trades_v2, quotes_v2 and reference_data_v2 when missing')
    .option('--namespace <ns>', 'namespace', 'market_data')
    .action((o: { namespace: string }) =>
      withWarehouse(async (w) => {
        const { ensureK2Table } = await import('../iceberg/table.js');
        const { tableNames } = await import('../iceberg/types.js');
        for (const name of tableNames) {
          const table = await ensureK2Table(w, name, o.namespace);
          console.log(`${o.namespace}.${name}  ${table.metadataLocation}`);
        }
      }),
    );

  iceberg
    .command('snapshots <table>')
    .description('the snapshot history of a table, newest first, with summaries')
    .option('--json', 'print JSON')
    .action((table: string, o: { json?: boolean }) =>
      withWarehouse(async (w) => {
        const { loadTable } = await import('../iceberg/table.js');
        const { ancestry } = await import('../iceberg/metadata.js');
        const { stringifyJson } = await import('../iceberg/json.js');
        const snapshots = [...ancestry((await loadTable(w, table)).metadata)];
        if (o.json) return console.log(stringifyJson(snapshots, 2));
        for (const s of snapshots) {
          const summary = s.summary;
          console.log(
            `${s['snapshot-id']}  seq ${s['sequence-number']}  ${new Date(s['timestamp-ms']).toISOString()}  ${summary.operation.padEnd(7)}  ` +
              `+${summary['added-data-files'] ?? 0} -${summary['deleted-data-files'] ?? 0} files  total ${summary['total-data-files'] ?? '?'} files / ${summary['total-records'] ?? '?'} rows  ${summary['k2.commit-id'] ?? ''}`,
          );
        }
      }),
    );

  iceberg
    .command('offsets <table>')
    .description('the next Kafka offset to read per topic-partition, as recorded for a consumer group')
    .requiredOption('--group <group>', 'consumer group')
    .action((table: string, o: { group: string }) =>
      withWarehouse(async (w) => {
        const { loadTable } = await import('../iceberg/table.js');
        const { encodeOffsets, groupOffsets } = await import('../iceberg/offsets.js');
        console.log(encodeOffsets(groupOffsets((await loadTable(w, table)).metadata, o.group)));
      }),
    );

  iceberg
    .command('expire-snapshots <table>')
    .description(
      'drop snapshots older than a duration (keeps the current one and the offsets of every group) and their files',
    )
    .requiredOption('--older-than <duration>', 'e.g. 7d, 12h', duration)
    .option('--retain-last <n>', 'always keep the newest N snapshots', positiveInt, 1)
    .action((table: string, o: { olderThan: number; retainLast: number }) =>
      withWarehouse(async (w) => {
        const { loadTable } = await import('../iceberg/table.js');
        const { expireSnapshots } = await import('../iceberg/maintenance/expire-snapshots.js');
        const result = await expireSnapshots(w, await loadTable(w, table), {
          olderThanMs: Date.now() - o.olderThan,
          retainLast: o.retainLast,
        });
        console.log(
          `expired ${result.expired.length} snapshots, deleted ${result.deletedFiles.length} files`,
        );
      }),
    );

  iceberg
    .command('remove-orphans <table>')
    .description('delete files under the table location that no metadata references, older than a duration')
    .option(
      '--older-than <duration>',
      'only files older than this (commits in flight are younger)',
      duration,
      3 * 86_400_000,
    )
    .option('--dry-run', 'list, do not delete')
    .action((table: string, o: { olderThan: number; dryRun?: boolean }) =>
      withWarehouse(async (w) => {
        const { loadTable } = await import('../iceberg/table.js');
        const { removeOrphanFiles } = await import('../iceberg/maintenance/remove-orphans.js');
        const orphans = await removeOrphanFiles(w, await loadTable(w, table), {
          olderThanMs: Date.now() - o.olderThan,
          dryRun: o.dryRun,
        });
        for (const uri of orphans) console.log(uri);
        console.log(`${o.dryRun ? 'would delete' : 'deleted'} ${orphans.length} orphan files`);
      }),
    );

  iceberg
    .command('compact <table>')
    .description(
      'rewrite small files of closed partitions into large ones (a replace snapshot that keeps the offsets)',
    )
    .option('--target-mb <mb>', 'target file size', positiveInt, 128)
    .option(
      '--closed-after <duration>',
      'a day partition is closed this long after it ends',
      duration,
      3_600_000,
    )
    .action((table: string, o: { targetMb: number; closedAfter: number }) =>
      withWarehouse(async (w) => {
        const { loadTable } = await import('../iceberg/table.js');
        const { compactTable } = await import('../iceberg/maintenance/compact.js');
        const cutoffMs = Date.now() - o.closedAfter;
        const result = await compactTable(w, await loadTable(w, table), {
          writerId: `k2-compact@${hostname()}:${process.pid}`,
          targetFileSizeBytes: o.targetMb * 1024 * 1024,
          closedBeforeDay: Math.floor(cutoffMs / 86_400_000),
          closedBeforeMs: cutoffMs,
        });
        console.log(
          result.commit
            ? `rewrote ${result.rewritten} files into ${result.added} in ${result.groups} partitions (snapshot ${result.commit.snapshot['snapshot-id']})`
            : 'nothing to compact',
        );
      }),
    );
}

async function withWarehouse(task: (warehouse: Warehouse) => Promise<void>): Promise<void> {
  const { openWarehouse } = await import('../iceberg/warehouse.js');
  const warehouse = openWarehouse(loadConfig().config);
  try {
    await task(warehouse);
  } finally {
    await warehouse.close();
  }
}

function duration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError('expected a duration such as 90s, 30m, 12h or 7d');
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    match[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(match[1]) * unit;
}

function positiveInt(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('expected a positive integer');
  return value;
}
