import type { IcebergType, PrimitiveType } from './types.js';

/**
 * Partition transforms (Iceberg spec "Partition Transforms"): pure functions from a source value to
 * the partition value, plus the result type that manifests and bounds use.
 * Timestamps are microseconds since the epoch (bigint), dates are days (number).
 */
export type Transform =
  | { kind: 'identity' }
  | { kind: 'year' }
  | { kind: 'month' }
  | { kind: 'day' }
  | { kind: 'hour' }
  | { kind: 'bucket'; n: number }
  | { kind: 'truncate'; width: number }
  | { kind: 'void' };

export function parseTransform(text: string): Transform {
  const bucket = /^bucket\[(\d+)\]$/.exec(text);
  if (bucket) return { kind: 'bucket', n: Number(bucket[1]) };
  const truncate = /^truncate\[(\d+)\]$/.exec(text);
  if (truncate) return { kind: 'truncate', width: Number(truncate[1]) };
  if (['identity', 'year', 'month', 'day', 'hour', 'void'].includes(text)) return { kind: text } as Transform;
  throw new TypeError(`unknown partition transform ${text}`);
}

export function transformName(t: Transform): string {
  if (t.kind === 'bucket') return `bucket[${t.n}]`;
  if (t.kind === 'truncate') return `truncate[${t.width}]`;
  return t.kind;
}

/** The type of the partition value a transform produces from a source column of `source` type. */
export function resultType(t: Transform, source: IcebergType): PrimitiveType {
  if (typeof source !== 'string') throw new TypeError('partition source columns are primitive');
  switch (t.kind) {
    case 'identity':
    case 'truncate':
    case 'void':
      return source;
    case 'day':
      return 'date';
    default:
      return 'int';
  }
}

export type SourceValue = string | number | bigint | boolean | Uint8Array | null;

const MICROS_PER_HOUR = 3_600_000_000n;
const MICROS_PER_DAY = 86_400_000_000n;

export function applyTransform(t: Transform, type: IcebergType, value: SourceValue): SourceValue {
  if (value === null || t.kind === 'void') return null;
  switch (t.kind) {
    case 'identity':
      return value;
    case 'hour':
      return Number(floorDiv(asMicros(type, value), MICROS_PER_HOUR));
    case 'day':
      return type === 'date' ? Number(value) : Number(floorDiv(asMicros(type, value), MICROS_PER_DAY));
    case 'month':
      return monthsSinceEpoch(epochDay(type, value));
    case 'year':
      return Math.floor(monthsSinceEpoch(epochDay(type, value)) / 12);
    case 'bucket':
      return (murmur3Hash(type, value) & 0x7fffffff) % t.n;
    case 'truncate':
      return truncate(t.width, value);
  }
}

/** The partition-value range a source range [from, to] (inclusive) maps to, for order-preserving transforms. */
export function transformRange(
  t: Transform,
  type: IcebergType,
  from: SourceValue,
  to: SourceValue,
): { from: SourceValue; to: SourceValue } | undefined {
  if (t.kind === 'bucket' || t.kind === 'void') return undefined;
  return { from: applyTransform(t, type, from), to: applyTransform(t, type, to) };
}

function asMicros(type: IcebergType, value: SourceValue): bigint {
  if (type === 'date') return BigInt(value as number) * MICROS_PER_DAY;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw new TypeError(`not a timestamp in microseconds: ${String(value)}`);
}

function epochDay(type: IcebergType, value: SourceValue): number {
  return type === 'date' ? Number(value) : Number(floorDiv(asMicros(type, value), MICROS_PER_DAY));
}

function monthsSinceEpoch(day: number): number {
  const date = new Date(day * 86_400_000);
  return (date.getUTCFullYear() - 1970) * 12 + date.getUTCMonth();
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function truncate(width: number, value: SourceValue): SourceValue {
  if (typeof value === 'string') return Array.from(value).slice(0, width).join('');
  if (typeof value === 'number') return value - (((value % width) + width) % width);
  if (typeof value === 'bigint') {
    const w = BigInt(width);
    return value - (((value % w) + w) % w);
  }
  if (value instanceof Uint8Array) return value.subarray(0, width);
  throw new TypeError(`truncate does not apply to ${typeof value}`);
}

/** Iceberg's bucket hash input: ints, longs, dates and timestamps as 8-byte LE longs; strings as UTF-8. */
function murmur3Hash(type: IcebergType, value: SourceValue): number {
  if (typeof value === 'string') return murmur3x86_32(new TextEncoder().encode(value));
  if (value instanceof Uint8Array) return murmur3x86_32(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigInt64(0, BigInt(value), true);
    return murmur3x86_32(bytes);
  }
  throw new TypeError(`bucket does not apply to ${typeof value} (${String(type)})`);
}

/** MurmurHash3 x86 32-bit, seed 0, as a signed 32-bit int (Guava's murmur3_32 as Iceberg uses it). */
export function murmur3x86_32(data: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = data.length >>> 2;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < blocks; i++) {
    let k = view.getUint32(i * 4, true);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  const rest = data.length & 3;
  if (rest > 0) {
    let k = 0;
    for (let i = rest - 1; i >= 0; i--) k = (k << 8) | data[tail + i]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
