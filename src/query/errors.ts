import { K2Error } from '../errors/index.js';

/**
 * Errors of the hybrid query. Stable codes: the CLI and the HTTP handler map them to exit codes and
 * statuses by class, never by message text.
 */
export class QueryError extends K2Error {}

/** The request itself is wrong: a bad time, an inverted or huge window, a malformed symbol or option. */
export class InvalidQueryError extends QueryError {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super('K2_QUERY_INVALID', `${parameter}: ${message}`);
  }
}

/** The table is not in the catalog; `known` lists what the namespace holds. */
export class UnknownTableError extends QueryError {
  constructor(
    readonly table: string,
    readonly known: readonly string[],
    options: { cause?: unknown } = {},
  ) {
    super(
      'K2_QUERY_UNKNOWN_TABLE',
      `table ${table} does not exist${known.length > 0 ? ` (the namespace holds: ${known.join(', ')})` : ''}`,
      options,
    );
  }
}

/** No data file of the table and no record of its Kafka tail can hold the symbol. */
export class UnknownSymbolError extends QueryError {
  constructor(
    readonly table: string,
    readonly symbols: readonly string[],
  ) {
    super(
      'K2_QUERY_UNKNOWN_SYMBOL',
      `${table} has never held ${symbols.length === 1 ? 'symbol' : 'symbols'} ${symbols.join(', ')} ` +
        '(no data file of the snapshot holds it, and the Kafka tail read has none): check the spelling',
    );
  }
}

/** The answer would exceed the row limit: the caller must narrow the query or raise the limit. */
export class TooManyRowsError extends QueryError {
  constructor(
    readonly limit: number,
    hint: string,
  ) {
    super(
      'K2_QUERY_TOO_MANY_ROWS',
      `the answer has more than ${limit.toLocaleString('en-US')} rows; ${hint}`,
    );
  }
}

/** Raw SQL that is not one read-only SELECT (or WITH ... SELECT). */
export class SqlRejectedError extends QueryError {
  constructor(message: string) {
    super('K2_QUERY_SQL_REJECTED', message);
  }
}

/** Raw SQL DuckDB cannot parse or bind; the message is DuckDB's. */
export class MalformedSqlError extends QueryError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('K2_QUERY_SQL_MALFORMED', message, options);
  }
}

/** DuckDB failed on one of K2's own statements (an overflow, out of memory): DuckDB's message. */
export class QueryEngineError extends QueryError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('K2_QUERY_ENGINE', `query engine: ${message}`, options);
  }
}

/** The query ran past its deadline and was interrupted. */
export class QueryTimeoutError extends QueryError {
  constructor(readonly timeoutMs: number) {
    super('K2_QUERY_TIMEOUT', `the query did not finish in ${timeoutMs} ms and was interrupted`, {
      retriable: true,
    });
  }
}

/** The warehouse cannot be read: S3 or the catalog is down. Nothing partial is returned. */
export class WarehouseUnavailableError extends QueryError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('K2_QUERY_WAREHOUSE_UNAVAILABLE', message, { retriable: true, ...options });
  }
}

/** A strict query found that its answer would be partial (the Kafka tail could not be read in full). */
export class PartialAnswerError extends QueryError {
  constructor(message: string) {
    super('K2_QUERY_PARTIAL', `refusing a partial answer (strict): ${message}`, { retriable: true });
  }
}

/** Too many queries in flight: try again shortly. */
export class QueryBusyError extends QueryError {
  constructor(readonly limit: number) {
    super('K2_QUERY_BUSY', `${limit} queries are already running; try again shortly`, { retriable: true });
  }
}
