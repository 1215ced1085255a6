import { fileURLToPath } from 'node:url';
import { Random } from '../synthetic/random.js';

/**
 * The bundled equities sample (data/sample/): one simulated trading day of a few US symbols,
 * trades and quotes consistent with each other, generated deterministically from a seed by
 * scripts/generate-sample.ts. Simulated, not market data: prices start near the real closes of
 * the day before and walk at random.
 */
export interface SampleSymbol {
  symbol: string;
  exchange: string;
  name: string;
  isin: string;
  listed: string;
  /** Mid price at the open, in cents. */
  openCents: number;
  /** Share of the day's trades and quotes. */
  weight: number;
  /** Widest spread in cents (liquid names trade at one cent). */
  maxSpreadCents: number;
}

export const sampleSymbols: readonly SampleSymbol[] = [
  {
    symbol: 'AAPL',
    exchange: 'NASDAQ',
    name: 'Apple Inc.',
    isin: 'US0378331005',
    listed: '1980-12-12',
    openCents: 243_85,
    weight: 0.2,
    maxSpreadCents: 2,
  },
  {
    symbol: 'MSFT',
    exchange: 'NASDAQ',
    name: 'Microsoft Corporation',
    isin: 'US5949181045',
    listed: '1986-03-13',
    openCents: 418_58,
    weight: 0.2,
    maxSpreadCents: 3,
  },
  {
    symbol: 'NVDA',
    exchange: 'NASDAQ',
    name: 'NVIDIA Corporation',
    isin: 'US67066G1040',
    listed: '1999-01-22',
    openCents: 138_31,
    weight: 0.3,
    maxSpreadCents: 1,
  },
  {
    symbol: 'SPY',
    exchange: 'NYSEARCA',
    name: 'SPDR S&P 500 ETF Trust',
    isin: 'US78462F1030',
    listed: '1993-01-29',
    openCents: 584_64,
    weight: 0.3,
    maxSpreadCents: 1,
  },
];

export interface SampleOptions {
  seed: number;
  trades: number;
  quotes: number;
  /** The session's open, epoch µs; it lasts 390 minutes. */
  openMicros: number;
}

export const defaultSampleOptions: SampleOptions = {
  seed: 20250102,
  trades: 30_000,
  quotes: 20_000,
  openMicros: Date.UTC(2025, 0, 2, 14, 30) * 1000, // 09:30 New York
};

export const sampleFiles = {
  trades: 'equities-trades.csv',
  quotes: 'equities-quotes.csv',
  instruments: 'instruments.csv',
} as const;

/** A bundled sample file (data/sample/ in the package). */
export function samplePath(file: keyof typeof sampleFiles): string {
  return fileURLToPath(new URL(`../../../data/sample/${sampleFiles[file]}`, import.meta.url));
}

const SESSION_MINUTES = 390;
const MINUTE_MICROS = 60_000_000;

interface SampleEvent {
  micros: number;
  symbol: string;
  kind: 'trade' | 'quote';
  line: string;
}

