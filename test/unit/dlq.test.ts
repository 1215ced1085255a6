import { describe, expect, it } from 'vitest';
import {
  dlqMessage,
  dlqTopicFor,
  jsonSafe,
  MalformedDlqRecordError,
  maxReasonBytes,
  type ProcessingFailure,
  readDlqMessage,
  renderDlqJson,
  type SourceRecord,
  truncateUtf8,
} from '../../src/dlq/index.js';

const avro = Buffer.from([0, 0, 0, 0, 7, 0xff, 0xfe, 0x02]);
const source: SourceRecord = {
  topic: 'market.crypto.trades',
  partition: 4,
  offset: '9223372036854775806',
  key: Buffer.from('BTCUSDT'),
  value: avro,
  headers: {
    'trace-id': Buffer.from('abc'),
    'k2.error.code': 'OLD',
    multi: [Buffer.from('1'), Buffer.from('2')],
  },
  timestamp: '1767225600123',
};
const failure: ProcessingFailure = {
  name: 'DecodeError',
  code: 'K2_DECODE_UNKNOWN_SCHEMA',
  retriable: false,
  message: 'schema id 7 not found in the registry',
  stage: 'decode',
};
const at = new Date('2026-01-01T00:00:01.500Z');

describe('DLQ record', () => {
  it('goes to <topic>.dlq with the original key and value bytes untouched', () => {
    const { topic, message } = dlqMessage(source, failure, at);
    expect(topic).toBe('market.crypto.trades.dlq');
    expect(dlqTopicFor('market.equities.quotes')).toBe('market.equities.quotes.dlq');
    expect(message.key).toBe(source.key);
    expect(message.value).toBe(source.value);
    expect(message.timestamp).toBeUndefined();
  });

  it('keeps the original headers and adds the k2 failure and source headers, replacing stale k2 ones', () => {
    const { message } = dlqMessage(source, failure, at);
    expect(message.headers).toEqual({
      'trace-id': Buffer.from('abc'),
      multi: [Buffer.from('1'), Buffer.from('2')],
      'k2.error.class': 'DecodeError',
      'k2.error.code': 'K2_DECODE_UNKNOWN_SCHEMA',
      'k2.error.reason': 'schema id 7 not found in the registry',
      'k2.error.stage': 'decode',
      'k2.error.retriable': 'false',
      'k2.error.time': '2026-01-01T00:00:01.500Z',
      'k2.source.topic': 'market.crypto.trades',
      'k2.source.partition': '4',
      'k2.source.offset': '9223372036854775806',
      'k2.source.timestamp': '1767225600123',
    });
  });

  it('bounds the reason header, cutting on a character boundary', () => {
    const long = dlqMessage(source, { ...failure, message: '€'.repeat(2_000) }, at);
    const reason = long.message.headers['k2.error.reason'] as string;
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(maxReasonBytes);
    expect(reason.endsWith('€…')).toBe(true);
    expect(truncateUtf8('short', 10)).toBe('short');
    expect(truncateUtf8('a😀b', 5)).toBe('a…');
  });

  it('reads back from consumed bytes exactly what was written', () => {
    const { message } = dlqMessage(source, failure, at);
    // Consumed headers arrive as Buffers.
    const consumed = Object.fromEntries(
      Object.entries(message.headers).map(([k, v]) => [
        k,
        Array.isArray(v) ? v.map((x) => Buffer.from(x)) : Buffer.from(v!),
      ]),
    );
    const record = readDlqMessage({ key: message.key, value: message.value, headers: consumed });
    expect(record).toEqual({
      source: { topic: source.topic, partition: 4, offset: source.offset, timestamp: source.timestamp },
      failure: {
        errorClass: 'DecodeError',
        code: 'K2_DECODE_UNKNOWN_SCHEMA',
        reason: failure.message,
        stage: 'decode',
        retriable: false,
        time: '2026-01-01T00:00:01.500Z',
      },
      key: source.key,
      value: avro,
      headers: { 'trace-id': Buffer.from('abc'), multi: [Buffer.from('1'), Buffer.from('2')] },
    });
    expect(() => readDlqMessage({ key: null, value: null, headers: {} })).toThrow(MalformedDlqRecordError);
  });

  it('renders JSON with times as ISO-8601, bytes as base64, text when it is text, and the preview JSON-safe', () => {
    const record = readDlqMessage(dlqMessage(source, failure, at).message);
    const preview = {
      symbol: 'BTCUSDT',
      price: '64123.45000000',
      quantity: '0.00100000',
      source_sequence: 9_007_199_254_740_993n,
      timestamp: new Date('2026-01-01T00:00:00.000123Z'),
      vendor_data: new Map([['venue', 'spot']]),
      raw: new Uint8Array([1, 2]),
      missing: undefined,
    };
    const json = renderDlqJson(record, preview);
    expect(json).toEqual({
      source: {
        topic: 'market.crypto.trades',
        partition: 4,
        offset: '9223372036854775806',
        timestamp: '2026-01-01T00:00:00.123Z',
      },
      error: {
        class: 'DecodeError',
        code: 'K2_DECODE_UNKNOWN_SCHEMA',
        stage: 'decode',
        retriable: false,
        reason: failure.message,
        time: '2026-01-01T00:00:01.500Z',
      },
      key: { bytes: 7, base64: 'QlRDVVNEVA==', utf8: 'BTCUSDT' },
      value: { bytes: 8, base64: avro.toString('base64') },
      headers: { 'trace-id': 'abc', multi: ['1', '2'] },
      preview: {
        symbol: 'BTCUSDT',
        price: '64123.45000000',
        quantity: '0.00100000',
        source_sequence: '9007199254740993',
        timestamp: '2026-01-01T00:00:00.000Z',
        vendor_data: { venue: 'spot' },
        raw: { base64: 'AQI=' },
      },
    });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(renderDlqJson({ ...record, key: null, value: null })).not.toHaveProperty('preview');
  });

  it('takes the bytes a decode worker hands back as a Uint8Array without copying them', () => {
    const pooled = new Uint8Array(new ArrayBuffer(16), 4, 8);
    pooled.set(avro);
    const { message } = dlqMessage({ ...source, value: pooled }, failure, at);
    expect(Buffer.isBuffer(message.value)).toBe(true);
    expect(message.value?.buffer).toBe(pooled.buffer);
    expect(message.value?.equals(avro)).toBe(true);
  });

  it('renders a text value (JSON produced by mistake) and binary headers', () => {
    const text = dlqMessage(
      { ...source, value: Buffer.from('{"price":1.5}'), headers: { bin: Buffer.from([0xff]) } },
      failure,
      at,
    );
    const json = renderDlqJson(readDlqMessage(text.message));
    expect(json.value).toEqual({
      bytes: 13,
      base64: Buffer.from('{"price":1.5}').toString('base64'),
      utf8: '{"price":1.5}',
    });
    expect(json.headers).toEqual({ bin: { base64: '/w==' } });
  });

  it('makes odd values JSON-safe', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(
      jsonSafe({
        n: Number.NaN,
        i: Number.POSITIVE_INFINITY,
        s: new Set([1n]),
        c: cycle,
        d: new Date(Number.NaN),
      }),
    ).toEqual({
      n: 'NaN',
      i: 'Infinity',
      s: ['1'],
      c: { a: 1, self: '[circular]' },
      d: null,
    });
  });
});
