import { afterAll, describe, expect, it } from 'vitest';
import { type Int64Column, int64At, stringAt, type Utf8Column } from '../../src/codec/columns.js';
import { formatDecimal } from '../../src/codec/decimal.js';
import { decodeBound } from '../../src/iceberg/bounds.js';
import { CodecPool } from '../../src/workers/pool.js';
import { batchOf, encode, ids, T0, trade, tradeBatch, writers } from './codec-fixtures.js';

const pool = new CodecPool({ minThreads: 2, maxThreads: 2 });
afterAll(() => pool.destroy());

describe('codec worker pool (real threads)', () => {
  it('decodes a batch in a worker, moving the input buffers instead of copying them', async () => {
    const batch = tradeBatch(2_000);
    const values = batch.values;
    const decoded = await pool.decodeResolved('trades_v2', batch, writers());
    expect(values.byteLength).toBe(0); // detached: transferred to the worker
    expect(decoded.rowCount).toBe(2_000);
    expect(decoded.failures).toEqual([]);
    expect(decoded.taskMillis).toBeGreaterThan(0);
    expect(stringAt(decoded.columns.symbol as Utf8Column, 1)).toBe('ETHUSDT');
    expect(formatDecimal(int64At(decoded.columns.price as Int64Column, 5)!, 8)).toBe('97000.12345683');
    expect(int64At(decoded.columns.timestamp as Int64Column, 7)).toBe(BigInt(T0 + 7_000));
    expect(decoded.offsets[1_999]).toBe(1_999n);
  });

  it('resolves writer schemas on the main thread, once per distinct id in the batch', async () => {
    const asked: number[][] = [];
    const source = {
      writerSchemas: async (requested: readonly number[]) => {
        asked.push([...requested]);
        return writers();
      },
    };
    const values = [
      encode('trade_v2', trade(1)),
      encode('trade', {
        symbol: 'BHP',
        exchange: 'ASX',
        exchange_timestamp: 1_704_067_200_000,
        price: 1,
        volume: 1,
        ingestion_timestamp: 1_704_067_200_000,
      }),
      encode('trade_v2', trade(2)),
      Uint8Array.of(1, 2),
    ];
    const decoded = await pool.decode('trades_v2', batchOf(values), source);
    expect(asked).toEqual([[ids.trade_v2, ids.trade]]);
    expect(decoded.rowCount).toBe(3);
    expect(decoded.failures.map((f) => [f.index, f.code])).toEqual([[3, 'K2_DECODE_TOO_SHORT']]);
    expect(Buffer.from(decoded.failures[0]!.value)).toEqual(Buffer.of(1, 2));
  });

  it('accounts for every input of a hostile batch decoded in a worker', async () => {
    const values = Array.from({ length: 3_000 }, (_, i) => {
      const value = encode('trade_v2', trade(i));
      const at = 5 + (i % (value.length - 5));
      value[at] = value[at]! ^ 0xff;
      return value;
    });
    const decoded = await pool.decodeResolved('trades_v2', batchOf(values), writers());
    expect(decoded.rowCount + decoded.failures.length).toBe(3_000);
    expect(decoded.failures.length).toBeGreaterThan(1_000);
  });

  it('encodes decoded columns to Parquet with statistics, in a worker', async () => {
    const chunks = await Promise.all(
      [0, 1].map((n) => pool.decodeResolved('trades_v2', tradeBatch(1_000, n * 1_000), writers())),
    );
    const priceBuffer = (chunks[0]!.columns.price as Int64Column).values.buffer;
    const file = await pool.encode('trades_v2', chunks);
    expect(priceBuffer.byteLength).toBe(0); // columns moved into the worker too
    expect(Buffer.from(file.bytes.subarray(0, 4)).toString()).toBe('PAR1');
    expect(file.stats.recordCount).toBe(2_000);
    expect(file.stats.valueCounts.get(1)).toBe(2_000);
    expect(decodeBound('timestamptz', file.stats.upperBounds.get(6)!)).toBe(BigInt(T0 + 1_999_000));
  });

  it('queues more tasks than threads instead of refusing them (one thread, eight batches at once)', async () => {
    const single = new CodecPool({ minThreads: 1, maxThreads: 1 });
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          single.decodeResolved('trades_v2', tradeBatch(50, i * 1_000), writers()),
        ),
      );
      expect(results.map((r) => r.rowCount)).toEqual(Array(8).fill(50));
    } finally {
      await single.destroy();
    }
  });

  it('a task that cannot run rejects its promise and leaves the pool serving', async () => {
    await expect(pool.encode('trades_v2', [{ rowCount: 1, columns: {} }])).rejects.toThrow(
      /no column for field message_id/,
    );
    expect((await pool.decodeResolved('trades_v2', tradeBatch(10), writers())).rowCount).toBe(10);
  });
});
