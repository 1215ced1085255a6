import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  type AlertingRule,
  analyse,
  isAlert,
  knownSeriesWithRecords,
  loadRules,
  opsQueries,
  prometheusDir,
  ruleFiles,
} from '../support/ops-queries.js';
import { installPrometheus, promtool, promtoolAsync } from '../support/prometheus.js';

const testsDir = join(prometheusDir, 'tests');
const testFiles = () =>
  readdirSync(testsDir)
    .filter((f) => f.endsWith('.test.yml'))
    .sort()
    .map((f) => join(testsDir, f));

const alerts = () => loadRules().filter(isAlert);

describe('Prometheus config and rules, checked by promtool', () => {
  beforeAll(installPrometheus, 600_000);

  it('passes promtool check config, rule files included', () => {
    const out = promtool(['check', 'config', join(prometheusDir, 'prometheus.yml')]);
    expect(out.output).toContain(`SUCCESS: ${ruleFiles().length} rule files found`);
    expect(out.status, out.output).toBe(0);
  });

  it('passes promtool check rules', () => {
    const out = promtool(['check', 'rules', ...ruleFiles()]);
    expect(out.status, out.output).toBe(0);
  });

  it('passes promtool test rules: each alert fires on its condition and stays silent when healthy', () => {
    const out = promtool(['test', 'rules', ...testFiles()]);
    expect(out.status, out.output).toBe(0);
    expect(out.output.match(/SUCCESS/g)).toHaveLength(testFiles().length);
  });

  it('has, for every alert, a promtool test where it fires and one where it stays silent', () => {
    const cases = testFiles().flatMap((file) =>
      (
        parseYaml(readFileSync(file, 'utf8')) as {
          tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
        }
      ).tests.flatMap((t) => t.alert_rule_test ?? []),
    );
    for (const { alert } of alerts()) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} never fires in a test`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} is never shown silent`,
      ).toBe(true);
    }
  });

  describe('the tests fail when a rule changes', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'k2-ops-rules-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    // One change per alert that a careless edit could make: each must turn `promtool test rules` red.
    const mutations: [string, string, string][] = [
      ['K2ConsumerLagHigh', '> 10000', '> 20000'],
      ['K2IngestThroughputLow', '< 50', '< 5'],
      ['K2HealthCritical', '>= 2', '>= 1'],
      ['K2DlqRateHigh', '> 0.01', '> 0.001'],
      ['K2IcebergCommitStalled', 'or sum by (job, instance) (k2_consumer_lag) > 0', ''],
      [
        'K2SequenceGapsRising',
        'exchange:k2_sequence_gaps:rate5m > 0',
        'sum by (exchange) (rate(k2_sequence_gaps_total[5m])) > 0',
      ],
      ['K2OffsetCommitFailures', '< 0.9', '< 0.5'],
      ['K2SupervisorDown', '== 0', '== 1'],
    ];
    it.concurrent.each(mutations)(
      '%s: expr with %j replaced by %j fails its tests',
      async (alert, from, to) => {
        const copy = join(dir, alert);
        cpSync(prometheusDir, copy, { recursive: true });
        const file = join(copy, 'rules', 'k2-alerts.yml');
        const doc = parseYaml(readFileSync(file, 'utf8')) as { groups: { rules: AlertingRule[] }[] };
        const rule = doc.groups.flatMap((g) => g.rules).find((r) => r.alert === alert)!;
        expect(rule.expr).toContain(from);
        rule.expr = rule.expr.replace(from, to);
        writeFileSync(file, JSON.stringify(doc));
        const out = await promtoolAsync(['test', 'rules', join(copy, 'tests', 'k2-alerts.test.yml')]);
        expect(out.status).toBe(1);
        expect(out.output).toContain(alert);
      },
    );
  });
});

describe('alert rules', () => {
  it('give each alert a severity, a summary and a description naming its runbook section in the README', () => {
    for (const rule of alerts()) {
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description).toContain(
        `Runbook: README, section "Alert runbook", ${rule.alert}.`,
      );
      expect(rule.annotations?.runbook).toBe(`README.md#${rule.alert.toLowerCase()}`);
    }
  });

  it('cover what the issue asks for: lag, throughput, health, DLQ, commits, gaps, offset commits', () => {
    expect(alerts().map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'K2ConsumerLagHigh',
        'K2IngestThroughputLow',
        'K2HealthCritical',
        'K2DlqRateHigh',
        'K2IcebergCommitStalled',
        'K2SequenceGapsRising',
        'K2OffsetCommitFailures',
      ]),
    );
  });

  it('each have a runbook section in the README under "Alert runbook"', () => {
    const readme = readFileSync('README.md', 'utf8');
    const start = readme.indexOf('\n### Alert runbook\n');
    expect(start, 'the README has no "### Alert runbook" section').toBeGreaterThan(0);
    const headings: string[] = readme.slice(start).match(/^#### \S+$/gm) ?? [];
    expect(alerts().filter(({ alert }) => !headings.includes(`#### ${alert}`))).toEqual([]);
  });

  it('record only series that the dashboard or an alert reads', () => {
    const known = knownSeriesWithRecords();
    const read = new Set(
      opsQueries()
        .filter((q) => q.kind !== 'record')
        .flatMap((q) => analyse(q.expr, known).selectors.map((s) => s.metric)),
    );
    const recorded = loadRules().flatMap((r) => (isAlert(r) ? [] : [r.record]));
    expect(recorded.filter((name) => !read.has(name))).toEqual([]);
  });
});