/** The three sample files' contents, by file name. */
export function generateEquitiesSample(
  options: SampleOptions = defaultSampleOptions,
): Record<string, string> {
  const random = new Random(options.seed);
  const events: SampleEvent[] = [];
  for (const spec of sampleSymbols) {
    const trades = Math.round(options.trades * spec.weight);
    const quotes = Math.round(options.quotes * spec.weight);
    events.push(...simulateSymbol(spec, trades, quotes, options.openMicros, random));
  }
  events.sort((a, b) => a.micros - b.micros || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  const lines = (kind: SampleEvent['kind']) =>
    events
      .filter((e) => e.kind === kind)
      .map((e) => `${e.line}\n`)
      .join('');
  return {
    [sampleFiles.trades]: `timestamp,symbol,exchange,sequence,price,size,side,conditions\n${lines('trade')}`,
    [sampleFiles.quotes]: `timestamp,symbol,exchange,sequence,bid_price,bid_size,ask_price,ask_size\n${lines('quote')}`,
    [sampleFiles.instruments]: instrumentsCsv(),
  };
}

function instrumentsCsv(): string {
  const header =
    'exchange,symbol,name,asset_class,currency,lot_size,tick_size,listing_status,valid_from,isin';
  const equities = sampleSymbols.map(
    (s) => `${s.exchange},${s.symbol},${s.name},EQUITY,USD,1,0.01,ACTIVE,${s.listed},${s.isin}`,
  );
  const crypto = [
    'BINANCE,BTCUSDT,Bitcoin / TetherUS,CRYPTO,USDT,0.00001,0.01,ACTIVE,2017-08-17,',
    'BINANCE,ETHUSDT,Ethereum / TetherUS,CRYPTO,USDT,0.0001,0.01,ACTIVE,2017-08-17,',
  ];
  return `${[header, ...equities, ...crypto].join('\n')}\n`;
}

/** Event times over the session, busier at the open and the close (a U-shaped day). */
function sessionTimes(count: number, openMicros: number, random: Random): number[] {
  const weights = Array.from({ length: SESSION_MINUTES }, (_, m) => 1 + 3 * ((m - 195) / 195) ** 2);
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) {
    sum += w;
    cumulative.push(sum);
  }
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const u = random.next() * sum;
    let lo = 0;
    let hi = SESSION_MINUTES - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    times.push(openMicros + lo * MINUTE_MICROS + random.int(MINUTE_MICROS));
  }
  return times.sort((a, b) => a - b);
}

/** One symbol's day: quotes move the book, trades print at the bid, the ask or (sometimes) the midpoint. */
function simulateSymbol(
  spec: SampleSymbol,
  tradeCount: number,
  quoteCount: number,
  openMicros: number,
  random: Random,
): SampleEvent[] {
  const timeline = [
    ...sessionTimes(tradeCount, openMicros, random).map((micros) => ({ micros, kind: 'trade' as const })),
    ...sessionTimes(quoteCount, openMicros, random).map((micros) => ({ micros, kind: 'quote' as const })),
  ].sort((a, b) => a.micros - b.micros || (a.kind === b.kind ? 0 : a.kind === 'quote' ? -1 : 1));
  let bid = spec.openCents;
  let ask = bid + 1;
  let tradeSequence = 0;
  let quoteSequence = 0;
  const events: SampleEvent[] = [];
  const prefix = (micros: number) => `${isoMicros(micros)},${spec.symbol},${spec.exchange}`;
  for (const { micros, kind } of timeline) {
    if (kind === 'quote') {
      bid = Math.max(100, bid + random.int(5) - 2);
      ask = bid + 1 + random.int(spec.maxSpreadCents);
      const size = () => 100 * (1 + random.int(30));
      events.push({
        micros,
        symbol: spec.symbol,
        kind,
        line: `${prefix(micros)},${++quoteSequence},${cents(bid * 10)},${size()},${cents(ask * 10)},${size()}`,
      });
      continue;
    }
    tradeSequence++;
    const first = tradeSequence === 1;
    const last = tradeSequence === tradeCount;
    const u = random.next();
    const [side, mills] =
      u < 0.06 ? ['', (bid + ask) * 5] : u < 0.53 ? ['BUY', ask * 10] : ['SELL', bid * 10];
    const oddLot = !first && !last && random.next() < 0.15;
    const size =
      first || last ? 1_000 * (5 + random.int(20)) : oddLot ? 1 + random.int(99) : 100 * (1 + random.int(10));
    const conditions = first ? 'O' : last ? '6' : oddLot ? 'I' : random.next() < 0.03 ? 'F' : '';
    events.push({
      micros,
      symbol: spec.symbol,
      kind,
      line: `${prefix(micros)},${tradeSequence},${cents(mills)},${size},${side},${conditions}`,
    });
  }
  return events;
}

/** Tenths of a cent as a price: at least two decimals, a third only for a half-cent midpoint. */
function cents(mills: number): string {
  const dollars = Math.floor(mills / 1000);
  const fraction = String(mills % 1000).padStart(3, '0');
  return `${dollars}.${fraction.endsWith('0') ? fraction.slice(0, 2) : fraction}`;
}

function isoMicros(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}
