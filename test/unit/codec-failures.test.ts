import { describe, expect, it } from 'vitest';
import {
  type DecodeFailure,
  defaultDecodeLimits,
  TableDecoder,
  type WriterSchemas,
} from '../../src/codec/decode.js';
import { avroSchema } from '../../src/codec/schemas.js';
import { decodeFailureCodes, RegistryUnavailableError, UnknownSchemaError } from '../../src/errors/index.js';
import { Registry } from '../../src/registry/registry.js';
import { batchOf, encode, ids, trade, writers } from './codec-fixtures.js';

function tradeVariant(edit: (fields: { name: string; type: unknown; default?: unknown }[]) => void): string {
  const schema = avroSchema('trade_v2');
  edit(schema.fields);
  return JSON.stringify(schema);
}

/** Decodes one value and returns its failure (or undefined when it became a row). */
function failureOf(
  value: Uint8Array | null,
  extra: WriterSchemas = {},
  decoder = new TableDecoder('trades_v2'),
) {
  const batch = decoder.decode(batchOf([value], 500n), writers(extra));
  expect(batch.rowCount + batch.failures.length).toBe(1);
  const failure = batch.failures[0];
  if (failure) {
    expect(failure.offset).toBe(500n);
    expect(Buffer.from(failure.value)).toEqual(Buffer.from(value ?? new Uint8Array(0)));
  }
  return failure;
}

const good = () => encode('trade_v2', trade(1));

