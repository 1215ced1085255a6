export { auditExposition, parseExposition, type Sample } from './audit.js';
export {
  createMetrics,
  type MetricCatalogue,
  type MetricName,
  type Metrics,
  metricPrefix,
  metricSpecs,
} from './catalogue.js';
export { countedErrors, initialiseSeries, type KnownLabels } from './initial.js';
export type { Labels, MetricSpec } from './typed.js';
