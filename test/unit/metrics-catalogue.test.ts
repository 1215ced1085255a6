import { Counter, register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Journal, metricsProjection } from '../../src/journal/index.js';
import { auditExposition, createMetrics, metricSpecs, parseExposition } from '../../src/metrics/index.js';
import { everyEvent } from '../support/journal-events.js';

function projected() {
  const metrics = createMetrics();
  const journal = new Journal({ now: () => 0 });
  journal.subscribe(metricsProjection(metrics.catalogue));
  for (const event of everyEvent) journal.append(event);
  metrics.catalogue.journalPersisted.inc(3);
  metrics.catalogue.journalDropped.inc();
  metrics.catalogue.journalBacklog.set(4);
  return metrics;
}

describe('metric catalogue', () => {
  it('checks label sets at compile time, and prom-client refuses an unknown label at run time too', () => {
    const { catalogue } = createMetrics({ defaultMetrics: false });
    catalogue.messagesConsumed.inc({ topic: 'market.crypto.trades', partition: 0 });
    catalogue.journalDropped.inc();
    // @ts-expect-error a label outside the catalogue does not compile
    expect(() => catalogue.messagesConsumed.inc({ topic: 't', partition: 0, symbol: 'BTCUSDT' })).toThrow(
      /symbol/,
    );
    // @ts-expect-error a misspelt label does not compile
    expect(() => catalogue.dlqMessages.inc({ topic: 't', errorClass: 'DecodeError' })).toThrow();
    const compileOnly = () => {
      // @ts-expect-error a missing label does not compile
      catalogue.consumerLag.set({ topic: 't' }, 1);
      // @ts-expect-error an unlabelled metric takes no labels
      catalogue.journalDropped.inc({ topic: 't' });
      // @ts-expect-error a gauge of the catalogue has no observe
      catalogue.consumerLag.observe({ topic: 't', partition: 0 }, 1);
      // @ts-expect-error there is no metric by that name
      catalogue.messagesConsumd.inc({ topic: 't', partition: 0 });
    };
    expect(compileOnly).toBeTypeOf('function');
  });

  it('exposes only catalogue series with exactly their labels, plus the k2_ default process metrics', async () => {
    const { registry, defaultMetricNames } = projected();
    const text = await registry.metrics();
    expect(auditExposition(text, defaultMetricNames)).toEqual([]);
    const names = new Set(parseExposition(text).map((s) => s.name));
    for (const name of [
      'k2_process_resident_memory_bytes',
      'k2_nodejs_heap_size_used_bytes',
      'k2_nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(names).toContain(name);
    }
  });

  it('emits every catalogue metric from the journal projection', async () => {
    const { registry } = projected();
    const names = new Set(
      parseExposition(await registry.metrics()).map((s) => s.name.replace(/_(bucket|sum|count)$/, '')),
    );
    expect(
      Object.values(metricSpecs)
        .filter((spec) => !names.has(spec.name))
        .map((s) => s.name),
    ).toEqual([]);
  });

  it('catches, at run time, a series outside the catalogue or with the wrong labels', async () => {
    const { registry, catalogue, defaultMetricNames } = createMetrics();
    new Counter({ name: 'k2_rogue_total', help: 'not catalogued', registers: [registry] }).inc();
    new Counter({ name: 'process_unprefixed_total', help: 'unprefixed', registers: [registry] }).inc();
    // Partial labels type-check nowhere but in code that casts; prom-client accepts them, the audit does not.
    (catalogue.consumerLag as unknown as { set(labels: object, v: number): void }).set({ topic: 't' }, 5);
    expect(auditExposition(await registry.metrics(), defaultMetricNames)).toEqual([
      'k2_consumer_lag: labels {topic}, catalogue has {partition,topic}',
      'k2_rogue_total: not in the catalogue',
      'process_unprefixed_total: not in the catalogue',
    ]);
  });

  it('keeps each instance in its own registry, never the global one', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.catalogue.messagesWritten.inc({ table: 'trades_v2' }, 5);
    expect(await b.registry.getSingleMetricAsString('k2_messages_written_total')).not.toContain('trades_v2');
    expect(globalRegistry.getMetricsAsArray().filter((m) => m.name.startsWith('k2_'))).toEqual([]);
  });

  it('parses escaped label values in the exposition', () => {
    expect(parseExposition('k2_x_total{a="q\\"uote",b="2"} 3\n# HELP k2_x_total x\n')).toEqual([
      { name: 'k2_x_total', labels: { a: 'q\\"uote', b: '2' }, value: '3' },
    ]);
  });
});
