import { TableExistsError } from '../errors/index.js';
import type { Catalog } from './catalog.js';
import { identifierString, parseIdentifier, type TableIdentifier } from './identifier.js';
import type { FileIO } from './io.js';
import { type ManifestFile, readManifestList } from './manifest-list.js';
import {
  type NewTable,
  newTableMetadata,
  nextMetadataFile,
  parseTableMetadata,
  type Snapshot,
  serializeTableMetadata,
  type TableMetadata,
} from './metadata.js';
import { k2TableDefinition, MARKET_DATA } from './tables.js';
import type { K2TableName } from './types.js';

/** Where tables live and how to reach them: the catalog that names them and the store that holds them. */
export interface Warehouse {
  catalog: Catalog;
  io: FileIO;
  /** Default root for new tables, e.g. s3://k2-warehouse/warehouse/k2 (per catalog, so catalogs never share files). */
  location: string;
}

/** A table as of one metadata file. Immutable: a commit produces a new one. */
export interface Table {
  identifier: TableIdentifier;
  metadataLocation: string;
  metadata: TableMetadata;
}

export async function loadTable(warehouse: Warehouse, identifier: string | TableIdentifier): Promise<Table> {
  const row = await warehouse.catalog.loadTable(identifier);
  return {
    identifier: row.identifier,
    metadataLocation: row.metadataLocation,
    metadata: await readMetadata(warehouse.io, row.metadataLocation),
  };
}

export async function readMetadata(io: FileIO, uri: string): Promise<TableMetadata> {
  const bytes = await io.read(uri);
  return parseTableMetadata(new TextDecoder().decode(bytes), uri);
}

export async function writeMetadata(io: FileIO, uri: string, metadata: TableMetadata): Promise<void> {
  await io.write(uri, new TextEncoder().encode(serializeTableMetadata(metadata)));
}

export interface CreateTableOptions extends Omit<NewTable, 'location'> {
  location?: string;
}

/** Writes the first metadata file, then registers it; a taken name removes the file and throws TableExistsError. */
export async function createTable(
  warehouse: Warehouse,
  identifier: string | TableIdentifier,
  options: CreateTableOptions,
): Promise<Table> {
  const id = parseIdentifier(identifier);
  const location = options.location ?? (await defaultLocation(warehouse, id));
  const metadata = newTableMetadata({ ...options, location });
  const metadataLocation = nextMetadataFile(metadata.location, undefined);
  await writeMetadata(warehouse.io, metadataLocation, metadata);
  try {
    await warehouse.catalog.registerTable(id, metadataLocation);
  } catch (error) {
    await warehouse.io.delete([metadataLocation]).catch(() => undefined);
    throw error;
  }
  return { identifier: id, metadataLocation, metadata };
}

/** Creates one of K2's market-data tables, or loads it when it exists already. */
export async function ensureK2Table(
  warehouse: Warehouse,
  table: K2TableName,
  namespace: string = MARKET_DATA,
): Promise<Table> {
  if (!(await warehouse.catalog.namespaceExists(namespace)))
    await warehouse.catalog.createNamespace(namespace);
  const id = parseIdentifier(`${namespace}.${table}`);
  try {
    const location = await defaultLocation(warehouse, id);
    return await createTable(warehouse, id, k2TableDefinition(table, location));
  } catch (error) {
    if (error instanceof TableExistsError) return loadTable(warehouse, id);
    throw error;
  }
}

/** The namespace's `location` property if set (as PyIceberg does), else `<warehouse>/<ns levels>/<table>`. */
async function defaultLocation(warehouse: Warehouse, id: TableIdentifier): Promise<string> {
  const properties = await warehouse.catalog.loadNamespaceProperties(id.namespace);
  const base =
    properties.location?.replace(/\/+$/, '') ??
    `${warehouse.location.replace(/\/+$/, '')}/${id.namespace.join('/')}`;
  return `${base}/${id.name}`;
}

export async function readManifestFiles(io: FileIO, snapshot: Snapshot | undefined): Promise<ManifestFile[]> {
  if (!snapshot) return [];
  return readManifestList(await io.read(snapshot['manifest-list']), snapshot['manifest-list']);
}

export function tableName(table: Table): string {
  return identifierString(table.identifier);
}
