import type { Int64Column, Utf8Column } from '../../src/codec/columns.js';

/** Longs at the edges that matter to word-wise code: ±2^31, ±2^32, past 2^53, the int64 extremes. */
export const EDGE_LONGS: readonly bigint[] = [
  0n,
  -1n,
  1n,
  2n ** 31n,
  -(2n ** 31n),
  2n ** 32n - 1n,
  2n ** 32n,
  -(2n ** 32n),
  2n ** 53n + 1n,
  -(2n ** 63n),
  2n ** 63n - 1n,
];

/** A seeded linear congruential generator in [0, 1): random tests that replay exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}

/** An Arrow validity bitmap for values where null is missing; null when every value is present. */
export function validityOf(values: readonly unknown[]): Uint8Array | null {
  if (values.every((v) => v !== null)) return null;
  const bits = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => {
    if (v !== null) bits[i >> 3]! |= 1 << (i & 7);
  });
  return bits;
}

/** A string column of the values (null: missing). */
export function utf8Column(values: readonly (string | null)[]): Utf8Column {
  const bytes = values.map((v) => Buffer.from(v ?? ''));
  const offsets = new Int32Array(values.length + 1);
  bytes.forEach((b, i) => {
    offsets[i + 1] = offsets[i]! + b.length;
  });
  return { kind: 'utf8', offsets, data: Uint8Array.from(Buffer.concat(bytes)), validity: validityOf(values) };
}

/** A long column of the values (null: missing). */
export function int64Column(values: readonly (bigint | null)[]): Int64Column {
  return { kind: 'int64', values: BigInt64Array.from(values, (v) => v ?? 0n), validity: validityOf(values) };
}
