import type { IHeaders } from 'kafkajs';
import type { DlqRecord } from './record.js';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface BytesJson {
  bytes: number;
  base64: string;
  /** Present when the bytes are valid UTF-8 and not Confluent wire format (which starts with byte 0). */
  utf8?: string;
}

export interface DlqJson {
  source: { topic: string; partition: number; offset: string; timestamp: string | null };
  error: { class: string; code: string; stage: string; retriable: boolean; reason: string; time: string };
  key: BytesJson | null;
  value: BytesJson | null;
  headers: Record<string, Json>;
  /** The caller's decoded view of the value, when it could decode it. */
  preview?: Json;
}

/**
 * A DLQ record for people and tools: times as ISO-8601, bytes as base64 (and UTF-8 when they are
 * text), the caller's decoded preview made JSON-safe (decimals and 64-bit integers as strings).
 * `JSON.stringify` of the result is the `k2 dlq` output.
 */
export function renderDlqJson(record: DlqRecord, preview?: unknown): DlqJson {
  const rendered: DlqJson = {
    source: { ...record.source, timestamp: isoFromMillis(record.source.timestamp) },
    error: {
      class: record.failure.errorClass,
      code: record.failure.code,
      stage: record.failure.stage,
      retriable: record.failure.retriable,
      reason: record.failure.reason,
      time: record.failure.time,
    },
    key: record.key && bytesJson(record.key),
    value: record.value && bytesJson(record.value),
    headers: headersJson(record.headers),
  };
  if (preview !== undefined) rendered.preview = jsonSafe(preview);
  return rendered;
}

/**
 * Makes a decoded value JSON-safe without losing precision: bigint and decimal-like values become
 * strings, Dates ISO-8601, bytes base64, Maps objects. Give decimals as strings (or bigint when
 * unscaled is meant); times as Date.
 */
export function jsonSafe(value: unknown, seen = new WeakSet<object>()): Json {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') };
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value) || value instanceof Set) return [...value].map((v) => jsonSafe(v, seen));
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  const out: Record<string, Json> = {};
  for (const [k, v] of entries) if (v !== undefined) out[String(k)] = jsonSafe(v, seen);
  return out;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function bytesJson(bytes: Buffer): BytesJson {
  const json: BytesJson = { bytes: bytes.length, base64: bytes.toString('base64') };
  const text = bytes[0] === 0 ? undefined : utf8(bytes);
  if (text !== undefined) json.utf8 = text;
  return json;
}

function utf8(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function headersJson(headers: IHeaders): Record<string, Json> {
  const headerValue = (v: Buffer | string): Json =>
    typeof v === 'string' ? v : (utf8(v) ?? { base64: v.toString('base64') });
  const out: Record<string, Json> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.map(headerValue) : headerValue(value);
  }
  return out;
}

function isoFromMillis(millis: string): string | null {
  const date = new Date(Number(millis));
  return /^\d+$/.test(millis) && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
}
