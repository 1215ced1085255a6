import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CsvRow, parseTimestampMicros, readCsv } from '../../src/producers/csv.js';
import { RecordEncoder } from '../../src/producers/encode.js';
import type { SourceRecordError } from '../../src/producers/errors.js';
import { instrumentFromRow, instrumentKey, produceReference } from '../../src/producers/reference.js';
import type { TopicBatch } from '../../src/producers/sink.js';
import { canonical, decodeFramed, FakeClock } from './producers-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'k2-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const row = (values: Record<string, string>): CsvRow => ({ values, where: 'i.csv:2' });

describe('timestamps', () => {
  it.each([
    ['2025-01-02T14:30:00Z', 1_735_828_200_000_000],
    ['2025-01-02T14:30:00.000001Z', 1_735_828_200_000_001],
    ['2025-01-02T14:30:00.123456Z', 1_735_828_200_123_456],
    ['2025-01-02T14:30:00.5Z', 1_735_828_200_500_000],
    ['2025-01-02 09:30:00.25-05:00', 1_735_828_200_250_000],
    ['2025-01-02', 1_735_776_000_000_000],
    ['1735828200000001', 1_735_828_200_000_001],
    ['1960-01-01T00:00:00Z', -315_619_200_000_000],
  ])('%s is %i µs, exactly', (text, micros) => {
    expect(parseTimestampMicros(text)).toBe(micros);
  });

  it.each([
    '2025-02-30T00:00:00Z',
    '2025-01-02T24:00:00Z',
    '2025-01-02T14:30:00.1234567Z',
    '2025-01-02T14:30:00',
    'yesterday',
    '',
  ])('refuses %j', (text) => expect(parseTimestampMicros(text)).toBeUndefined());
});

describe('CSV reading', () => {
  it('reads quoted fields, skips blank lines, keeps 1-based line numbers, lets ragged rows through', async () => {
    const path = file('q.csv', 'a,b,c\n1,"x, ""y""",3\n\n4,5\n');
    const rows: CsvRow[] = [];
    for await (const r of readCsv(path)) rows.push(r);
    expect(rows).toEqual([
      { values: { a: '1', b: 'x, "y"', c: '3' }, where: 'q.csv:2' },
      { values: { a: '4', b: '5' }, where: 'q.csv:4' },
    ]);
  });
});

describe('reference data', () => {
  const instrument = {
    exchange: 'NASDAQ',
    symbol: 'AAPL',
    name: 'Apple Inc.',
    asset_class: 'equity',
    currency: 'USD',
    lot_size: '1',
    tick_size: '0.01',
    listing_status: '',
    valid_from: '1980-12-12',
    isin: 'US0378331005',
    cusip: '',
  };

  it('maps an instruments row to reference_data_v2, extra columns into vendor_data, keyed exchange:symbol', () => {
    const record = instrumentFromRow(row(instrument), 42);
    expect(record).toMatchObject({
      exchange: 'NASDAQ',
      symbol: 'AAPL',
      asset_class: 'EQUITY',
      lot_size: 100_000_000n,
      tick_size: 1_000_000n,
      listing_status: 'ACTIVE',
      valid_from: 345_427_200_000_000,
      ingestion_timestamp: 42,
      vendor_data: { isin: 'US0378331005' },
    });
    expect(instrumentKey(record)).toBe('NASDAQ:AAPL');
    expect(instrumentFromRow(row(instrument), 1).message_id).toBe(
      instrumentFromRow(row(instrument), 2).message_id,
    );
  });

  it.each([
    ['asset_class', 'BOND', 'bad-enum'],
    ['tick_size', '0', 'bad-decimal'],
    ['lot_size', '0.000000001', 'bad-decimal'],
    ['name', '', 'missing-column'],
    ['valid_from', '12/12/1980', 'bad-timestamp'],
  ])('refuses %s=%j (%s)', (column, value, reason) => {
    expect(() => instrumentFromRow(row({ ...instrument, [column]: value }), 0)).toThrow(
      expect.objectContaining({ reason, where: 'i.csv:2' }),
    );
  });

  it('sends each instrument to its asset class topic, in batches, skipping bad rows', async () => {
    const path = file(
      'instruments.csv',
      [
        'exchange,symbol,name,asset_class,currency,lot_size,tick_size,listing_status,valid_from',
        'NASDAQ,AAPL,Apple Inc.,EQUITY,USD,1,0.01,ACTIVE,1980-12-12',
        'BINANCE,BTCUSDT,Bitcoin / TetherUS,CRYPTO,USDT,0.00001,0.01,ACTIVE,2017-08-17',
        'NASDAQ,MSFT,Microsoft Corporation,EQUITY,USD,1,0.01,SUSPENDED,1986-03-13',
        'NASDAQ,BAD,Bad,EQUITY,USD,1,-0.01,ACTIVE,1986-03-13',
      ].join('\n'),
    );
    const sent: TopicBatch[][] = [];
    const rejected: SourceRecordError[] = [];
    const totals = await produceReference({
      path,
      encoderFor: (topic) => new RecordEncoder('reference_data_v2', topic.includes('crypto') ? 2 : 1),
      send: async (b) => {
        sent.push(b);
      },
      clock: new FakeClock(),
      batchSize: 2,
      onRejected: (e) => rejected.push(e),
    });
    expect(totals).toEqual({
      instruments: 3,
      rejected: 1,
      topics: { 'market.equities.reference_data': 2, 'market.crypto.reference_data': 1 },
    });
    expect(rejected.map((e) => e.where)).toEqual(['instruments.csv:5']);
    expect(sent.map((b) => b.map((t) => `${t.topic}:${t.messages.map((m) => m.key).join('+')}`))).toEqual([
      ['market.equities.reference_data:NASDAQ:AAPL', 'market.crypto.reference_data:BINANCE:BTCUSDT'],
      ['market.equities.reference_data:NASDAQ:MSFT'],
    ]);
    const msft = decodeFramed(sent[1]![0]!.messages[0]!.value, 'reference_data_v2');
    expect(msft.schemaId).toBe(1);
    expect(canonical(msft.record)).toMatchObject(
      canonical({ listing_status: 'SUSPENDED', lot_size: 100_000_000 }),
    );
  });
});
