import pg from 'pg';
import {
  CatalogQueryError,
  CatalogUnavailableError,
  CommitStateUnknownError,
  NamespaceNotEmptyError,
  NoSuchNamespaceError,
  NoSuchTableError,
  TableExistsError,
} from '../errors/index.js';
import {
  identifierString,
  namespaceString,
  parseIdentifier,
  parseNamespace,
  type TableIdentifier,
} from './identifier.js';

/**
 * The catalog's view of a table: where its current metadata file is. Everything else lives in that
 * file; the catalog only arbitrates which file is current, by compare-and-swap.
 */
export interface CatalogTable {
  identifier: TableIdentifier;
  metadataLocation: string;
  previousMetadataLocation: string | undefined;
}

export type SwapOutcome = 'committed' | 'conflict';

/** What the committer needs from a catalog; tests wrap it to inject faults. */
export interface Catalog {
  readonly name: string;
  createNamespace(namespace: string | readonly string[], properties?: Record<string, string>): Promise<void>;
  namespaceExists(namespace: string | readonly string[]): Promise<boolean>;
  loadNamespaceProperties(namespace: string | readonly string[]): Promise<Record<string, string>>;
  listNamespaces(): Promise<string[][]>;
  dropNamespace(namespace: string | readonly string[]): Promise<void>;
  listTables(namespace: string | readonly string[]): Promise<TableIdentifier[]>;
  loadTable(identifier: string | TableIdentifier): Promise<CatalogTable>;
  /** Registers a table whose first metadata file is already written; TableExistsError if the name is taken. */
  registerTable(identifier: string | TableIdentifier, metadataLocation: string): Promise<void>;
  /**
   * Points the table at `next` if and only if it still points at `expected`. Throws
   * CommitStateUnknownError when the outcome cannot be known (the connection dropped mid-statement).
   */
  swapMetadataLocation(
    identifier: string | TableIdentifier,
    expected: string,
    next: string,
  ): Promise<SwapOutcome>;
  dropTable(identifier: string | TableIdentifier): Promise<void>;
  close(): Promise<void>;
}

export interface SqlCatalogOptions {
  /** `catalog_name`: every client of the same tables (PyIceberg, Java, K2) must use the same one. */
  name: string;
  connection: pg.PoolConfig;
  /** Create the two catalog tables when missing (as PyIceberg does on start). */
  createSchema?: boolean;
}

const DDL = [
  `CREATE TABLE IF NOT EXISTS iceberg_tables (
     catalog_name VARCHAR(255) NOT NULL,
     table_namespace VARCHAR(255) NOT NULL,
     table_name VARCHAR(255) NOT NULL,
     metadata_location VARCHAR(1000),
     previous_metadata_location VARCHAR(1000),
     PRIMARY KEY (catalog_name, table_namespace, table_name))`,
  `CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
     catalog_name VARCHAR(255) NOT NULL,
     namespace VARCHAR(255) NOT NULL,
     property_key VARCHAR(255) NOT NULL,
     property_value VARCHAR(1000) NOT NULL,
     PRIMARY KEY (catalog_name, namespace, property_key))`,
];

/** Serialises schema creation between processes (parallel test files, two supervisors). */
const SCHEMA_LOCK = 0x4b32_1ceb;

/** SQLSTATE classes after which a statement's effect is unknown: connection, shutdown, resources. */
const UNKNOWN_OUTCOME_CLASSES = ['08', '57', '53', '58', 'XX'];

/**
 * The SQL catalog layout shared by PyIceberg's SqlCatalog and Java's JdbcCatalog, on PostgreSQL.
 * All SQL is parameterised; names are validated before they get near a query.
 */
export class SqlCatalog implements Catalog {
  readonly name: string;
  private readonly pool: pg.Pool;
  private readonly createSchema: boolean;
  private ready: Promise<{ icebergType: boolean }> | undefined;

