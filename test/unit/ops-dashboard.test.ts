import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import {
  analyse,
  checkQuery,
  dashboardFile,
  datasourceFile,
  exposedSeries,
  knownSeriesWithRecords,
  labelValueVariables,
  loadDashboard,
  opsQueries,
  prometheusDir,
  ruleFiles,
} from '../support/ops-queries.js';
import { installPrometheus, promtool } from '../support/prometheus.js';

const dashboard = loadDashboard();
const datasource = (
  parseYaml(readFileSync(datasourceFile, 'utf8')) as { datasources: { uid: string; type: string }[] }
).datasources[0]!;

describe('dashboard "K2 Consumer Monitoring"', () => {
  it('is titled and identified for provisioning', () => {
    expect(dashboard.title).toBe('K2 Consumer Monitoring');
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard).not.toHaveProperty('id');
  });

  it('has the panels operators need', () => {
    expect(dashboard.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'Consumer lag per partition',
        'Messages consumed/s by topic',
        'Batch size distribution',
        'Iceberg commit duration p50/p95/p99',
        'DLQ messages',
        'Error rate by class',
        'Offset-commit success rate',
        'Memory (heap and RSS)',
        'Health level per actor',
        'Per-symbol completeness watermark',
      ]),
    );
  });

  it('reads only the provisioned Prometheus datasource, by uid', () => {
    expect(datasource.type).toBe('prometheus');
    const refs = [
      ...dashboard.panels.flatMap((p) => [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]),
      ...dashboard.templating.list.map((v) => v.datasource),
    ];
    for (const ref of refs) expect(ref).toEqual({ type: 'prometheus', uid: datasource.uid });
  });

  it('gives panels unique ids, known types, queries with unique refIds, and a 24-column grid without overlap', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(['timeseries', 'stat', 'heatmap', 'state-timeline', 'table']).toContain(panel.type);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      const refIds = panel.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      const { x, y, w, h } = panel.gridPos;
      expect(x >= 0 && w > 0 && h > 0 && x + w <= 24, `${panel.title} ${JSON.stringify(panel.gridPos)}`).toBe(
        true,
      );
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${panel.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });

  it('parses every query with promtool (PromQL of Prometheus 2.42, Grafana macros substituted)', () => {
    installPrometheus();
    const panels = opsQueries().filter((q) => q.kind === 'panel');
    const dir = mkdtempSync(join(tmpdir(), 'k2-dashboard-promql-'));
    try {
      const file = join(dir, 'dashboard-queries.yml');
      const rules = panels.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr }));
      writeFileSync(file, toYaml({ groups: [{ name: 'dashboard', rules }] }));
      const out = promtool(['check', 'rules', file]);
      expect(out.status, out.output).toBe(0);
      expect(out.output).toContain(`SUCCESS: ${panels.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it('queries only metrics and labels of the catalogue, the default metrics and the recording rules', () => {
    const known = knownSeriesWithRecords();
    const queries = opsQueries();
    expect(queries.filter((q) => q.kind === 'panel').length).toBeGreaterThanOrEqual(dashboard.panels.length);
    expect(queries.flatMap((q) => checkQuery(q, known))).toEqual([]);
  });

  it('fills its variables from label values the catalogue has', () => {
    const known = exposedSeries();
    for (const v of labelValueVariables(dashboard)) {
      expect(known.get(v.metric)?.labels.has(v.label), `${v.name}: ${v.metric} ${v.label}`).toBe(true);
    }
  });
});

describe('the query checker', () => {
  const known = knownSeriesWithRecords();
  const problems = (expr: string, usesLabels: string[] = []) =>
    checkQuery({ origin: 'q', expr, usesLabels, addsLabels: [], kind: 'panel' }, known);

  it('accepts histogram parts, counters, default metrics, recorded series and target labels', () => {
    expect(
      problems(
        'histogram_quantile(0.9, sum by (le, table) (rate(k2_commit_duration_seconds_bucket{instance="a"}[5m])))',
        ['table'],
      ),
    ).toEqual([]);
    expect(problems('k2_nodejs_heap_space_size_used_bytes{space="old"}', ['space', 'job'])).toEqual([]);
    expect(problems('topic:k2_consumer_lag:sum > 0', ['topic'])).toEqual([]);
  });

  it('rejects a metric or a label the catalogue does not have', () => {
    expect(problems('sum(rate(k2_messages_consumd_total[5m]))')).toEqual([
      'q: metric k2_messages_consumd_total is not in the catalogue, the default metrics or the recording rules',
    ]);
    expect(problems('k2_consumer_lag{symbol="BTCUSDT"}')[0]).toMatch(/k2_consumer_lag: no label "symbol"/);
    expect(problems('k2_commit_duration_seconds{table="t"}')[0]).toMatch(/k2_commit_duration_seconds is not/);
  });

  it('rejects grouping, matching and legend labels the input does not carry', () => {
    expect(problems('sum by (partiton) (k2_consumer_lag)')).toEqual([
      'q: sum by (partiton): label "partiton" is not on its input',
    ]);
    expect(problems('k2_consumer_lag > on (table) k2_messages_written_total')).toEqual([
      'q: left of on (table): label "table" is not on its input',
    ]);
    expect(problems('sum by (topic) (k2_consumer_lag)', ['partition'])).toEqual([
      'q: uses label "partition", which the result does not carry',
    ]);
  });

  it('rejects rate() over a gauge, and syntax errors', () => {
    expect(problems('rate(k2_consumer_lag[5m])')).toEqual([
      'q: rate() over k2_consumer_lag, a gauge: use it for counters only',
    ]);
    expect(problems('sum(rate(k2_errors_total[5m])')[0]).toMatch(/syntax error/);
  });

  it('lists the selectors of an expression', () => {
    expect(analyse('a_total{x="1"} / on () b', new Map()).selectors.map((s) => s.text)).toEqual([
      'a_total{x="1"}',
      'b',
    ]);
  });
});

describe('provisioning in docker-compose.yml', () => {
  const compose = parseYaml(readFileSync('docker-compose.yml', 'utf8')) as {
    services: Record<string, { volumes?: string[] }>;
  };
  /** The host path behind a container path, through the service's bind mounts. */
  const hostPath = (service: string, containerPath: string): string | undefined => {
    for (const volume of compose.services[service]?.volumes ?? []) {
      const [source, target] = volume.split(':') as [string, string];
      if (!source.startsWith('.')) continue;
      if (containerPath === target) return posix.normalize(source);
      if (containerPath.startsWith(`${target}/`))
        return posix.join(source, containerPath.slice(target.length + 1));
    }
    return undefined;
  };

  it('gives Grafana the datasource and a dashboard provider whose folder holds the dashboard', () => {
    expect(hostPath('grafana', '/etc/grafana/provisioning/datasources/prometheus.yml')).toBe(datasourceFile);
    const providers = readdirSync('ops/grafana/provisioning/dashboards')
      .filter((f) => f.endsWith('.yml'))
      .flatMap(
        (f) =>
          (
            parseYaml(readFileSync(join('ops/grafana/provisioning/dashboards', f), 'utf8')) as {
              providers: { type: string; options: { path: string } }[];
            }
          ).providers,
      );
    expect(providers.map((p) => hostPath('grafana', p.options.path))).toContain(posix.dirname(dashboardFile));
    expect(existsSync(dashboardFile)).toBe(true);
  });

  it('gives Prometheus its config, and the rule and target files the config names', () => {
    const configPath = '/etc/prometheus/prometheus.yml';
    expect(hostPath('prometheus', configPath)).toBe(`${prometheusDir}/prometheus.yml`);
    const config = parseYaml(readFileSync(join(prometheusDir, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { file_sd_configs?: { files: string[] }[] }[];
    };
    const files = [
      ...config.rule_files.map((glob) => posix.dirname(glob)),
      ...config.scrape_configs.flatMap((s) => (s.file_sd_configs ?? []).flatMap((sd) => sd.files)),
    ];
    for (const file of files) {
      const inContainer = posix.join(posix.dirname(configPath), file);
      const onHost = hostPath('prometheus', inContainer);
      expect(onHost, `${inContainer} is not mounted into the prometheus service`).toBeDefined();
      expect(existsSync(onHost!), onHost).toBe(true);
    }
    expect(ruleFiles().length).toBeGreaterThan(0);
  });
});
