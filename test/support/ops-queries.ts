import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { createMetrics, metricSpecs } from '../../src/metrics/index.js';

/**
 * The PromQL of ops/: every dashboard query and rule expression, parsed with Prometheus's own
 * grammar (@prometheus-io/lezer-promql), with the metric names and labels it uses checked against
 * the catalogue (src/metrics/catalogue.ts) and the labels each expression yields inferred.
 */

export const opsDir = 'ops';
export const prometheusDir = join(opsDir, 'prometheus');
export const rulesDir = join(prometheusDir, 'rules');
export const dashboardFile = join(opsDir, 'grafana/provisioning/dashboards/k2/k2-consumer-monitoring.json');
export const datasourceFile = join(opsDir, 'grafana/provisioning/datasources/prometheus.yml');

/** Labels Prometheus attaches to every scraped series. */
export const targetLabels = ['job', 'instance'] as const;

type SeriesKind = 'counter' | 'gauge' | 'histogram_part' | 'recorded' | 'synthetic';
export interface Series {
  kind: SeriesKind;
  labels: ReadonlySet<string>;
}
export type KnownSeries = Map<string, Series>;

type PromNode = ReturnType<typeof parser.parse>['topNode'];
/** What an expression yields: a scalar, or a vector with these labels. */
type Shape = 'scalar' | ReadonlySet<string>;

/** Everything a K2 process exposes, as Prometheus stores it: the catalogue, the k2_ default process metrics, `up`. */
export function exposedSeries(): KnownSeries {
  const known: KnownSeries = new Map();
  const add = (name: string, kind: SeriesKind, labels: readonly string[]) =>
    known.set(name, { kind, labels: new Set([...labels, ...targetLabels]) });
  const addMetric = (name: string, kind: string, labels: readonly string[]) => {
    if (kind !== 'histogram') return add(name, kind === 'counter' ? 'counter' : 'gauge', labels);
    add(`${name}_bucket`, 'histogram_part', [...labels, 'le']);
    add(`${name}_sum`, 'histogram_part', labels);
    add(`${name}_count`, 'histogram_part', labels);
  };
  for (const spec of Object.values(metricSpecs)) addMetric(spec.name, spec.kind, spec.labelNames);
  const catalogued = new Set(Object.values(metricSpecs).map((spec) => spec.name));
  const { registry, defaultMetricNames } = createMetrics();
  for (const metric of registry.getMetricsAsArray() as unknown as {
    name: string;
    type: string;
    labelNames?: string[];
  }[]) {
    if (catalogued.has(metric.name)) continue;
    if (!defaultMetricNames.has(metric.name))
      throw new Error(`${metric.name}: neither catalogued nor default`);
    addMetric(metric.name, metric.type, metric.labelNames ?? []);
  }
  add('up', 'synthetic', []);
  return known;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}
export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export type Rule = RecordingRule | AlertingRule;

export function ruleFiles(): string[] {
  return readdirSync(rulesDir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => join(rulesDir, f));
}

export function loadRules(): Rule[] {
  return ruleFiles().flatMap((file) =>
    (parseYaml(readFileSync(file, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules),
  );
}

export const isAlert = (rule: Rule): rule is AlertingRule => 'alert' in rule;

export interface DashboardTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: DashboardTarget[];
}
export interface DashboardVariable {
  name: string;
  type: string;
  definition: string;
  datasource?: { type?: string; uid?: string };
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard;
}

/** Grafana's interval macros, and the variables as `.+` (not `.*`, which matches a misspelt label too). */
export function substituteGrafana(expr: string, interval: string): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b/g, interval)
    .replace(/\$\{?[A-Za-z_]\w*\}?/g, '.+');
}

export interface OpsQuery {
  /** Where it comes from, for messages: `panel "Consumer lag per partition" A`, `alert K2HealthCritical`. */
  origin: string;
  expr: string;
  /** Labels the result must carry: a legend's {{label}}s, an alert template's $labels.x. */
  usesLabels: string[];
  /** Labels the rule adds to the result (an alert's `labels:`). */
  addsLabels: string[];
  kind: 'panel' | 'alert' | 'record';
}