  constructor(options: SqlCatalogOptions) {
    this.name = options.name;
    this.createSchema = options.createSchema ?? true;
    this.pool = new pg.Pool({
      max: 4,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 10_000,
      statement_timeout: 15_000,
      query_timeout: 20_000,
      ...options.connection,
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  async createNamespace(namespace: string | readonly string[], properties: Record<string, string> = {}) {
    const ns = namespaceString(parseNamespace(namespace));
    const entries = Object.entries({ exists: 'true', ...properties });
    await this.query(
      `INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value)
       SELECT $1, $2, k, v FROM unnest($3::text[], $4::text[]) AS p(k, v)
       ON CONFLICT (catalog_name, namespace, property_key) DO NOTHING`,
      [this.name, ns, entries.map(([k]) => k), entries.map(([, v]) => v)],
    );
  }

  /** As PyIceberg: a namespace exists when it, or a namespace below it, has properties or tables. */
  async namespaceExists(namespace: string | readonly string[]): Promise<boolean> {
    const ns = namespaceString(parseNamespace(namespace));
    const { typeFilter } = await this.typeColumn();
    const below = `${ns.replace(/[!_%]/g, '!$&')}.%`;
    const { rows } = await this.query(
      `SELECT 1 FROM iceberg_namespace_properties
        WHERE catalog_name = $1 AND (namespace = $2 OR namespace LIKE $3 ESCAPE '!')
       UNION ALL
       SELECT 1 FROM iceberg_tables
        WHERE catalog_name = $1 AND (table_namespace = $2 OR table_namespace LIKE $3 ESCAPE '!') ${typeFilter}
       LIMIT 1`,
      [this.name, ns, below],
    );
    return rows.length > 0;
  }

  async loadNamespaceProperties(namespace: string | readonly string[]): Promise<Record<string, string>> {
    const ns = namespaceString(parseNamespace(namespace));
    const { rows } = await this.query<{ property_key: string; property_value: string }>(
      `SELECT property_key, property_value FROM iceberg_namespace_properties
        WHERE catalog_name = $1 AND namespace = $2`,
      [this.name, ns],
    );
    if (rows.length === 0 && !(await this.namespaceExists(ns))) throw new NoSuchNamespaceError(ns);
    return Object.fromEntries(rows.map((r) => [r.property_key, r.property_value]));
  }

  async listNamespaces(): Promise<string[][]> {
    const { typeFilter } = await this.typeColumn();
    const { rows } = await this.query<{ ns: string }>(
      `SELECT namespace AS ns FROM iceberg_namespace_properties WHERE catalog_name = $1
       UNION SELECT table_namespace FROM iceberg_tables WHERE catalog_name = $1 ${typeFilter}
       ORDER BY 1`,
      [this.name],
    );
    return rows.map((r) => r.ns.split('.'));
  }

  async dropNamespace(namespace: string | readonly string[]): Promise<void> {
    const ns = namespaceString(parseNamespace(namespace));
    if (!(await this.namespaceExists(ns))) throw new NoSuchNamespaceError(ns);
    if ((await this.listTables(ns)).length > 0) throw new NamespaceNotEmptyError(ns);
    await this.query('DELETE FROM iceberg_namespace_properties WHERE catalog_name = $1 AND namespace = $2', [
      this.name,
      ns,
    ]);
  }

  async listTables(namespace: string | readonly string[]): Promise<TableIdentifier[]> {
    const levels = parseNamespace(namespace);
    const { typeFilter } = await this.typeColumn();
    const { rows } = await this.query<{ table_name: string }>(
      `SELECT table_name FROM iceberg_tables
        WHERE catalog_name = $1 AND table_namespace = $2 ${typeFilter} ORDER BY table_name`,
      [this.name, namespaceString(levels)],
    );
    return rows.map((r) => ({ namespace: levels, name: r.table_name }));
  }

  async loadTable(identifier: string | TableIdentifier): Promise<CatalogTable> {
    const id = parseIdentifier(identifier);
    const { typeFilter } = await this.typeColumn();
    const { rows } = await this.query<{
      metadata_location: string | null;
      previous_metadata_location: string | null;
    }>(
      `SELECT metadata_location, previous_metadata_location FROM iceberg_tables
        WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 ${typeFilter}`,
      [this.name, namespaceString(id.namespace), id.name],
    );
    const row = rows[0];
    if (!row?.metadata_location) throw new NoSuchTableError(identifierString(id));
    return {
      identifier: id,
      metadataLocation: row.metadata_location,
      previousMetadataLocation: row.previous_metadata_location ?? undefined,
    };
  }

  async registerTable(identifier: string | TableIdentifier, metadataLocation: string): Promise<void> {
    const id = parseIdentifier(identifier);
    const ns = namespaceString(id.namespace);
    if (!(await this.namespaceExists(ns))) throw new NoSuchNamespaceError(ns);
    const { icebergType } = await this.typeColumn();
    try {
      await this.query(
        icebergType
          ? `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location,
               previous_metadata_location, iceberg_type) VALUES ($1, $2, $3, $4, NULL, 'TABLE')`
          : `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location,
               previous_metadata_location) VALUES ($1, $2, $3, $4, NULL)`,
        [this.name, ns, id.name, metadataLocation],
      );
    } catch (error) {
      if (error instanceof CatalogQueryError && error.sqlState === '23505') {
        throw new TableExistsError(identifierString(id));
      }
      throw error;
    }
  }

  async swapMetadataLocation(
    identifier: string | TableIdentifier,
    expected: string,
    next: string,
  ): Promise<SwapOutcome> {
    const id = parseIdentifier(identifier);
    const { typeFilter } = await this.typeColumn();
    const client = await this.connect();
    let released = false;
    try {
      const result = await client.query(
        `UPDATE iceberg_tables SET metadata_location = $5, previous_metadata_location = $4
          WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3
            AND metadata_location = $4 ${typeFilter}`,
        [this.name, namespaceString(id.namespace), id.name, expected, next],
      );
      return result.rowCount === 1 ? 'committed' : 'conflict';
    } catch (error) {
      client.release(true);
      released = true;
      const sqlState = definiteSqlState(error);
      if (sqlState) throw new CatalogQueryError(sqlState, describe(error), { cause: error });
      throw new CommitStateUnknownError(identifierString(id), next, { cause: error });
    } finally {
      if (!released) client.release();
    }
  }

  async dropTable(identifier: string | TableIdentifier): Promise<void> {
    const id = parseIdentifier(identifier);
    const { typeFilter } = await this.typeColumn();
    const result = await this.query(
      `DELETE FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 ${typeFilter}`,
      [this.name, namespaceString(id.namespace), id.name],
    );
    if (result.rowCount === 0) throw new NoSuchTableError(identifierString(id));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Java's newer layout adds `iceberg_type` ('TABLE' | 'VIEW', NULL meaning table): honour it when present. */
  private typeColumn(): Promise<{ icebergType: boolean; typeFilter: string }> {
    this.ready ??= this.prepare().catch((error) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready.then(({ icebergType }) => ({
      icebergType,
      typeFilter: icebergType ? `AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)` : '',
    }));
  }

  private async prepare(): Promise<{ icebergType: boolean }> {
    if (this.createSchema) {
      const client = await this.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        for (const statement of DDL) await client.query(statement);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new CatalogUnavailableError(`cannot create the catalog tables: ${(error as Error).message}`, {
          cause: error,
        });
      } finally {
        client.release();
      }
    }
    const { rows } = await this.rawQuery(
      `SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'iceberg_tables' AND column_name = 'iceberg_type'`,
      [],
    );
    return { icebergType: rows.length > 0 };
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw new CatalogUnavailableError(`cannot connect: ${describe(error)}`, { cause: error });
    }
  }

  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[]) {
    await this.typeColumn();
    return this.rawQuery<R>(text, values);
  }

  private async rawQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[]) {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      const sqlState = definiteSqlState(error);
      if (sqlState) throw new CatalogQueryError(sqlState, describe(error), { cause: error });
      throw new CatalogUnavailableError(describe(error), { cause: error });
    }
  }
}

/** The SQLSTATE of an error the server reported for a statement that certainly did not apply. */
function definiteSqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  return UNKNOWN_OUTCOME_CLASSES.includes(code.slice(0, 2)) ? undefined : code;
}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e?.code ? `${e.code} ${e.message ?? ''}`.trim() : (e?.message ?? String(error));
}
