import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { type K2Config, loadConfig } from '../../src/config/index.js';
import { liveEntries } from '../../src/iceberg/entries.js';
import { groupOffsets } from '../../src/iceberg/offsets.js';
import { loadTable, readManifestFiles } from '../../src/iceberg/table.js';
import { openWarehouse } from '../../src/iceberg/warehouse.js';
import { kafka } from './stack.js';

/** A supervisor config on the local stack with its own group and catalog, so tests never share a table. */
export function supervisorConfig(env: Record<string, string>): K2Config {
  return loadConfig({
    env: { K2_HTTP_PORT: '0', K2_COMMIT_INTERVAL_MS: '500', ...env },
    stackFile: '.k2/stack.json',
  }).config;
}

/** Waits until the table records, for the group, every partition's end offset. */
export async function waitForCommitted(
  config: K2Config,
  topic: string,
  timeoutMs = 60_000,
): Promise<Map<number, bigint>> {
  const admin = kafka().admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  await admin.disconnect();
  const warehouse = openWarehouse(config);
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const table = await loadTable(warehouse, 'market_data.trades_v2').catch(() => undefined);
      const recorded = table
        ? (groupOffsets(table.metadata, config.kafka.groupId).get(topic) ?? new Map())
        : new Map();
      if ([...ends].every(([p, end]) => end === 0n || recorded.get(p) === end)) return recorded;
      if (Date.now() > deadline)
        throw new Error(`not committed in time: ends ${[...ends]} recorded ${[...recorded]}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await warehouse.close();
  }
}

/** Every row of the table's current snapshot, read with DuckDB from the data files. */
export async function tableRows(
  config: K2Config,
  columns = 'message_id, symbol, source_sequence',
): Promise<Record<string, unknown>[]> {
  const warehouse = openWarehouse(config);
  try {
    const table = await loadTable(warehouse, 'market_data.trades_v2');
    const snapshot = table.metadata.snapshots?.find(
      (s) => s['snapshot-id'] === table.metadata['current-snapshot-id'],
    );
    const dir = mkdtempSync(join(tmpdir(), 'k2-rows-'));
    const paths: string[] = [];
    const live = await liveEntries(warehouse.io, await readManifestFiles(warehouse.io, snapshot));
    for (const entry of live.flatMap((m) => m.entries)) {
      const path = join(dir, `${paths.length}.parquet`);
      writeFileSync(path, await warehouse.io.read(entry.dataFile.filePath));
      paths.push(path);
    }
    if (paths.length === 0) return [];
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    const list = paths.map((p) => `'${p}'`).join(',');
    const reader = await connection.runAndReadAll(`SELECT ${columns} FROM read_parquet([${list}])`);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    await warehouse.close();
  }
}
