import { describe, expect, it } from 'vitest';
import { Interner } from '../../src/codec/interner.js';
import { utf8Column as column } from '../support/columns.js';

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
