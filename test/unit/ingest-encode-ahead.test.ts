import { describe, expect, it } from 'vitest';
import { type DecodedBatch, TableDecoder } from '../../src/codec/decode.js';
import type { DataFile } from '../../src/iceberg/datafile.js';
import type { Warehouse } from '../../src/iceberg/table.js';
import { type EncodeRows, PartitionIngest } from '../../src/ingest/partition-ingest.js';
import { type EncodedFile, TableWriter } from '../../src/ingest/table-writer.js';
import type { CodecPool } from '../../src/workers/pool.js';
import { tradeBatch, writers } from './codec-fixtures.js';

const decoder = new TableDecoder('trades_v2');
const decoded = (count: number, from: number): DecodedBatch =>
  decoder.decode(tradeBatch(count, from), writers());

/** An encoder that records what it was handed and answers one file per call. */
function recordingEncoder(): { encode: EncodeRows; calls: { rows: number; chunks: number }[] } {
  const calls: { rows: number; chunks: number }[] = [];
  const encode: EncodeRows = async (chunks, keep) => {
    const rows = chunks.reduce((n, chunk, i) => n + (keep[i]?.length ?? chunk.rowCount), 0);
    calls.push({ rows, chunks: chunks.length });
    return [{ bytes: new Uint8Array(rows), dataFile: { filePath: `f${calls.length}` } as DataFile }];
  };
  return { encode, calls };
}

describe('encoding a partition’s rows ahead of the commit', () => {
  it('hands the buffered batches over once, and the sealed range still covers every offset', async () => {
    const state = new PartitionIngest('market.crypto.trades', 0, 'trades_v2', 0n);
    const { encode, calls } = recordingEncoder();
    state.accept(decoded(30, 0), 0n, 30n, 300);
    state.accept(decoded(20, 30), 30n, 50n, 200);
    expect(state.buffered).toEqual({ rows: 50, bytes: 500, unencodedRows: 50 });

    state.encodeAhead(encode);
    expect(calls).toEqual([{ rows: 50, chunks: 2 }]);
    expect(state.buffered).toEqual({ rows: 50, bytes: 500, unencodedRows: 0 });
    state.encodeAhead(encode); // nothing new buffered: nothing to encode
    expect(calls).toHaveLength(1);

    state.accept(decoded(10, 50), 50n, 60n, 100);
    const sealed = state.seal()!;
    expect([sealed.fromOffset, sealed.nextOffset, sealed.rows, sealed.unencodedRows]).toEqual([
      0n,
      60n,
      60,
      10,
    ]);
    expect(sealed.chunks.map((c) => c.rowCount)).toEqual([10]);
    const ahead = await Promise.all(sealed.encodedAhead);
    expect(ahead.flat().map((f) => f.dataFile.filePath)).toEqual(['f1']);
    // The next range starts empty.
    expect(state.buffered).toEqual({ rows: 0, bytes: 0, unencodedRows: 0 });
  });

  it('counts only the rows that survive dedupe, so resent records are never encoded', () => {
    const state = new PartitionIngest('market.crypto.trades', 0, 'trades_v2', 0n);
    const { encode, calls } = recordingEncoder();
    state.accept(decoded(10, 0), 0n, 10n, 100);
    state.encodeAhead(encode);
    // The same ten trades again, at later offsets (a producer retry): all dropped.
    state.accept(decoded(10, 0), 10n, 20n, 100);
    expect(state.buffered.unencodedRows).toBe(0);
    state.encodeAhead(encode);
    expect(calls).toEqual([{ rows: 10, chunks: 1 }]);
    expect(state.seal()!.rows).toBe(10);
  });

  it('fails the whole range at commit when an early encode failed, so its rows are read again', async () => {
    const state = new PartitionIngest('market.crypto.trades', 2, 'trades_v2', 100n);
    state.accept(decoded(5, 0), 100n, 105n, 50);
    state.encodeAhead(() => Promise.reject(new Error('worker exited')));
    const sealed = state.seal()!;
    // Nothing left to encode at the commit: the writer needs neither the pool nor the table.
    const writer = new TableWriter(
      'trades_v2',
      'market_data.trades_v2',
      {} as Warehouse,
      {} as CodecPool,
      'g',
      'w',
    );
    await expect(writer.encode(sealed)).rejects.toThrow('worker exited');
  });

  it('keeps files encoded ahead first, in the order they were encoded', async () => {
    const state = new PartitionIngest('market.crypto.trades', 0, 'trades_v2', 0n);
    const { encode } = recordingEncoder();
    let release: (files: EncodedFile[]) => void = () => undefined;
    state.accept(decoded(4, 0), 0n, 4n, 40);
    state.encodeAhead(() => new Promise((resolve) => (release = resolve))); // slow
    state.accept(decoded(6, 4), 4n, 10n, 60);
    state.encodeAhead(encode); // fast
    const writer = new TableWriter('trades_v2', 'x', {} as Warehouse, {} as CodecPool, 'g', 'w');
    const encoding = writer.encode(state.seal()!);
    release([{ bytes: new Uint8Array(4), dataFile: { filePath: 'slow' } as DataFile }]);
    const { files, fromOffset, nextOffset } = await encoding;
    expect(files.map((f) => f.dataFile.filePath)).toEqual(['slow', 'f1']);
    expect([fromOffset, nextOffset]).toEqual([0n, 10n]);
  });
});
