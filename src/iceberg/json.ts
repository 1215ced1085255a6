import { isSafeNumber, parse, stringify } from 'lossless-json';

/**
 * JSON for Iceberg metadata. Snapshot ids and sequence numbers are 63-bit, so integers beyond 2^53
 * parse to bigint and bigints serialise as plain JSON numbers; nothing round-trips through a double.
 */
export function parseJson(text: string): unknown {
  return parse(text, null, (value: string) => {
    if (/^-?\d+$/.test(value)) return isSafeNumber(value) ? Number(value) : BigInt(value);
    return Number(value);
  });
}

export function stringifyJson(value: unknown, indent?: number): string {
  const text = stringify(value, undefined, indent);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

/** A JSON integer that must be exact: a bigint whatever its magnitude. */
export function toBigInt(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new TypeError(`${what} is not an integer: ${String(value)}`);
}
