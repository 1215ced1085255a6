import { describe, expect, it } from 'vitest';
import {
  decodeBound,
  encodeBound,
  fromTwosComplementBytes,
  twosComplementBytes,
} from '../../src/iceberg/bounds.js';
import type { PrimitiveType } from '../../src/iceberg/types.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('Iceberg single-value binary encoding', () => {
  it('writes each primitive in the layout the spec gives (appendix D)', () => {
    expect(hex(encodeBound('boolean', true))).toBe('01');
    expect(hex(encodeBound('boolean', false))).toBe('00');
    expect(hex(encodeBound('int', 1))).toBe('01000000');
    expect(hex(encodeBound('int', -2))).toBe('feffffff');
    expect(hex(encodeBound('date', 19_723))).toBe('0b4d0000');
    expect(hex(encodeBound('long', 1n))).toBe('0100000000000000');
    expect(hex(encodeBound('long', -1n))).toBe('ffffffffffffffff');
    // 2024-01-01T00:00:00Z in microseconds
    expect(hex(encodeBound('timestamptz', 1_704_067_200_000_000n))).toBe('00202110d70d0600');
    expect(hex(encodeBound('string', 'iceberg'))).toBe(Buffer.from('iceberg').toString('hex'));
    expect(hex(encodeBound('string', 'Zürich €'))).toBe(Buffer.from('Zürich €', 'utf8').toString('hex'));
    expect(hex(encodeBound('double', 1))).toBe('000000000000f03f');
    expect(hex(encodeBound('float', 1))).toBe('0000803f');
    expect(hex(encodeBound('uuid', 'f79c3e09-677c-4bbd-a479-3f349cb785e7'))).toBe(
      'f79c3e09677c4bbda4793f349cb785e7',
    );
    expect(hex(encodeBound('fixed[3]', Uint8Array.of(1, 2, 3)))).toBe('010203');
    expect(hex(encodeBound('binary', Uint8Array.of(9)))).toBe('09');
  });

  it('writes decimals as minimal big-endian two’s complement of the unscaled value, as Java BigInteger does', () => {
    const cases: [bigint, string][] = [
      [0n, '00'],
      [1n, '01'],
      [-1n, 'ff'],
      [127n, '7f'],
      [128n, '0080'],
      [-128n, '80'],
      [-129n, 'ff7f'],
      [1234n, '04d2'],
      [255n, '00ff'],
      [32_767n, '7fff'],
      [32_768n, '008000'],
      [999_999_999_999_999_999n, '0de0b6b3a763ffff'],
      [-999_999_999_999_999_999n, 'f21f494c589c0001'],
    ];
    for (const [unscaled, expected] of cases) {
      expect(hex(encodeBound('decimal(18, 8)', unscaled)), String(unscaled)).toBe(expected);
      expect(decodeBound('decimal(18, 8)', Buffer.from(expected, 'hex'))).toBe(unscaled);
    }
  });

  it('round-trips every primitive type through decodeBound', () => {
    const values: [PrimitiveType, unknown][] = [
      ['boolean', true],
      ['int', -2_147_483_648],
      ['int', 2_147_483_647],
      ['date', -1],
      ['long', -(2n ** 63n)],
      ['long', 2n ** 63n - 1n],
      ['time', 86_399_999_999n],
      ['timestamp', 0n],
      ['timestamptz', -1n],
      ['float', 1.5],
      ['double', -0.1],
      ['string', ''],
      ['string', '日本語'],
      ['uuid', '00000000-0000-0000-0000-0000000000ff'],
      ['binary', Uint8Array.of(0, 255)],
      ['fixed[2]', Uint8Array.of(7, 8)],
      ['decimal(38, 10)', -(10n ** 37n)],
      ['decimal(9, 2)', 99_999_999n],
    ];
    for (const [type, value] of values) {
      const encode = encodeBound as (t: PrimitiveType, v: unknown) => Uint8Array;
      expect(decodeBound(type, encode(type, value)), type).toEqual(value);
    }
  });

  it('rejects values that do not fit their type instead of writing a wrong bound', () => {
    expect(() => encodeBound('int', 2 ** 31)).toThrow(RangeError);
    expect(() => encodeBound('int', 1.5)).toThrow(RangeError);
    expect(() => encodeBound('long', 2n ** 63n)).toThrow(RangeError);
    expect(() => encodeBound('decimal(18, 8)', 10n ** 18n)).toThrow(/precision 18/);
    expect(() => encodeBound('decimal(18, 8)', -(10n ** 18n))).toThrow(/precision 18/);
    expect(() => encodeBound('fixed[2]', Uint8Array.of(1))).toThrow(RangeError);
    expect(() => encodeBound('uuid', 'not-a-uuid')).toThrow(RangeError);
    expect(() => (encodeBound as (t: string, v: unknown) => Uint8Array)('string', 5)).toThrow(TypeError);
  });

  it('rejects bytes of the wrong width or invalid UTF-8 when reading', () => {
    expect(() => decodeBound('long', new Uint8Array(4))).toThrow(RangeError);
    expect(() => decodeBound('int', new Uint8Array(8))).toThrow(RangeError);
    expect(() => decodeBound('decimal(18, 8)', new Uint8Array(0))).toThrow(RangeError);
    expect(() => decodeBound('string', Uint8Array.of(0xc3, 0x28))).toThrow(TypeError);
  });

  it('two’s complement helpers are inverse and minimal over a wide range', () => {
    for (let bits = 0; bits < 130; bits += 3) {
      for (const v of [1n << BigInt(bits), -(1n << BigInt(bits)), (1n << BigInt(bits)) - 1n]) {
        expect(fromTwosComplementBytes(twosComplementBytes(v))).toBe(v);
        const bytes = twosComplementBytes(v);
        // Minimal: dropping the first byte would change the value.
        if (bytes.length > 1) expect(fromTwosComplementBytes(bytes.subarray(1))).not.toBe(v);
      }
    }
  });
});
