import { avroSchema } from '../../codec/schemas.js';
import { HEADER_BYTES } from '../../codec/wire.js';
import type { DecodeFailureCode } from '../../errors/index.js';

/**
 * Kinds of bad input the synthetic generator injects, each as the raw bytes a broken producer
 * would send, and the decode failure K2 must quarantine it with.
 */
export const poisonCodes = {
  /** Not Confluent-framed: the first byte is not 0. */
  'bad-magic': 'K2_DECODE_BAD_MAGIC',
  /** Framed with a schema id the registry does not have. */
  'unknown-schema': 'K2_DECODE_UNKNOWN_SCHEMA',
  /** A valid record cut short. */
  truncated: 'K2_DECODE_TRUNCATED',
  /** Written with a decimal(20, 10) price whose last digits scale 8 cannot hold. */
  'decimal-scale': 'K2_DECODE_DECIMAL_SCALE',
  /** A price of 10^18 unscaled: beyond decimal(18, 8). */
  'decimal-overflow': 'K2_DECODE_DECIMAL_OVERFLOW',
  /** A negative quantity. */
  'negative-quantity': 'K2_DECODE_NEGATIVE',
  /** Shorter than the 5-byte header. */
  'too-short': 'K2_DECODE_TOO_SHORT',
  /** An empty value. */
  empty: 'K2_DECODE_EMPTY',
} as const satisfies Record<string, DecodeFailureCode>;

export type PoisonKind = keyof typeof poisonCodes;
export const poisonKinds = Object.keys(poisonCodes) as PoisonKind[];

/** A schema id no registry hands out soon: ids are assigned from 1 upwards. */
export const UNKNOWN_SCHEMA_ID = 0x7fff_fff0;

/** Scale of the decimal-scale poison's writer schema. */
export const POISON_DECIMAL_SCALE = 10;

/** trade_v2 with price and quantity as decimal(20, 10): the writer schema of decimal-scale poison. */
export function decimalScaleSchemaText(): string {
  const schema = avroSchema('trade_v2');
  for (const field of schema.fields)
    if (field.name === 'price' || field.name === 'quantity')
      field.type = { type: 'bytes', logicalType: 'decimal', precision: 20, scale: POISON_DECIMAL_SCALE };
  return JSON.stringify(schema);
}

/** Registry subject of the decimal-scale writer schema (kept apart from every topic's subject). */
export const decimalScaleSubject = 'k2.poison.trade_v2_scale10-value';

/** Raw-byte poison made from a valid framed value; `cut` in (0, 1) picks where truncation cuts. */
export function corruptFrame(
  kind: 'bad-magic' | 'unknown-schema' | 'truncated',
  valid: Buffer,
  cut: number,
): Buffer {
  switch (kind) {
    case 'bad-magic': {
      const copy = Buffer.from(valid);
      copy[0] = 1 + (copy[0]! % 255);
      return copy;
    }
    case 'unknown-schema': {
      const copy = Buffer.from(valid);
      copy.writeUInt32BE(UNKNOWN_SCHEMA_ID, 1);
      return copy;
    }
    case 'truncated': {
      const body = valid.length - HEADER_BYTES;
      return Buffer.from(
        valid.subarray(0, HEADER_BYTES + Math.max(1, Math.min(body - 1, Math.floor(body * cut)))),
      );
    }
  }
}
