/**
 * Exact decimals as unscaled integers: 123.45 at scale 8 is 12_345_000_000n. Values travel as
 * `number` only while they are safe integers, otherwise as bigint; never as a float amount.
 */
export type Unscaled = number | bigint;

const powersOfTen = Array.from({ length: 39 }, (_, i) => 10n ** BigInt(i));

export function pow10(exponent: number): bigint {
  const power = powersOfTen[exponent];
  if (power === undefined) throw new RangeError(`10^${exponent} is outside the supported decimal range`);
  return power;
}

/** |value| < 10^precision. */
export function fitsPrecision(value: Unscaled, precision: number): boolean {
  if (typeof value === 'number') return precision >= 16 || Math.abs(value) < 10 ** precision;
  const limit = pow10(precision);
  return value > -limit && value < limit;
}

/**
 * Moves an unscaled value from one scale to another without rounding; undefined when that would
 * drop non-zero digits (12.345 cannot be held at scale 2).
 */
export function rescale(value: Unscaled, from: number, to: number): Unscaled | undefined {
  if (from === to) return value;
  const big = BigInt(value);
  if (to > from) return normalise(big * pow10(to - from));
  const divisor = pow10(from - to);
  return big % divisor === 0n ? normalise(big / divisor) : undefined;
}

/** A safe integer as number, anything larger as bigint. */
export function normalise(value: bigint): Unscaled {
  return value >= -9_007_199_254_740_991n && value <= 9_007_199_254_740_991n ? Number(value) : value;
}

/** "-123.45" at scale 8 → -12_345_000_000n. Rejects more fractional digits than the scale allows. */
export function parseDecimal(text: string, scale: number): bigint {
  const match = /^([+-])?(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal number: ${JSON.stringify(text)}`);
  const [, sign, whole = '0', fraction = ''] = match;
  if (fraction.length > scale && /[1-9]/.test(fraction.slice(scale)))
    throw new RangeError(`${text} has more than ${scale} decimal places`);
  const unscaled = BigInt(whole + fraction.slice(0, scale).padEnd(scale, '0'));
  return sign === '-' ? -unscaled : unscaled;
}

/** -12_345_000_000n at scale 8 → "-123.45000000" (always `scale` fractional digits). */
export function formatDecimal(unscaled: Unscaled, scale: number): string {
  const big = BigInt(unscaled);
  const digits = (big < 0n ? -big : big).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return big < 0n ? `-${text}` : text;
}

/** Minimal big-endian two's complement bytes of an unscaled value, as Avro and Iceberg store decimals. */
export { fromTwosComplementBytes, twosComplementBytes } from '../iceberg/bounds.js';
