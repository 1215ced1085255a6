import { decimalOf, type PrimitiveType } from './types.js';

/**
 * Iceberg's single-value binary serialisation (spec appendix D), used for manifest lower/upper
 * bounds and partition summaries. Pure functions: no I/O, no state.
 */

/** The JS value of each Iceberg primitive: 64-bit integers and decimal unscaled values as bigint. */
export type BoundValueOf<T extends PrimitiveType> = T extends 'boolean'
  ? boolean
  : T extends 'int' | 'date' | 'float' | 'double'
    ? number
    : T extends 'long' | 'time' | 'timestamp' | 'timestamptz'
      ? bigint
      : T extends 'string' | 'uuid'
        ? string
        : T extends 'binary' | `fixed[${number}]`
          ? Uint8Array
          : T extends `decimal(${number}, ${number})`
            ? bigint
            : never;

export type BoundValue = boolean | number | bigint | string | Uint8Array;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** Serialises one value; throws RangeError or TypeError when the value does not fit the type. */
export function encodeBound<T extends PrimitiveType>(type: T, value: BoundValueOf<T>): Uint8Array {
  const v: unknown = value;
  switch (type) {
    case 'boolean':
      if (typeof v !== 'boolean') throw typeMismatch(type, v);
      return Uint8Array.of(v ? 1 : 0);
    case 'int':
    case 'date': {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < INT_MIN || v > INT_MAX)
        throw new RangeError(`${type} bound must be a 32-bit integer, got ${String(v)}`);
      const out = new Uint8Array(4);
      new DataView(out.buffer).setInt32(0, v, true);
      return out;
    }
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      if (typeof v !== 'bigint' || v < LONG_MIN || v > LONG_MAX)
        throw new RangeError(`${type} bound must be a 64-bit bigint, got ${String(v)}`);
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigInt64(0, v, true);
      return out;
    }
    case 'float':
    case 'double': {
      if (typeof v !== 'number') throw typeMismatch(type, v);
      const out = new Uint8Array(type === 'float' ? 4 : 8);
      const view = new DataView(out.buffer);
      if (type === 'float') view.setFloat32(0, v, true);
      else view.setFloat64(0, v, true);
      return out;
    }
    case 'string':
      if (typeof v !== 'string') throw typeMismatch(type, v);
      return utf8.encode(v);
    case 'uuid':
      if (typeof v !== 'string') throw typeMismatch(type, v);
      return uuidBytes(v);
    case 'binary':
      if (!(v instanceof Uint8Array)) throw typeMismatch(type, v);
      return v.slice();
  }
  const fixed = /^fixed\[(\d+)\]$/.exec(type);
  if (fixed) {
    if (!(v instanceof Uint8Array)) throw typeMismatch(type, v);
    if (v.length !== Number(fixed[1])) throw new RangeError(`${type} bound must have ${fixed[1]} bytes`);
    return v.slice();
  }
  const decimal = decimalOf(type);
  if (decimal) {
    if (typeof v !== 'bigint') throw typeMismatch(type, v);
    const limit = 10n ** BigInt(decimal.precision);
    if (v <= -limit || v >= limit)
      throw new RangeError(`${type} bound ${v} exceeds precision ${decimal.precision}`);
    return twosComplementBytes(v);
  }
  throw new TypeError(`no single-value serialisation for ${type}`);
}

/** Reads one value back; the inverse of encodeBound. */
export function decodeBound<T extends PrimitiveType>(type: T, bytes: Uint8Array): BoundValueOf<T> {
  return decodeAny(type, bytes) as BoundValueOf<T>;
}

function decodeAny(type: PrimitiveType, bytes: Uint8Array): BoundValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = (n: number) => {
    if (bytes.length !== n) throw new RangeError(`${type} bound must have ${n} bytes, got ${bytes.length}`);
  };
  switch (type) {
    case 'boolean':
      width(1);
      return bytes[0] !== 0;
    case 'int':
    case 'date':
      width(4);
      return view.getInt32(0, true);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      width(8);
      return view.getBigInt64(0, true);
    case 'float':
      width(4);
      return view.getFloat32(0, true);
    case 'double':
      width(8);
      return view.getFloat64(0, true);
    case 'string':
      return utf8Strict.decode(bytes);
    case 'uuid':
      width(16);
      return uuidString(bytes);
    case 'binary':
      return bytes.slice();
  }
  if (/^fixed\[\d+\]$/.test(type)) return bytes.slice();
  if (decimalOf(type)) return fromTwosComplementBytes(bytes);
  throw new TypeError(`no single-value serialisation for ${type}`);
}

/** Minimal big-endian two's complement, as Java's BigInteger.toByteArray (0 is one zero byte). */
export function twosComplementBytes(value: bigint): Uint8Array {
  let length = 1;
  while (value < -(1n << BigInt(8 * length - 1)) || value >= 1n << BigInt(8 * length - 1)) length++;
  const out = new Uint8Array(length);
  let rest = BigInt.asUintN(8 * length, value);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/** Big-endian two's complement of any length back to a bigint. */
export function fromTwosComplementBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) throw new RangeError('a decimal needs at least one byte');
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return BigInt.asIntN(8 * bytes.length, value);
}

function uuidBytes(text: string): Uint8Array {
  const hex = text.replaceAll('-', '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex) || !/^[0-9a-fA-F-]{36}$/.test(text))
    throw new RangeError(`not a UUID: ${text}`);
  return Uint8Array.from({ length: 16 }, (_, i) => Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

function uuidString(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function typeMismatch(type: string, value: unknown): TypeError {
  return new TypeError(`${type} bound cannot be ${typeof value}`);
}
