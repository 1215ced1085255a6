import type { Unscaled } from '../codec/decimal.js';

/**
 * The v2 records as producers build them, field for field as in schemas/avro. Timestamps are
 * microseconds, decimals are unscaled integers at scale 8 (never floats), longs are exact.
 */
export const assetClasses = ['CRYPTO', 'EQUITY', 'FX', 'FUTURE', 'OPTION', 'OTHER'] as const;
export type AssetClass = (typeof assetClasses)[number];

export const tradeSides = ['BUY', 'SELL', 'SELL_SHORT', 'UNKNOWN'] as const;
export type TradeSide = (typeof tradeSides)[number];

export const listingStatuses = ['ACTIVE', 'SUSPENDED', 'DELISTED'] as const;
export type ListingStatus = (typeof listingStatuses)[number];

/** Scale of every v2 decimal. */
export const DECIMAL_SCALE = 8;

export type Micros = number | bigint;
export type Long = number | bigint;
export type VendorData = Record<string, string> | null;

export interface TradeV2 {
  message_id: string;
  trade_id: string;
  symbol: string;
  exchange: string;
  asset_class: AssetClass;
  timestamp: Micros;
  price: Unscaled;
  quantity: Unscaled;
  currency: string;
  side: TradeSide;
  trade_conditions: string[];
  source_sequence: Long | null;
  ingestion_timestamp: Micros;
  platform_sequence: Long | null;
  vendor_data: VendorData;
}

export interface QuoteV2 {
  message_id: string;
  symbol: string;
  exchange: string;
  asset_class: AssetClass;
  timestamp: Micros;
  bid_price: Unscaled;
  bid_size: Unscaled;
  ask_price: Unscaled;
  ask_size: Unscaled;
  currency: string;
  source_sequence: Long | null;
  ingestion_timestamp: Micros;
  platform_sequence: Long | null;
  vendor_data: VendorData;
}

export interface ReferenceDataV2 {
  message_id: string;
  exchange: string;
  symbol: string;
  name: string;
  asset_class: AssetClass;
  currency: string;
  lot_size: Unscaled;
  tick_size: Unscaled;
  listing_status: ListingStatus;
  valid_from: Micros;
  ingestion_timestamp: Micros;
  vendor_data: VendorData;
}

export interface RecordTypes {
  trade_v2: TradeV2;
  quote_v2: QuoteV2;
  reference_data_v2: ReferenceDataV2;
}
export type RecordName = keyof RecordTypes;