describe('bad input becomes a typed failure with the original bytes, never a thrown batch', () => {
  it('empty value (and a tombstone)', () => {
    expect(failureOf(new Uint8Array(0))?.code).toBe('K2_DECODE_EMPTY');
    expect(failureOf(null)?.code).toBe('K2_DECODE_EMPTY');
  });

  it('value shorter than the 5-byte header', () => {
    for (const length of [1, 2, 3, 4])
      expect(failureOf(good().subarray(0, length))?.code).toBe('K2_DECODE_TOO_SHORT');
  });

  it('wrong magic byte', () => {
    const value = good();
    value[0] = 1;
    expect(failureOf(value)).toMatchObject({ code: 'K2_DECODE_BAD_MAGIC', retriable: false });
  });

  it('unknown schema id: poison, whether the registry said so or the id was never resolved', () => {
    const value = encode('trade_v2', trade(1), 4242);
    const fromRegistry = failureOf(value, { 4242: { error: new UnknownSchemaError(4242).toJSON() } });
    expect(fromRegistry).toMatchObject({
      code: 'K2_DECODE_UNKNOWN_SCHEMA',
      retriable: false,
      schemaId: 4242,
    });
    expect(failureOf(value)).toMatchObject({ code: 'K2_DECODE_UNKNOWN_SCHEMA', retriable: false });
  });

  it('registry unreachable: retriable, distinguished from poison', async () => {
    const registry = new Registry({
      url: 'http://127.0.0.1:9/apis/ccompat/v7',
      timeoutMs: 1_000,
      retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 2 },
    });
    await expect(registry.schemaText(11)).rejects.toBeInstanceOf(RegistryUnavailableError);
    const resolved = await registry.writerSchemas([11]);
    const failure = new TableDecoder('trades_v2').decode(batchOf([good()]), resolved).failures[0];
    expect(failure).toMatchObject({ code: 'K2_REGISTRY_UNAVAILABLE', retriable: true });
  });

  it('truncated Avro body', () => {
    const value = good();
    for (const cut of [1, 2, 5, 9])
      expect(failureOf(value.subarray(0, value.length - cut))?.code, `cut ${cut}`).toBe(
        'K2_DECODE_TRUNCATED',
      );
  });

  it('trailing bytes after the record', () => {
    const failure = failureOf(Buffer.concat([good(), Buffer.from([0, 1])]));
    expect(failure).toMatchObject({ code: 'K2_DECODE_TRAILING_BYTES', reason: '2 bytes follow the record' });
  });

  it('missing required field: absent from the writer schema, or null in a nullable writer field', () => {
    const withoutSymbol = tradeVariant((fields) => {
      fields.splice(
        fields.findIndex((f) => f.name === 'symbol'),
        1,
      );
    });
    const { symbol: _s, ...record } = trade(1);
    const absent = failureOf(encode(withoutSymbol, record, 70), { 70: { schema: withoutSymbol } });
    expect(absent).toMatchObject({
      code: 'K2_DECODE_MISSING_FIELD',
      reason: 'symbol is required but missing',
    });

    const nullable = tradeVariant((fields) => {
      fields.find((f) => f.name === 'exchange')!.type = ['null', 'string'];
    });
    const writer = { 71: { schema: nullable } };
    expect(failureOf(encode(nullable, trade(1, { exchange: null }), 71), writer)?.reason).toBe(
      'exchange is required but missing',
    );
    expect(failureOf(encode(nullable, trade(1), 71), writer)).toBeUndefined();
  });

  it('wrong enum symbol: only records that carry it fail, not the whole writer schema', () => {
    const wider = tradeVariant((fields) => {
      fields.find((f) => f.name === 'side')!.type = {
        type: 'enum',
        name: 'TradeSide',
        symbols: ['BUY', 'SELL', 'SELL_SHORT', 'UNKNOWN', 'CROSS'],
      };
    });
    const writer = { 72: { schema: wider } };
    expect(failureOf(encode(wider, trade(1, { side: 'CROSS' }), 72), writer)).toMatchObject({
      code: 'K2_DECODE_BAD_ENUM',
      reason: 'com.k2.marketdata.TradeSide: CROSS is not a known symbol',
    });
    expect(failureOf(encode(wider, trade(1, { side: 'BUY' }), 72), writer)).toBeUndefined();
    // An index past the symbols of the writer schema the header names.
    expect(failureOf(encode(wider, trade(1, { side: 'CROSS' }), ids.trade_v2))?.code).toBe(
      'K2_DECODE_BAD_ENUM',
    );
  });

  it('decimal with another scale: rescaled when exact, refused when digits would be lost', () => {
    const scale10 = tradeVariant((fields) => {
      fields.find((f) => f.name === 'price')!.type = {
        type: 'bytes',
        logicalType: 'decimal',
        precision: 20,
        scale: 10,
      };
    });
    const writer = { 73: { schema: scale10 } };
    expect(failureOf(encode(scale10, trade(1, { price: 1_234_500_000_000n }), 73), writer)).toBeUndefined();
    expect(failureOf(encode(scale10, trade(1, { price: 1_234_567_890_123n }), 73), writer)?.code).toBe(
      'K2_DECODE_DECIMAL_SCALE',
    );
  });

  it('never guesses units: a plain-bytes price or a plain-long timestamp makes the writer schema unreadable', () => {
    const plainBytes = tradeVariant((fields) => {
      fields.find((f) => f.name === 'price')!.type = 'bytes';
    });
    const bytesValue = encode(plainBytes, trade(1, { price: Buffer.from([1]) }), 74);
    expect(failureOf(bytesValue, { 74: { schema: plainBytes } })?.code).toBe('K2_DECODE_INCOMPATIBLE_SCHEMA');
    const plainLong = tradeVariant((fields) => {
      fields.find((f) => f.name === 'timestamp')!.type = 'long';
    });
    const longValue = encode(plainLong, trade(1), 75);
    expect(failureOf(longValue, { 75: { schema: plainLong } })?.code).toBe('K2_DECODE_INCOMPATIBLE_SCHEMA');
    const millis = tradeVariant((fields) => {
      fields.find((f) => f.name === 'timestamp')!.type = { type: 'long', logicalType: 'timestamp-millis' };
    });
    const millisValue = encode(millis, trade(1, { timestamp: 1_704_067_200_123 }), 76);
    expect(failureOf(millisValue, { 76: { schema: millis } })).toBeUndefined(); // rescaled ×1000
  });

  it('decimal overflowing precision 18', () => {
    expect(failureOf(encode('trade_v2', trade(1, { price: 10n ** 18n })))).toMatchObject({
      code: 'K2_DECODE_DECIMAL_OVERFLOW',
      reason: 'price unscaled 1000000000000000000 exceeds precision 18',
    });
    expect(failureOf(encode('trade_v2', trade(1, { price: -(10n ** 18n) })))?.code).toBe(
      'K2_DECODE_DECIMAL_OVERFLOW',
    );
    expect(failureOf(encode('trade_v2', trade(1, { price: 10n ** 18n - 1n })))).toBeUndefined();
  });

  it('negative quantity (a negative price is a market reality and passes)', () => {
    expect(failureOf(encode('trade_v2', trade(1, { quantity: -1 })))).toMatchObject({
      code: 'K2_DECODE_NEGATIVE',
      reason: 'quantity must not be negative',
    });
    expect(failureOf(encode('trade_v2', trade(1, { price: -3_700_000_000 })))).toBeUndefined();
  });

  it('timestamp out of range (nanoseconds sent as micros, before the epoch, configurable bounds)', () => {
    expect(failureOf(encode('trade_v2', trade(1, { timestamp: 1_704_067_200_000_000_000n })))?.code).toBe(
      'K2_DECODE_TIMESTAMP_RANGE',
    );
    expect(failureOf(encode('trade_v2', trade(1, { ingestion_timestamp: -1 })))?.reason).toMatch(
      /^ingestion_timestamp/,
    );
    const strict = new TableDecoder('trades_v2', {
      ...defaultDecodeLimits,
      minTimestampMicros: 1_704_067_200_000_000n,
      maxTimestampMicros: 1_704_153_600_000_000n,
    });
    expect(
      failureOf(encode('trade_v2', trade(1, { timestamp: 1_704_153_600_000_001 })), {}, strict)?.code,
    ).toBe('K2_DECODE_TIMESTAMP_RANGE');
  });

  it('oversized message, against the configured limit', () => {
    const value = good();
    const limit = (maxMessageBytes: number) =>
      new TableDecoder('trades_v2', { ...defaultDecodeLimits, maxMessageBytes });
    expect(failureOf(value, {}, limit(value.length - 1))).toMatchObject({ code: 'K2_DECODE_OVERSIZED' });
    expect(failureOf(value, {}, limit(value.length))).toBeUndefined();
  });

  it('non-UTF-8 string', () => {
    const value = encode('trade_v2', trade(1, { symbol: 'ZZZZ' }));
    value.set([0xff, 0xfe, 0xc3, 0x28], value.indexOf('ZZZZ'));
    expect(failureOf(value)).toMatchObject({
      code: 'K2_DECODE_INVALID_UTF8',
      reason: 'symbol is not valid UTF-8',
    });
    const surrogate = encode('trade_v2', trade(1, { vendor_data: { note: 'ZZZ' } }));
    surrogate.set([0xed, 0xa0, 0x80], surrogate.indexOf('ZZZ')); // a UTF-16 surrogate encoded as UTF-8
    expect(failureOf(surrogate)?.code).toBe('K2_DECODE_INVALID_UTF8');
    expect(failureOf(encode('trade_v2', trade(1, { symbol: 'Zürich-€-日本' })))).toBeUndefined();
  });

  it('empty identity string', () => {
    expect(failureOf(encode('trade_v2', trade(1, { symbol: '' })))).toMatchObject({
      code: 'K2_DECODE_EMPTY_STRING',
    });
  });

  it('a mixed batch keeps every good record, in order, and accounts for every input', () => {
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(0, 0),
      encode('trade_v2', trade(9, { quantity: -5 })),
      Buffer.concat([good(), Buffer.of(0)]),
    ];
    const values: Uint8Array[] = [];
    for (let i = 0; i < 40; i++)
      values.push(i % 5 === 4 ? bad[((i / 5) % 4) | 0]! : encode('trade_v2', trade(i)));
    const batch = new TableDecoder('trades_v2').decode(batchOf(values, 1_000n), writers());
    expect(batch.rowCount).toBe(32);
    expect(batch.failures).toHaveLength(8);
    expect(batch.failures.map((f: DecodeFailure) => f.index)).toEqual([4, 9, 14, 19, 24, 29, 34, 39]);
    expect([...batch.offsets].includes(1_004n)).toBe(false);
    expect(batch.offsets[4]).toBe(1_005n);
    for (const failure of batch.failures) expect(decodeFailureCodes).toContain(failure.code);
  });
});
