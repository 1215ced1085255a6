import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableDecoder } from '../../src/codec/decode.js';
import { encodeParquet } from '../../src/codec/parquet.js';
import { decodeBound } from '../../src/iceberg/bounds.js';
import { tableSchema } from '../../src/iceberg/types.js';
import { T0, tradeBatch, writers } from './codec-fixtures.js';

let dir: string;
let db: Awaited<ReturnType<DuckDBInstance['connect']>>;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'k2-parquet-'));
  db = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rows(sql: string) {
  return (await db.runAndReadAll(sql)).getRowObjectsJson();
}

describe('Parquet encoding', () => {
  it('writes the Iceberg physical types and field ids that DuckDB reads back', async () => {
    const decoded = new TableDecoder('trades_v2').decode(tradeBatch(1_000), writers());
    const { bytes } = await encodeParquet(tableSchema('trades_v2'), [decoded]);
    const path = join(dir, 'types.parquet');
    writeFileSync(path, bytes);
    const schema = await rows(
      `SELECT name, type, logical_type, field_id, repetition_type FROM parquet_schema('${path}') WHERE type IS NOT NULL OR field_id IS NOT NULL`,
    );
    const byName = Object.fromEntries(schema.map((r) => [r.name, r]));
    expect(byName.price).toMatchObject({
      type: 'INT64',
      logical_type: 'DecimalType(scale=8, precision=18)',
      field_id: '7',
    });
    expect(byName.quantity).toMatchObject({ type: 'INT64', field_id: '8' });
    expect(byName.timestamp).toMatchObject({ type: 'INT64', field_id: '6' });
    expect(String(byName.timestamp?.logical_type)).toContain('isAdjustedToUTC=1');
    expect(String(byName.timestamp?.logical_type)).toContain('MICROS=MicroSeconds()');
    expect(byName.message_id).toMatchObject({
      type: 'BYTE_ARRAY',
      logical_type: 'StringType()',
      field_id: '1',
      repetition_type: 'REQUIRED',
    });
    expect(byName.source_sequence).toMatchObject({
      type: 'INT64',
      field_id: '12',
      repetition_type: 'OPTIONAL',
    });
    expect(byName.trade_conditions).toMatchObject({ logical_type: 'ListType()', field_id: '11' });
    expect(byName.element).toMatchObject({ type: 'BYTE_ARRAY', field_id: '16' });
    expect(byName.vendor_data).toMatchObject({ logical_type: 'MapType()', field_id: '15' });
    expect(byName.key).toMatchObject({ field_id: '17', repetition_type: 'REQUIRED' });
    expect(byName.value).toMatchObject({ field_id: '18' });
    const meta = await rows(`SELECT DISTINCT compression, row_group_id FROM parquet_metadata('${path}')`);
    expect(meta).toEqual([{ compression: 'ZSTD', row_group_id: '0' }]);
  });

  it('keeps values exact: decimals, 64-bit longs and microsecond timestamps', async () => {
    const decoded = new TableDecoder('trades_v2').decode(tradeBatch(10), writers());
    const { bytes } = await encodeParquet(tableSchema('trades_v2'), [decoded]);
    const path = join(dir, 'values.parquet');
    writeFileSync(path, bytes);
    const [first] = await rows(
      `SELECT price::VARCHAR AS price, quantity::VARCHAR AS quantity, epoch_us("timestamp")::VARCHAR AS ts, trade_conditions, vendor_data['venue'] AS venue, source_sequence FROM '${path}' WHERE trade_id = '5000000001'`,
    );
    expect(first).toEqual({
      price: '97000.12345679',
      quantity: '1.01234568',
      ts: String(T0 + 1_000),
      trade_conditions: ['@', 'C1'],
      venue: 'spot',
      source_sequence: '1000001',
    });
  });

  it('computes Iceberg statistics that agree with the file footer and the data', async () => {
    const decoder = new TableDecoder('trades_v2');
    const chunks = [
      decoder.decode(tradeBatch(500), writers()),
      decoder.decode(tradeBatch(700, 500), writers()),
    ];
    const { bytes, stats } = await encodeParquet(tableSchema('trades_v2'), chunks);
    const path = join(dir, 'stats.parquet');
    writeFileSync(path, bytes);
    expect(stats.recordCount).toBe(1_200);
    expect(stats.splitOffsets).toEqual([4]);
    const footer = await rows(
      `SELECT path_in_schema, num_values, stats_null_count, total_compressed_size FROM parquet_metadata('${path}')`,
    );
    const leafIds: Record<string, number> = {
      'trade_conditions, list, element': 16,
      'vendor_data, entries, key': 17,
      'vendor_data, entries, value': 18,
    };
    for (const leaf of footer) {
      const field = tableSchema('trades_v2').fields.find((f) => f.name === leaf.path_in_schema);
      const id = field?.id ?? leafIds[String(leaf.path_in_schema)] ?? -1;
      expect(stats.columnSizes.get(id), String(leaf.path_in_schema)).toBe(Number(leaf.total_compressed_size));
      expect(stats.valueCounts.get(id), String(leaf.path_in_schema)).toBe(Number(leaf.num_values));
      expect(stats.nullValueCounts.get(id), String(leaf.path_in_schema)).toBe(Number(leaf.stats_null_count));
    }
    const [agg] = await rows(
      `SELECT min(price)::VARCHAR AS lo, max(price)::VARCHAR AS hi, min(epoch_us("timestamp"))::VARCHAR AS t0, max(epoch_us("timestamp"))::VARCHAR AS t1, min(symbol) AS s0, max(symbol) AS s1, max(source_sequence)::VARCHAR AS q1 FROM '${path}'`,
    );
    expect(decodeBound('decimal(18, 8)', stats.lowerBounds.get(7)!)).toBe(9_700_012_345_678n);
    expect(agg?.lo).toBe('97000.12345678');
    expect(decodeBound('decimal(18, 8)', stats.upperBounds.get(7)!)).toBe(9_700_012_345_678n + 1199n);
    expect(String(decodeBound('timestamptz', stats.lowerBounds.get(6)!))).toBe(agg?.t0);
    expect(String(decodeBound('timestamptz', stats.upperBounds.get(6)!))).toBe(agg?.t1);
    expect(decodeBound('string', stats.lowerBounds.get(3)!)).toBe(agg?.s0);
    expect(decodeBound('string', stats.upperBounds.get(3)!)).toBe(agg?.s1);
    expect(String(decodeBound('long', stats.upperBounds.get(12)!))).toBe(agg?.q1);
    expect(stats.lowerBounds.has(16)).toBe(false); // no bounds inside lists and maps
    expect(stats.nanValueCounts.size).toBe(0);
  });
});
