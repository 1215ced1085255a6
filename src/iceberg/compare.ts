/**
 * Iceberg's ordering of single values (spec "Sort Orders"): numbers numerically, strings and binary
 * by unsigned bytes (UTF-8 order is code-point order; JS `<` on strings is UTF-16 order and is not).
 */
export type Comparable = string | number | bigint | boolean | Uint8Array;

export function compareValues(a: Comparable, b: Comparable): number {
  if (typeof a === 'string' && typeof b === 'string') return compareBytes(utf8(a), utf8(b));
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  throw new TypeError(`cannot compare ${typeof a} with ${typeof b}`);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const encoder = new TextEncoder();
function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}
