import { createHash } from 'node:crypto';
import { PoisonRecordError } from '../errors/index.js';
import type { TableName } from '../iceberg/types.js';
import type { MapEntries } from './avro-types.js';
import { rescale, type Unscaled } from './decimal.js';
import type { DecodedRecord } from './rows.js';

/**
 * v1 records (the ASX equities era: millisecond times, scale-6 prices, whole-share volumes,
 * venue fields at top level) upgraded to the v2 shape. Pure; a null where v2 needs a value stays
 * null, so the row rules reject it with the field's name.
 */

/** Namespace of K2's name-based (v5) UUIDs for records that carried no message id. */
const K2_UUID_NAMESPACE = Buffer.from('7a1c5e36b0a94c1f9d2e4b8f6a3d2c10', 'hex');

export function uuidV5(name: string, namespace: Uint8Array = K2_UUID_NAMESPACE): string {
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type Long = number | bigint;

const V2_SCALE = 8;
const V1_SCALE = 6;

function micros(millis: unknown): Long | null {
  if (millis === null || millis === undefined) return null;
  const value = millis as Long;
  return typeof value === 'number' && Number.isSafeInteger(value * 1000)
    ? value * 1000
    : BigInt.asIntN(64, BigInt(value) * 1000n);
}

function decimal(unscaled: unknown, fromScale: number): Unscaled | null {
  if (unscaled === null || unscaled === undefined) return null;
  return rescale(unscaled as Unscaled, fromScale, V2_SCALE) ?? null;
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** Former top-level venue fields, kept as vendor_data; null when there are none. */
function vendorData(record: DecodedRecord, names: readonly string[]): MapEntries | null {
  const keys: string[] = [];
  const values: string[] = [];
  for (const name of names) {
    const value = record[name];
    if (value !== null && value !== undefined) {
      keys.push(name);
      values.push(String(value));
    }
  }
  return keys.length === 0 ? null : { keys, values };
}

const sides: Record<string, string> = { buy: 'BUY', sell: 'SELL', sell_short: 'SELL_SHORT' };
const statuses: Record<string, string> = { active: 'ACTIVE', suspended: 'SUSPENDED', delisted: 'DELISTED' };

function messageId(kind: string, record: DecodedRecord, distinct: unknown): string {
  return uuidV5(`${kind}|${text(record.exchange)}|${text(record.symbol)}|${text(distinct)}`);
}

export function upgradeTrade(v1: DecodedRecord): DecodedRecord {
  const sequence = v1.sequence_number ?? null;
  return {
    message_id: messageId('trade', v1, sequence ?? v1.exchange_timestamp),
    trade_id: text(sequence ?? v1.exchange_timestamp),
    symbol: v1.symbol,
    exchange: v1.exchange,
    asset_class: 'EQUITY',
    timestamp: micros(v1.exchange_timestamp),
    price: decimal(v1.price, V1_SCALE),
    quantity: decimal(v1.volume, 0),
    currency: v1.currency,
    side: sides[String(v1.side ?? '').toLowerCase()] ?? 'UNKNOWN',
    trade_conditions: [],
    source_sequence: sequence,
    ingestion_timestamp: micros(v1.ingestion_timestamp),
    platform_sequence: null,
    vendor_data: vendorData(v1, ['company_id', 'qualifiers', 'venue']),
  };
}

export function upgradeQuote(v1: DecodedRecord): DecodedRecord {
  const sequence = v1.sequence_number ?? null;
  return {
    message_id: messageId('quote', v1, sequence ?? v1.exchange_timestamp),
    symbol: v1.symbol,
    exchange: v1.exchange,
    asset_class: 'EQUITY',
    timestamp: micros(v1.exchange_timestamp),
    bid_price: decimal(v1.bid_price, V1_SCALE),
    bid_size: decimal(v1.bid_volume, 0),
    ask_price: decimal(v1.ask_price, V1_SCALE),
    ask_size: decimal(v1.ask_volume, 0),
    currency: v1.currency,
    source_sequence: sequence,
    ingestion_timestamp: micros(v1.ingestion_timestamp),
    platform_sequence: null,
    vendor_data: vendorData(v1, ['company_id']),
  };
}

export function upgradeReferenceData(v1: DecodedRecord): DecodedRecord {
  const status = statuses[String(v1.status ?? '').toLowerCase()];
  if (status === undefined)
    throw new PoisonRecordError(
      'K2_DECODE_BAD_ENUM',
      `status ${JSON.stringify(v1.status)} is not a listing status`,
    );
  return {
    message_id: messageId('reference_data', v1, v1.listing_date),
    exchange: v1.exchange,
    symbol: v1.symbol,
    name: v1.company_name,
    asset_class: 'EQUITY',
    currency: v1.currency,
    lot_size: decimal(v1.lot_size, 0),
    tick_size: decimal(v1.tick_size, V1_SCALE),
    listing_status: status,
    valid_from: micros(v1.listing_date),
    ingestion_timestamp: micros(v1.ingestion_timestamp),
    vendor_data: vendorData(v1, ['company_id']),
  };
}

export const upgrades: Record<TableName, (v1: DecodedRecord) => DecodedRecord> = {
  trades_v2: upgradeTrade,
  quotes_v2: upgradeQuote,
  reference_data_v2: upgradeReferenceData,
};
