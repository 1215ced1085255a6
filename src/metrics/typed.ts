/**
 * Label-typed views of prom-client metrics. Every label of a metric is required and no other key
 * compiles, so a call with a wrong label set fails `tsc` instead of throwing at run time.
 */
export type Labels<L extends string> = { readonly [K in L]: string | number };

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec<K extends MetricKind = MetricKind, L extends string = string> {
  readonly kind: K;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly buckets?: readonly number[];
}

export function counter<const L extends string = never>(
  name: `k2_${string}_total`,
  help: string,
  labelNames: readonly L[] = [],
): MetricSpec<'counter', L> {
  return { kind: 'counter', name, help, labelNames };
}

export function gauge<const L extends string = never>(
  name: `k2_${string}`,
  help: string,
  labelNames: readonly L[] = [],
): MetricSpec<'gauge', L> {
  return { kind: 'gauge', name, help, labelNames };
}

export function histogram<const L extends string = never>(
  name: `k2_${string}`,
  help: string,
  labelNames: readonly L[],
  buckets: readonly number[],
): MetricSpec<'histogram', L> {
  return { kind: 'histogram', name, help, labelNames, buckets };
}

interface LabelledCounter<L extends string> {
  inc(labels: Labels<L>, value?: number): void;
  remove(labels: Labels<L>): void;
}
interface PlainCounter {
  inc(value?: number): void;
}
interface LabelledGauge<L extends string> {
  set(labels: Labels<L>, value: number): void;
  inc(labels: Labels<L>, value?: number): void;
  dec(labels: Labels<L>, value?: number): void;
  remove(labels: Labels<L>): void;
}
interface PlainGauge {
  set(value: number): void;
  inc(value?: number): void;
  dec(value?: number): void;
}
interface LabelledHistogram<L extends string> {
  observe(labels: Labels<L>, value: number): void;
  remove(labels: Labels<L>): void;
}
interface PlainHistogram {
  observe(value: number): void;
}

type Unlabelled<L extends string> = [L] extends [never] ? true : false;

export type MetricOf<S> =
  S extends MetricSpec<'counter', infer L>
    ? Unlabelled<L> extends true
      ? PlainCounter
      : LabelledCounter<L>
    : S extends MetricSpec<'gauge', infer L>
      ? Unlabelled<L> extends true
        ? PlainGauge
        : LabelledGauge<L>
      : S extends MetricSpec<'histogram', infer L>
        ? Unlabelled<L> extends true
          ? PlainHistogram
          : LabelledHistogram<L>
        : never;
