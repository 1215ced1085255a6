import { ConfigError } from '../errors/index.js';

/** A parser turns a raw value (a string from the environment, or a JSON value from a file) into a typed one. */
export type Parser<T> = (raw: unknown, key: string) => T;

export const str: Parser<string> = (raw, key) => {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ConfigError(key, 'must be a non-empty string');
  return raw.trim();
};

/** Where to send xstate inspection: '' (off), 'sky' (Stately's hosted inspector) or a ws:// / wss:// URL. */
export const inspectTarget: Parser<string> = (raw, key) => {
  const text = typeof raw === 'string' ? raw.trim() : raw;
  if (text === '' || text === 'sky') return text;
  if (typeof text === 'string' && /^wss?:\/\/[^\s/]+/.test(text)) return text;
  throw new ConfigError(
    key,
    `must be empty, "sky" or a ws:// URL (e.g. ws://127.0.0.1:8080), got ${show(raw)}`,
  );
};

export function int(min: number, max: number = Number.MAX_SAFE_INTEGER): Parser<number> {
  return (raw, key) => {
    const value = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw new ConfigError(key, `must be an integer, got ${show(raw)}`);
    if (value < min || value > max)
      throw new ConfigError(key, `must be between ${min} and ${max}, got ${value}`);
    return value;
  };
}

export const bool: Parser<boolean> = (raw, key) => {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string' && /^(true|1|yes|on)$/i.test(raw.trim())) return true;
  if (typeof raw === 'string' && /^(false|0|no|off)$/i.test(raw.trim())) return false;
  throw new ConfigError(key, `must be true or false, got ${show(raw)}`);
};

export function oneOf<const T extends string>(...choices: T[]): Parser<T> {
  return (raw, key) => {
    if (typeof raw === 'string' && (choices as string[]).includes(raw.trim())) return raw.trim() as T;
    throw new ConfigError(key, `must be one of ${choices.join(', ')}, got ${show(raw)}`);
  };
}

/** host:port pairs, comma-separated in the environment or a JSON array in a file. */
export const hostPorts: Parser<string[]> = (raw, key) => {
  const items = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(items) || items.length === 0)
    throw new ConfigError(key, 'must list at least one host:port');
  return items.map((item) => {
    const text = typeof item === 'string' ? item.trim() : '';
    if (
      !/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(text) ||
      Number(text.slice(text.lastIndexOf(':') + 1)) > 65535
    ) {
      throw new ConfigError(key, `each entry must be host:port, got ${show(item)}`);
    }
    return text;
  });
};

export const httpUrl: Parser<string> = (raw, key) => {
  const text = str(raw, key);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(key, `must be an http(s) URL, got ${show(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(key, `must be an http(s) URL, got ${show(raw)}`);
  return text.replace(/\/+$/, '');
};

/** S3 bucket names per AWS rules (lower case, 3-63 characters). */
export const bucketName: Parser<string> = (raw, key) => {
  const text = str(raw, key);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(text))
    throw new ConfigError(key, `is not a valid bucket name: ${show(raw)}`);
  return text;
};

/** Identifiers that end up in SQL or paths: letters, digits and underscores. */
export const identifier: Parser<string> = (raw, key) => {
  const text = str(raw, key);
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(text))
    throw new ConfigError(key, `must be letters, digits and _, got ${show(raw)}`);
  return text;
};

function show(raw: unknown): string {
  return JSON.stringify(raw) ?? String(raw);
}

/** Kafka topic names (letters, digits, '.', '_', '-'), comma-separated in the environment or a JSON array. */
export const topicList: Parser<string[]> = (raw, key) => {
  const items = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(items) || items.length === 0) throw new ConfigError(key, 'must list at least one topic');
  return topicNames(items, key);
};

/** Like topicList, but may be empty (an empty string in the environment). */
export const optionalTopicList: Parser<string[]> = (raw, key) => {
  if (raw === '' || (Array.isArray(raw) && raw.length === 0)) return [];
  return topicList(raw, key);
};

function topicNames(items: unknown[], key: string): string[] {
  return items.map((item) => {
    const text = typeof item === 'string' ? item.trim() : '';
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(text))
      throw new ConfigError(key, `is not a valid topic name: ${show(item)}`);
    return text;
  });
}
