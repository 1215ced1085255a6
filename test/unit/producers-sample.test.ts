import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCsv } from '../../src/producers/csv.js';
import { quoteFromRow, tradeFromRow } from '../../src/producers/equities/rows.js';
import { generateEquitiesSample, sampleFiles, samplePath } from '../../src/producers/equities/sample.js';
import { instrumentFromRow } from '../../src/producers/reference.js';

describe('bundled equities sample (data/sample)', () => {
  const generated = generateEquitiesSample();

  it('is exactly what scripts/generate-sample.ts writes (deterministic, committed in sync)', () => {
    for (const file of Object.keys(sampleFiles) as (keyof typeof sampleFiles)[])
      expect(readFileSync(samplePath(file), 'utf8') === generated[sampleFiles[file]], sampleFiles[file]).toBe(
        true,
      );
  });

  it('is one trading day of tens of thousands of rows, under 5 MB', () => {
    const bytes = Object.keys(sampleFiles).reduce(
      (sum, file) => sum + statSync(samplePath(file as keyof typeof sampleFiles)).size,
      0,
    );
    expect(bytes).toBeLessThan(5 * 1024 * 1024);
    const lines = (file: string) => generated[file]!.trimEnd().split('\n').length - 1;
    expect(lines(sampleFiles.trades)).toBe(30_000);
    expect(lines(sampleFiles.quotes)).toBe(20_000);
  });

  it('parses completely: every row a valid record, times in order, sequences contiguous per symbol, trades inside the quotes', async () => {
    const bid = new Map<string, bigint>();
    const ask = new Map<string, bigint>();
    const events: {
      t: bigint;
      kind: 'trade' | 'quote';
      record: ReturnType<typeof tradeFromRow> | ReturnType<typeof quoteFromRow>;
    }[] = [];
    for await (const row of readCsv(samplePath('trades'))) {
      const record = tradeFromRow(row);
      events.push({ t: BigInt(record.timestamp), kind: 'trade', record });
    }
    for await (const row of readCsv(samplePath('quotes'))) {
      const record = quoteFromRow(row);
      events.push({ t: BigInt(record.timestamp), kind: 'quote', record });
    }
    const sequences = new Map<string, number>();
    let previous = 0n;
    const open = BigInt(Date.UTC(2025, 0, 2, 14, 30)) * 1000n;
    for (const { t, kind } of events.filter((e) => e.kind === 'trade')) {
      expect(t >= previous && t >= open && t < open + 390n * 60_000_000n, kind).toBe(true);
      previous = t;
    }
    let outside = 0;
    // As simulated: on the same microsecond, the quote moved the book before the trade printed.
    const order = (a: (typeof events)[number], b: (typeof events)[number]) =>
      a.t < b.t ? -1 : a.t > b.t ? 1 : a.kind === b.kind ? 0 : a.kind === 'quote' ? -1 : 1;
    for (const { kind, record } of [...events].sort(order)) {
      const key = `${kind}/${record.symbol}`;
      expect(record.source_sequence).toBe((sequences.get(key) ?? 0) + 1);
      sequences.set(key, record.source_sequence as number);
      if ('bid_price' in record) {
        expect(BigInt(record.ask_price) > BigInt(record.bid_price)).toBe(true);
        bid.set(record.symbol, BigInt(record.bid_price));
        ask.set(record.symbol, BigInt(record.ask_price));
      } else if (bid.has(record.symbol)) {
        const price = BigInt((record as ReturnType<typeof tradeFromRow>).price);
        if (price < bid.get(record.symbol)! || price > ask.get(record.symbol)!) outside++;
      }
    }
    expect(outside).toBe(0);
    expect([...sequences.keys()].sort()).toEqual(
      ['AAPL', 'MSFT', 'NVDA', 'SPY'].flatMap((s) => [`quote/${s}`, `trade/${s}`]).sort(),
    );
  });

  it('ships the instruments of the sample (and two crypto pairs) as reference data', async () => {
    const instruments = [];
    for await (const row of readCsv(samplePath('instruments'))) instruments.push(instrumentFromRow(row, 0));
    expect(instruments.map((i) => `${i.exchange}:${i.symbol}`)).toEqual([
      'NASDAQ:AAPL',
      'NASDAQ:MSFT',
      'NASDAQ:NVDA',
      'NYSEARCA:SPY',
      'BINANCE:BTCUSDT',
      'BINANCE:ETHUSDT',
    ]);
    expect(instruments[0]).toMatchObject({
      name: 'Apple Inc.',
      asset_class: 'EQUITY',
      lot_size: 100_000_000n,
      tick_size: 1_000_000n,
      listing_status: 'ACTIVE',
      valid_from: Date.UTC(1980, 11, 12) * 1000,
      vendor_data: { isin: 'US0378331005' },
    });
    expect(instruments[4]).toMatchObject({ asset_class: 'CRYPTO', lot_size: 1_000n, vendor_data: null });
  });
});
