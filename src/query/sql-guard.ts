import { type DuckDBConnection, StatementType } from '@duckdb/node-api';
import { sqlString } from './duck-values.js';
import { MalformedSqlError, SqlRejectedError } from './errors.js';

/** A table the SQL names: `trades`, `market_data.trades_v2`. */
export interface TableRef {
  schema: string;
  name: string;
}

const ONE_SELECT = 'raw SQL must be exactly one read-only SELECT (or WITH ... SELECT) statement';

/**
 * Parses raw SQL with DuckDB's own parser (json_serialize_sql, which only serialises SELECTs) and
 * returns the tables it reads, CTE names left out. Refuses anything but one SELECT: COPY, ATTACH,
 * INSTALL, PRAGMA, SET, DDL and DML never reach execution. The session's locked, file-access-free
 * configuration is the second wall (DuckDbEngine).
 */
export async function inspectSelect(connection: DuckDBConnection, sql: string): Promise<TableRef[]> {
  const reader = await connection.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})::VARCHAR`);
  const answer = JSON.parse(String(reader.getRows()[0]?.[0])) as {
    error: boolean;
    error_type?: string;
    error_message?: string;
    statements?: unknown[];
  };
  if (answer.error) {
    if (answer.error_type === 'parser') throw new MalformedSqlError(`malformed SQL: ${answer.error_message}`);
    throw new SqlRejectedError(`${ONE_SELECT}: ${answer.error_message ?? answer.error_type}`);
  }
  if (answer.statements?.length !== 1) {
    throw new SqlRejectedError(`${ONE_SELECT}; found ${answer.statements?.length ?? 0} statements`);
  }
  const ctes = new Set<string>();
  const refs: TableRef[] = [];
  walk(answer.statements[0], (node) => {
    const cteMap = (node.cte_map as { map?: { key: string }[] } | undefined)?.map;
    for (const entry of cteMap ?? []) ctes.add(entry.key.toLowerCase());
    if (node.type === 'BASE_TABLE' && typeof node.table_name === 'string') {
      refs.push({ schema: String(node.schema_name ?? ''), name: node.table_name });
    }
  });
  const unique = new Map<string, TableRef>();
  for (const ref of refs) {
    if (ref.schema === '' && ctes.has(ref.name.toLowerCase())) continue;
    unique.set(`${ref.schema}.${ref.name}`.toLowerCase(), ref);
  }
  return [...unique.values()];
}

/** Prepares the statement (binding it against the session's views) and checks once more that it is a SELECT. */
export async function prepareSelect(connection: DuckDBConnection, sql: string) {
  let extracted: Awaited<ReturnType<DuckDBConnection['extractStatements']>>;
  try {
    extracted = await connection.extractStatements(sql);
  } catch (error) {
    throw new MalformedSqlError(`malformed SQL: ${duckMessage(error)}`, { cause: error });
  }
  if (extracted.count !== 1) throw new SqlRejectedError(`${ONE_SELECT}; found ${extracted.count} statements`);
  let prepared: Awaited<ReturnType<typeof extracted.prepare>>;
  try {
    prepared = await extracted.prepare(0);
  } catch (error) {
    throw new MalformedSqlError(duckMessage(error), { cause: error });
  }
  if (prepared.statementType !== StatementType.SELECT) {
    prepared.destroySync();
    throw new SqlRejectedError(ONE_SELECT);
  }
  return prepared;
}

/** DuckDB's message without the binding's "Failed to ...: " wrapper. */
export function duckMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Failed to (?:prepare|extract|execute)[^:]*: /, '');
}

function walk(value: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
  } else if (value !== null && typeof value === 'object') {
    visit(value as Record<string, unknown>);
    for (const child of Object.values(value)) walk(child, visit);
  }
}
