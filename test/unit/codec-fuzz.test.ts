import { describe, expect, it } from 'vitest';
import type { Column } from '../../src/codec/columns.js';
import { TableDecoder } from '../../src/codec/decode.js';
import { decodeFailureCodes } from '../../src/errors/index.js';
import { batchOf, encode, ids, trade, writers } from './codec-fixtures.js';

/** mulberry32: a seeded generator, so a failing input can be reproduced from the seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function columnLength(column: Column): number {
  return column.kind === 'int64' ? column.values.length : column.offsets.length - 1;
}

const SEED = 20_261_123;
const INPUTS = 100_000;
const BATCH = 5_000;

describe('decode fuzzing', () => {
  it(`${INPUTS} random and mutated inputs: no crash, every input a row or a typed failure`, () => {
    const next = random(SEED);
    const int = (n: number) => Math.floor(next() * n);
    const seeds = Array.from({ length: 64 }, (_, i) => encode('trade_v2', trade(i)));
    const v1 = encode('trade', {
      symbol: 'BHP',
      exchange: 'ASX',
      exchange_timestamp: 1_704_067_200_000,
      price: 1,
      volume: 1,
      ingestion_timestamp: 1_704_067_200_000,
    });
    seeds.push(v1);
    const mutate = (): Uint8Array => {
      const source = seeds[int(seeds.length)]!;
      const value = Buffer.from(source);
      switch (int(8)) {
        case 0: // pure noise, sometimes behind a valid header
          return int(2) === 0
            ? Uint8Array.from({ length: int(200) }, () => int(256))
            : Buffer.concat([value.subarray(0, 5), Uint8Array.from({ length: int(200) }, () => int(256))]);
        case 1: // bit flips
          for (let k = 1 + int(3); k > 0; k--) {
            const at = int(value.length);
            value[at] = value[at]! ^ (1 << int(8));
          }
          return value;
        case 2: // byte replacements in the body
          for (let k = 1 + int(4); k > 0; k--) value[5 + int(value.length - 5)] = int(256);
          return value;
        case 3: // truncation
          return value.subarray(0, int(value.length));
        case 4: // extension
          return Buffer.concat([value, Uint8Array.from({ length: 1 + int(8) }, () => int(256))]);
        case 5: {
          // a varint bomb (huge length or block count) spliced in
          const at = 5 + int(value.length - 5);
          const bomb = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
          return Buffer.concat([value.subarray(0, at), bomb, value.subarray(at)]);
        }
        case 6: // another schema id in the header (known, unknown, v1)
          value.writeUInt32BE([ids.trade, ids.quote_v2, 999, ids.trade_v2][int(4)]!, 1);
          return value;
        default: {
          // a deleted span
          const at = int(value.length);
          return Buffer.concat([value.subarray(0, at), value.subarray(at + 1 + int(6))]);
        }
      }
    };

    const decoder = new TableDecoder('trades_v2');
    const resolved = writers();
    const seen = new Map<string, number>();
    let rows = 0;
    for (let done = 0; done < INPUTS; done += BATCH) {
      const inputs = Array.from({ length: BATCH }, mutate);
      const batch = decoder.decode(batchOf(inputs, BigInt(done)), resolved);
      expect(batch.rowCount + batch.failures.length).toBe(BATCH);
      for (const column of Object.values(batch.columns)) expect(columnLength(column)).toBe(batch.rowCount);
      expect(batch.offsets.length).toBe(batch.rowCount);
      for (const failure of batch.failures) {
        expect(decodeFailureCodes).toContain(failure.code);
        expect(failure.retriable).toBe(false);
        expect(Buffer.from(failure.value).equals(Buffer.from(inputs[failure.index]!))).toBe(true);
        seen.set(failure.code, (seen.get(failure.code) ?? 0) + 1);
      }
      rows += batch.rowCount;
    }
    // The generator reaches the interesting paths, not only one kind of failure.
    for (const code of [
      'K2_DECODE_TRUNCATED',
      'K2_DECODE_TRAILING_BYTES',
      'K2_DECODE_BAD_MAGIC',
      'K2_DECODE_UNKNOWN_SCHEMA',
      'K2_DECODE_INVALID_UTF8',
      'K2_DECODE_BAD_ENUM',
      'K2_DECODE_INCOMPATIBLE_SCHEMA',
    ])
      expect(seen.get(code) ?? 0, code).toBeGreaterThan(0);
    expect(rows).toBeGreaterThan(0);
    expect(rows + [...seen.values()].reduce((a, b) => a + b, 0)).toBe(INPUTS);
  });
});
