/** The hybrid query's public surface: what the CLI, `k2 serve` and the supervisor's GET /query use. */
export * from './errors.js';
export {
  contentTypes,
  type OutputFormat,
  outputFormats,
  render,
  summaryLine,
  type TimestampStyle,
} from './format/index.js';
export { createQueryHandler, type QueryHandler, type QueryHandlerOptions, statusOf } from './http.js';
export { parseQueryRequest, type QueryParams, type QueryRequest, type QuerySpec } from './request.js';
export type { Cell, ColumnType, QueryMeta, QueryResult, ResultColumn, Warning } from './result.js';
export {
  type OpenQueryServiceOptions,
  openQueryService,
  QueryService,
  type QueryServiceDeps,
  queryDefaults,
} from './service.js';
