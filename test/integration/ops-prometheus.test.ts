import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditExposition, createMetrics } from '../../src/metrics/index.js';
import {
  analyse,
  knownSeriesWithRecords,
  labelValueVariables,
  loadDashboard,
  opsQueries,
  ruleFiles,
} from '../support/ops-queries.js';
import { type ScrapeTarget, startSupervisorWithTraffic } from '../support/ops-supervisor.js';
import { installPrometheus, type LocalPrometheus, startPrometheus } from '../support/prometheus.js';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Grafana's $__rate_interval and friends, at this test's 1 s scrape interval. */
const interval = '10s';

/**
 * The real supervisor (node dist/supervisor.js) after a burst of trades with poison, sequence gaps
 * and resent duplicates, with clean trades still arriving, scraped every second by a real Prometheus
 * that evaluates ops/'s rules.
 */
describe('ops/ against a real Prometheus scraping K2', () => {
  let target: ScrapeTarget;
  let prometheus: LocalPrometheus;
  const query = (expr: string) => prometheus.api<{ result: Sample[] }>('query', { query: expr });

  beforeAll(async () => {
    installPrometheus();
    target = await startSupervisorWithTraffic();
    prometheus = await startPrometheus(target.address, ruleFiles());
  }, 600_000);
  afterAll(async () => {
    await prometheus?.stop();
    await target?.stop();
  });

  it('scrapes the supervisor', async () => {
    await vi.waitFor(
      async () =>
        expect((await query('up{job="k2-supervisor"} == 1')).result, prometheus.log()).toHaveLength(1),
      { timeout: 10_000, interval: 250 },
    );
  });

  it('counts the traffic it was sent: poison in the DLQ, small and large gaps, resent duplicates', async () => {
    const value = async (expr: string) => Number((await query(expr)).result[0]?.value[1] ?? Number.NaN);
    await vi.waitFor(
      async () => {
        expect(await value('sum(k2_dlq_messages_total)')).toBe(3);
        expect(await value('sum(k2_sequence_gaps_total{kind="small"})')).toBe(4);
        expect(await value('sum(k2_sequence_gaps_total{kind="large"})')).toBe(4);
        expect(await value('sum(k2_sequence_records_total{kind="duplicate"})')).toBe(8);
      },
      { timeout: 10_000, interval: 250 },
    );
  });

  it('has data for every series the dashboard and the alerts use, recorded ones included', async () => {
    const known = knownSeriesWithRecords();
    const selectors = [
      ...new Set(opsQueries(interval).flatMap((q) => analyse(q.expr, known).selectors.map((s) => s.text))),
    ];
    expect(selectors.length).toBeGreaterThan(20);
    await vi.waitFor(
      async () => {
        const empty: string[] = [];
        for (const selector of selectors)
          if ((await query(selector)).result.length === 0) empty.push(selector);
        expect(empty).toEqual([]);
      },
      { timeout: 20_000, interval: 500 },
    );
  });

  it('answers every dashboard query with series carrying the labels its legend names', async () => {
    const panels = opsQueries(interval).filter((q) => q.kind === 'panel');
    await vi.waitFor(
      async () => {
        const problems: string[] = [];
        for (const panel of panels) {
          const { result } = await query(panel.expr);
          if (result.length === 0) problems.push(`${panel.origin}: no data for ${panel.expr}`);
          for (const label of panel.usesLabels) {
            if (result.some((s) => !(label in s.metric)))
              problems.push(`${panel.origin}: a series without ${label}`);
          }
        }
        expect(problems).toEqual([]);
      },
      { timeout: 20_000, interval: 500 },
    );
  });

  it('evaluates every recording and alerting rule without error', async () => {
    type Rules = { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    const rules = async () => (await prometheus.api<Rules>('rules')).groups.flatMap((g) => g.rules);
    expect(await rules()).toHaveLength(opsQueries().filter((q) => q.kind !== 'panel').length);
    await vi.waitFor(async () => expect((await rules()).filter((r) => r.health !== 'ok')).toEqual([]), {
      timeout: 10_000,
      interval: 500,
    });
  });

  it('fills the dashboard variables from label values', async () => {
    for (const v of labelValueVariables(loadDashboard())) {
      const values = await prometheus.api<string[]>(`label/${v.label}/values`, { 'match[]': v.metric });
      expect(values.length, `${v.name}: label_values(${v.metric}, ${v.label})`).toBeGreaterThan(0);
    }
  });

  it('stores only catalogue series, each with exactly its catalogue labels', async () => {
    const series = await prometheus.api<Record<string, string>[]>('series', {
      'match[]': '{__name__=~"k2_.+", job="k2-supervisor"}',
    });
    expect(series.length).toBeGreaterThan(50);
    const exposition = series
      .map(({ __name__, job: _job, instance: _instance, ...labels }) => {
        const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/[\\"]/g, '\\$&')}"`);
        return `${__name__}{${pairs.join(',')}} 0`;
      })
      .join('\n');
    expect(auditExposition(exposition, createMetrics().defaultMetricNames)).toEqual([]);
  });
});
