/**
 * Writes the bundled equities sample to data/sample/ (or the folder given): one simulated trading
 * day of AAPL, MSFT, NVDA and SPY, trades and quotes, and the instruments file. Deterministic: the
 * same seed writes the same bytes, which a unit test checks against the committed files.
 *
 *   node --import tsx scripts/generate-sample.ts [folder] [--seed N] [--trades N] [--quotes N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultSampleOptions, generateEquitiesSample } from '../src/producers/equities/sample.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: 'string' }, trades: { type: 'string' }, quotes: { type: 'string' } },
});
const folder = positionals[0] ?? fileURLToPath(new URL('../data/sample/', import.meta.url));
const options = {
  ...defaultSampleOptions,
  ...(values.seed ? { seed: Number(values.seed) } : {}),
  ...(values.trades ? { trades: Number(values.trades) } : {}),
  ...(values.quotes ? { quotes: Number(values.quotes) } : {}),
};
mkdirSync(folder, { recursive: true });
for (const [name, text] of Object.entries(generateEquitiesSample(options))) {
  writeFileSync(join(folder, name), text);
  console.log(`${join(folder, name)}  ${text.split('\n').length - 2} rows  ${text.length} bytes`);
}