/** Every query of the dashboard and of the rules, Grafana macros substituted with `interval`. */
export function opsQueries(interval = '5m'): OpsQuery[] {
  const queries: OpsQuery[] = [];
  for (const panel of loadDashboard().panels) {
    for (const target of panel.targets ?? []) {
      queries.push({
        origin: `panel "${panel.title}" ${target.refId}`,
        expr: substituteGrafana(target.expr, interval),
        usesLabels: [...(target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!),
        addsLabels: [],
        kind: 'panel',
      });
    }
  }
  for (const rule of loadRules()) {
    if (isAlert(rule)) {
      const templates = Object.values(rule.annotations ?? {}).join('\n');
      queries.push({
        origin: `alert ${rule.alert}`,
        expr: rule.expr,
        usesLabels: [...templates.matchAll(/\$labels\.(\w+)/g)].map((m) => m[1]!),
        addsLabels: Object.keys(rule.labels ?? {}),
        kind: 'alert',
      });
    } else {
      queries.push({
        origin: `record ${rule.record}`,
        expr: rule.expr,
        usesLabels: [],
        addsLabels: Object.keys(rule.labels ?? {}),
        kind: 'record',
      });
    }
  }
  return queries;
}

/** The dashboard's variables that query label values: `label_values(metric, label)`. */
export function labelValueVariables(dashboard: Dashboard): { name: string; metric: string; label: string }[] {
  return dashboard.templating.list.map((v) => {
    const match = /^label_values\(\s*([A-Za-z_:][\w:]*)\s*,\s*(\w+)\s*\)$/.exec(v.definition);
    if (!match)
      throw new Error(`variable ${v.name}: not a label_values(metric, label) query: ${v.definition}`);
    return { name: v.name, metric: match[1]!, label: match[2]! };
  });
}

/** The catalogue, the default metrics, `up`, and every recorded series with the labels its rule yields. */
export function knownSeriesWithRecords(rules = loadRules()): KnownSeries {
  const known = exposedSeries();
  for (const rule of rules) {
    if (isAlert(rule)) continue;
    const { shape } = analyse(rule.expr, known);
    const labels = new Set([...(shape === 'scalar' ? [] : shape), ...Object.keys(rule.labels ?? {})]);
    const previous = known.get(rule.record);
    // One name may be recorded by several rules (a quantile each): they must agree on labels.
    if (previous && [...previous.labels].sort().join() !== [...labels].sort().join()) {
      throw new Error(`record ${rule.record}: rules disagree on labels`);
    }
    known.set(rule.record, { kind: 'recorded', labels });
  }
  return known;
}

export interface Analysis {
  problems: string[];
  shape: Shape;
  /** Each vector selector as written (`k2_offset_commits_total{result="success"}`), with its metric name. */
  selectors: { text: string; metric: string }[];
}

const expressionNodes = new Set([
  'AggregateExpr',
  'BinaryExpr',
  'FunctionCall',
  'MatrixSelector',
  'NumberDurationLiteral',
  'OffsetExpr',
  'ParenExpr',
  'StepInvariantExpr',
  'StringLiteral',
  'SubqueryExpr',
  'UnaryExpr',
  'VectorSelector',
]);
const counterFunctions = new Set(['rate', 'irate', 'increase', 'resets']);
const scalarFunctions = new Set(['time', 'pi', 'scalar', 'vector']);
const labelKeepingAggregations = new Set(['topk', 'bottomk', 'limitk', 'limit_ratio']);

/**
 * Parses `expr` and checks it against `known`: metric names, label matchers, by/without/on/ignoring
 * labels, rate() over counters only. Returns the problems and the labels the result carries.
 */
export function analyse(expr: string, known: KnownSeries): Analysis {
  const problems: string[] = [];
  const selectors: Analysis['selectors'] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter: (n) => {
      if (n.type.isError)
        problems.push(`syntax error at ${n.from}: ${JSON.stringify(expr.slice(n.from, n.from + 20))}`);
    },
  });
  const text = (n: PromNode) => expr.slice(n.from, n.to);
  const children = (n: PromNode | null): PromNode[] => {
    const out: PromNode[] = [];
    for (let c = n?.firstChild ?? null; c; c = c.nextSibling) out.push(c);
    return out;
  };
  const child = (n: PromNode, name: string) => children(n).find((c) => c.name === name);
  const args = (n: PromNode) =>
    children(child(n, 'FunctionCallBody') ?? null).filter((c) => expressionNodes.has(c.name));
  const labelNames = (n: PromNode | undefined) =>
    children(n ?? null)
      .filter((c) => c.name === 'LabelName')
      .map(text);
  const requireLabels = (labels: string[], shape: Shape, where: string) => {
    const have = shape === 'scalar' ? new Set<string>() : shape;
    for (const l of labels) if (!have.has(l)) problems.push(`${where}: label "${l}" is not on its input`);
  };

  const vector = (n: PromNode): ReadonlySet<string> => {
    const identifier = child(n, 'Identifier');
    if (!identifier) {
      problems.push(`selector without a metric name: ${text(n)}`);
      return new Set();
    }
    const name = text(identifier);
    selectors.push({ text: text(n), metric: name });
    const series = known.get(name);
    if (!series) {
      problems.push(`metric ${name} is not in the catalogue, the default metrics or the recording rules`);
      return new Set();
    }
    for (const matcher of children(child(n, 'LabelMatchers') ?? null)) {
      const label = text(child(matcher, 'LabelName')!);
      if (!series.labels.has(label))
        problems.push(`${name}: no label "${label}" (has ${[...series.labels].join(', ')})`);
    }
    return series.labels;
  };

  const shapeOf = (n: PromNode): Shape => {
    switch (n.name) {
      case 'PromQL':
      case 'ParenExpr':
      case 'OffsetExpr':
      case 'StepInvariantExpr':
      case 'SubqueryExpr':
      case 'MatrixSelector':
      case 'UnaryExpr':
        return shapeOf(children(n).find((c) => expressionNodes.has(c.name))!);
      case 'VectorSelector':
        return vector(n);
      case 'NumberDurationLiteral':
      case 'StringLiteral':
        return 'scalar';
      case 'FunctionCall':
        return functionShape(n);
      case 'AggregateExpr':
        return aggregateShape(n);
      case 'BinaryExpr':
        return binaryShape(n);
      default:
        problems.push(`unexpected ${n.name} "${text(n)}"`);
        return 'scalar';
    }
  };

  const functionShape = (n: PromNode): Shape => {
    const name = text(child(n, 'FunctionIdentifier')!);
    const a = args(n);
    if (counterFunctions.has(name)) {
      const selector = a[0]?.name === 'MatrixSelector' ? child(a[0], 'VectorSelector') : undefined;
      const metric = selector ? text(child(selector, 'Identifier')!) : undefined;
      const kind = metric ? known.get(metric)?.kind : undefined;
      if (kind === 'gauge') problems.push(`${name}() over ${metric}, a gauge: use it for counters only`);
    }
    const shapes = a.map(shapeOf);
    if (scalarFunctions.has(name)) return name === 'vector' ? new Set() : 'scalar';
    if (name === 'histogram_quantile') {
      const input = shapes[1] ?? 'scalar';
      if (input === 'scalar' || !input.has('le'))
        problems.push('histogram_quantile() over a vector without "le"');
      return new Set([...(input === 'scalar' ? [] : input)].filter((l) => l !== 'le'));
    }
    if (name === 'label_replace' || name === 'label_join') {
      const input = shapes[0] ?? 'scalar';
      const dst = JSON.parse(text(a[1]!)) as string;
      return new Set([...(input === 'scalar' ? [] : input), dst]);
    }
    if (name === 'absent' || name === 'absent_over_time') return new Set();
    return shapes.find((s): s is ReadonlySet<string> => s !== 'scalar') ?? 'scalar';
  };

  const aggregateShape = (n: PromNode): Shape => {
    const op = text(child(n, 'AggregateOp')!);
    const a = args(n);
    const inputShape = shapeOf(a[a.length - 1]!);
    a.slice(0, -1).forEach(shapeOf);
    const input = inputShape === 'scalar' ? new Set<string>() : inputShape;
    const modifier = child(n, 'AggregateModifier');
    const grouping = labelNames(modifier ? child(modifier, 'GroupingLabels') : undefined);
    requireLabels(grouping, input, `${op} ${modifier ? text(modifier) : ''}`.trim());
    if (labelKeepingAggregations.has(op)) return input;
    const extra = op === 'count_values' ? [JSON.parse(text(a[0]!)) as string] : [];
    if (modifier && child(modifier, 'Without'))
      return new Set([...input].filter((l) => !grouping.includes(l)));
    return new Set([...(modifier ? grouping : []), ...extra]);
  };

  const binaryShape = (n: PromNode): Shape => {
    const operands = children(n).filter((c) => expressionNodes.has(c.name));
    const op = children(n).find(
      (c) => !expressionNodes.has(c.name) && c.name !== 'MatchingModifierClause',
    )!.name;
    const left = shapeOf(operands[0]!);
    const right = shapeOf(operands[1]!);
    if (left === 'scalar') return right;
    if (right === 'scalar') return left;
    const clause = child(n, 'MatchingModifierClause');
    const parts = children(clause ?? null);
    const groupingAt = (i: number) =>
      parts[i + 1]?.name === 'GroupingLabels' ? labelNames(parts[i + 1]) : [];
    const onIndex = parts.findIndex((p) => p.name === 'On' || p.name === 'Ignoring');
    const matching = onIndex >= 0 ? groupingAt(onIndex) : [];
    const on = onIndex >= 0 && parts[onIndex]!.name === 'On';
    const groupIndex = parts.findIndex((p) => p.name === 'GroupLeft' || p.name === 'GroupRight');
    if (on) {
      requireLabels(matching, left, `left of ${text(clause!)}`);
      requireLabels(matching, right, `right of ${text(clause!)}`);
    }
    if (op === 'Or') return new Set([...left, ...right]);
    if (op === 'And' || op === 'Unless') return left;
    if (groupIndex >= 0) {
      const include = groupingAt(groupIndex);
      const groupLeft = parts[groupIndex]!.name === 'GroupLeft';
      requireLabels(include, groupLeft ? right : left, text(clause!));
      return new Set([...(groupLeft ? left : right), ...include]);
    }
    // One-to-one: Prometheus keeps only the on() labels, or drops the ignoring() ones.
    if (onIndex >= 0) return new Set([...left].filter((l) => matching.includes(l) === on));
    return left;
  };

  const shape = problems.length > 0 ? 'scalar' : shapeOf(tree.topNode);
  return { problems, shape, selectors };
}

/** analyse(), plus the labels the legend or the alert templates use. */
export function checkQuery(query: OpsQuery, known: KnownSeries): string[] {
  const { problems, shape } = analyse(query.expr, known);
  const labels = new Set([...(shape === 'scalar' ? [] : shape), ...query.addsLabels]);
  for (const label of query.usesLabels) {
    if (!labels.has(label)) problems.push(`uses label "${label}", which the result does not carry`);
  }
  return problems.map((p) => `${query.origin}: ${p}`);
}
