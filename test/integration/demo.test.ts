import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';

describe('npm run demo', () => {
  it('lands every produced record once, minus poison (in the DLQ) and resent duplicates, and answers a query', async () => {
    const summary = await runDemo();
    expect(summary.poison).toBeGreaterThan(0);
    expect(summary.dlq).toBe(summary.poison);
    expect(summary.landed).toBe(summary.produced - summary.poison - summary.duplicates);
    expect(summary.gaps).toBeGreaterThanOrEqual(summary.injectedGaps);
    expect(summary.barRows).toBeGreaterThan(0);
  }, 240_000);
});
