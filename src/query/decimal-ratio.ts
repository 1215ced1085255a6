import { pow10 } from '../codec/decimal.js';

/**
 * numerator / denominator, both exact decimals given as unscaled values and scales, as an unscaled
 * value at `scale`, rounded half to even: a VWAP is reproducible from the exact notional and volume
 * printed beside it. Undefined when the denominator is zero.
 */
export function divideDecimal(
  numerator: bigint,
  numeratorScale: number,
  denominator: bigint,
  denominatorScale: number,
  scale: number,
): bigint | undefined {
  if (denominator === 0n) return undefined;
  // value = (n / 10^ns) / (d / 10^ds); unscaled at `scale` = n * 10^(scale + ds - ns) / d.
  const shift = scale + denominatorScale - numeratorScale;
  let n = numerator;
  let d = denominator;
  if (shift >= 0) n *= pow10(shift);
  else d *= pow10(-shift);
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const quotient = n / d;
  const remainder = n % d;
  if (remainder === 0n) return quotient;
  const twice = 2n * (remainder < 0n ? -remainder : remainder);
  const away = twice > d || (twice === d && quotient % 2n !== 0n);
  if (!away) return quotient;
  return n < 0n ? quotient - 1n : quotient + 1n;
}
