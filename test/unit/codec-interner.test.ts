import { describe, expect, it } from 'vitest';
import type { Utf8Column } from '../../src/codec/columns.js';
import { Interner } from '../../src/codec/interner.js';

function column(values: (string | null)[]): Utf8Column {
  const encoder = new TextEncoder();
  const parts = values.map((v) => encoder.encode(v ?? ''));
  const offsets = new Int32Array(values.length + 1);
  parts.forEach((p, i) => {
    offsets[i + 1] = offsets[i]! + p.length;
  });
  const data = new Uint8Array(offsets[values.length]!);
  parts.forEach((p, i) => {
    data.set(p, offsets[i]!);
  });
  const validity = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v !== null) validity[i >> 3]! |= 1 << (i & 7);
  });
  return { kind: 'utf8', offsets, data, validity };
}

describe('Interner', () => {
  it('gives each row its value, the same string for the same bytes, and null for a null row', () => {
    const values = ['BTCUSDT', 'ETHUSDT', null, 'BTCUSDT', '', 'ÉTH€', 'ETHUSDT', ''];
    const col = column(values);
    const interner = new Interner();
    const read = values.map((_, row) => interner.at(col, row));
    expect(read).toEqual(values);
    expect(Object.is(read[0], read[3])).toBe(true);
  });

  it('keeps thousands of distinct values apart (table growth) and starts over past its bound', () => {
    const values = Array.from({ length: 5_000 }, (_, i) => `SYM${i}`);
    const col = column([...values, ...values]);
    const interner = new Interner(1_000);
    for (let row = 0; row < values.length * 2; row++)
      expect(interner.at(col, row)).toBe(values[row % values.length]);
  });
});
