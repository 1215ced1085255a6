import { describe, expect, it } from 'vitest';
import { avroType } from '../../src/codec/avro-types.js';

const record = avroType({ type: 'record', name: 'R', fields: [{ name: 'v', type: 'long' }] } as never);
const roundTrip = (v: number | bigint) =>
  (record.fromBuffer(record.toBuffer({ v })) as { v: number | bigint }).v;

describe('K2 longs', () => {
  it('round-trip exactly across the whole 64-bit range, including odd negatives beyond 2^52', () => {
    const values = [
      0,
      -1,
      2 ** 52 - 1,
      -(2 ** 52) + 1,
      2 ** 52 + 1,
      -(2 ** 52) - 1,
      -9_007_199_254_740_991,
      9_007_199_254_740_991,
      2n ** 63n - 1n,
      -(2n ** 63n),
    ];
    for (const v of values) expect(BigInt(roundTrip(v))).toBe(BigInt(v));
  });

  it('stay plain numbers while exact, bigints beyond', () => {
    expect(typeof roundTrip(1_700_000_000_000_000)).toBe('number');
    expect(typeof roundTrip(2n ** 60n)).toBe('bigint');
  });
});
