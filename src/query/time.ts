/**
 * Times in queries are microseconds since the epoch (UTC) as bigint, the unit of the tables'
 * timestamptz columns. Input accepts ISO-8601 (microsecond precision kept), raw microseconds, `now`
 * and `now-<duration>` / `-<duration>`; output is ISO-8601 with six fractional digits.
 */

export const MICROS_PER_MS = 1_000n;
export const MICROS_PER_SECOND = 1_000_000n;
export const MICROS_PER_DAY = 86_400_000_000n;

const units: Record<string, bigint> = {
  us: 1n,
  ms: MICROS_PER_MS,
  s: MICROS_PER_SECOND,
  m: 60n * MICROS_PER_SECOND,
  h: 3_600n * MICROS_PER_SECOND,
  d: MICROS_PER_DAY,
};

/** `90s`, `15m`, `1h`, `7d`, `500ms`, `250us` → microseconds; undefined when not a duration. */
export function parseDuration(text: string): bigint | undefined {
  const match = /^(\d{1,12})(us|ms|s|m|h|d)$/.exec(text.trim());
  return match ? BigInt(match[1]!) * units[match[2]!]! : undefined;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** ISO-8601 date or date-time → microseconds; no zone means UTC. Undefined when not ISO or not a real date. */
export function parseIso(text: string): bigint | undefined {
  const match = ISO.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone = 'Z'] = match;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (
    Number.isNaN(ms) ||
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    return undefined;
  }
  if (fraction.length > 6 && /[1-9]/.test(fraction.slice(6))) return undefined;
  const micros = BigInt(ms) * MICROS_PER_MS + BigInt(fraction.slice(0, 6).padEnd(6, '0'));
  return micros - zoneOffsetMicros(zone);
}

function zoneOffsetMicros(zone: string): bigint {
  if (zone.toUpperCase() === 'Z') return 0n;
  const digits = zone.replace(':', '');
  const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
  return BigInt(digits[0] === '-' ? -minutes : minutes) * 60n * MICROS_PER_SECOND;
}

/**
 * An instant as users write it: ISO-8601, microseconds since the epoch (digits only), `now`, or
 * `now-15m` / `-15m`. Undefined when it is none of these.
 */
export function parseInstant(text: string, now: bigint): bigint | undefined {
  const trimmed = text.trim();
  if (trimmed === 'now') return now;
  const relative = /^(?:now)?-(.+)$/.exec(trimmed);
  if (relative) {
    const span = parseDuration(relative[1]!);
    return span === undefined ? undefined : now - span;
  }
  if (/^\d{1,19}$/.test(trimmed)) return BigInt(trimmed);
  return parseIso(trimmed);
}

/** 1735689600000123n → 2025-01-01T00:00:00.000123Z. */
export function formatIso(micros: bigint): string {
  const ms = micros / MICROS_PER_MS - (micros % MICROS_PER_MS < 0n ? 1n : 0n);
  const sub = micros - ms * MICROS_PER_MS;
  const base = new Date(Number(ms)).toISOString();
  return `${base.slice(0, -1)}${String(sub).padStart(3, '0')}Z`;
}

/** `1h`, `90s`, `2d 3h`: a duration in the largest whole units, for messages. */
export function formatDuration(micros: bigint): string {
  for (const [unit, size] of [
    ['d', MICROS_PER_DAY],
    ['h', units.h!],
    ['m', units.m!],
    ['s', MICROS_PER_SECOND],
    ['ms', MICROS_PER_MS],
  ] as const) {
    if (micros >= size && micros % size === 0n) return `${micros / size}${unit}`;
  }
  return `${micros}us`;
}

export function nowMicros(): bigint {
  return BigInt(Date.now()) * MICROS_PER_MS;
}
