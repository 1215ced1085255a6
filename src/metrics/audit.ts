import { metricPrefix, metricSpecs } from './catalogue.js';
import type { MetricSpec } from './typed.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: string;
}

/** Parses the samples of a Prometheus text exposition (comments skipped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!;
    }
    samples.push({ name: match[1]!, labels, value: match[3]! });
  }
  return samples;
}

const byName = new Map<string, MetricSpec>(Object.values(metricSpecs).map((spec) => [spec.name, spec]));

/**
 * Checks every exposed series against the catalogue: a known name, exactly the declared labels
 * (plus `le` on histogram buckets). Default process metrics pass when they carry the k2_ prefix.
 * Returns the problems found, empty when the exposition is clean.
 */
export function auditExposition(text: string, defaultMetricNames: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const sample of parseExposition(text)) {
    const family = familyOf(sample.name, (name) => byName.has(name) || defaultMetricNames.has(name));
    const spec = byName.get(family);
    if (!spec) {
      if (!defaultMetricNames.has(family)) problems.push(`${sample.name}: not in the catalogue`);
      else if (!family.startsWith(metricPrefix))
        problems.push(`${sample.name}: default metric without the k2_ prefix`);
      continue;
    }
    const expected = [...spec.labelNames];
    if (spec.kind === 'histogram' && sample.name.endsWith('_bucket')) expected.push('le');
    const actual = Object.keys(sample.labels);
    if (expected.length !== actual.length || expected.some((label) => !(label in sample.labels))) {
      problems.push(
        `${sample.name}: labels {${actual.sort().join(',')}}, catalogue has {${expected.sort().join(',')}}`,
      );
    }
  }
  return problems;
}

/** The metric a sample belongs to: histograms expose _bucket, _sum and _count series. */
function familyOf(sampleName: string, known: (name: string) => boolean): string {
  if (known(sampleName)) return sampleName;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = sampleName.slice(0, -suffix.length);
    if (sampleName.endsWith(suffix) && known(base)) return base;
  }
  return sampleName;
}
