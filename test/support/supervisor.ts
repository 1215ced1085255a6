import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { expect } from 'vitest';
import { type K2Config, loadConfig } from '../../src/config/index.js';
import { liveEntries } from '../../src/iceberg/entries.js';
import { decodeOffsets, groupOffsets, offsetsKey } from '../../src/iceberg/offsets.js';
import { loadTable, readManifestFiles } from '../../src/iceberg/table.js';
import { openWarehouse } from '../../src/iceberg/warehouse.js';
import { endOffsets, unique } from './stack.js';

/** Env giving a test's supervisor `topic` with a consumer group and a catalog of its own, named after `name`. */
export function pipelineEnv(topic: string, name: string) {
  return {
    K2_TOPICS: topic,
    K2_KAFKA_GROUP_ID: unique(`${name}-group`),
    K2_CATALOG_NAME: unique(name).replace('-', '_'),
  };
}

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
  const ends = await endOffsets(topic, [...config.kafka.brokers]);
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
  identifier = 'market_data.trades_v2',
): Promise<Record<string, unknown>[]> {
  const warehouse = openWarehouse(config);
  try {
    const table = await loadTable(warehouse, identifier);
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

/** partition → next offset, as the table's current snapshot records them for the group. */
export async function lastSnapshotOffsets(config: K2Config, topic: string): Promise<Map<number, bigint>> {
  const warehouse = openWarehouse(config);
  try {
    const table = await loadTable(warehouse, 'market_data.trades_v2');
    const current = table.metadata.snapshots?.find(
      (s) => s['snapshot-id'] === table.metadata['current-snapshot-id'],
    );
    const recorded = current?.summary[offsetsKey(config.kafka.groupId)];
    return recorded ? (decodeOffsets(recorded).get(topic) ?? new Map()) : new Map();
  } finally {
    await warehouse.close();
  }
}

/**
 * Exactly once, checked from outside: once the table records the end offsets, it holds every
 * produced message_id once and nothing else, and its current snapshot records the end offsets.
 */
export async function expectLandedOnce(
  config: K2Config,
  topic: string,
  produced: readonly string[],
  options: { timeoutMs?: number; output?: () => string } = {},
): Promise<void> {
  const context = () =>
    options.output ? `\nlast lines of the supervisor:\n${lastLines(options.output(), 40)}` : '';
  try {
    await waitForCommitted(config, topic, options.timeoutMs ?? 60_000);
  } catch (error) {
    throw new Error(`${(error as Error).message}${context()}`);
  }
  const ids = (await tableRows(config, 'message_id')).map((r) => r.message_id as string);
  const wanted = new Set(produced);
  const seen = new Set<string>();
  const duplicates = ids.filter((id) => seen.size === seen.add(id).size);
  const missing = produced.filter((id) => !seen.has(id));
  const unexpected = [...seen].filter((id) => !wanted.has(id));
  expect(
    {
      rows: ids.length,
      duplicates: duplicates.slice(0, 5),
      missing: missing.slice(0, 5),
      unexpected: unexpected.slice(0, 5),
    },
    context(),
  ).toEqual({ rows: produced.length, duplicates: [], missing: [], unexpected: [] });
  const ends = [...(await endOffsets(topic, [...config.kafka.brokers]))].filter(([, end]) => end > 0n);
  const recorded = await lastSnapshotOffsets(config, topic);
  expect(
    [...recorded].sort(([a], [b]) => a - b),
    context(),
  ).toEqual(ends.sort(([a], [b]) => a - b));
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

/** Waits until the table's current snapshot records some offset of `topic` for the group. */
export async function waitForFirstCommit(config: K2Config, topic: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const recorded = await lastSnapshotOffsets(config, topic).catch(() => new Map<number, bigint>());
    if ([...recorded.values()].some((offset) => offset > 0n)) return;
    if (Date.now() > deadline) throw new Error(`nothing of ${topic} committed in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
