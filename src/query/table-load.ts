import { NoSuchTableError } from '../errors/index.js';
import { parseIdentifier } from '../iceberg/identifier.js';
import { currentSnapshot, type Snapshot, snapshotById } from '../iceberg/metadata.js';
import { loadTable, type Table, type Warehouse } from '../iceberg/table.js';
import { type TableName, tableNames } from '../iceberg/types.js';
import { InvalidQueryError, UnknownTableError } from './errors.js';

/** Loads a table; a missing one fails with the tables its namespace does hold. */
export async function loadOrExplain(warehouse: Warehouse, identifier: string): Promise<Table> {
  try {
    return await loadTable(warehouse, identifier);
  } catch (error) {
    if (!(error instanceof NoSuchTableError)) throw error;
    const id = parseIdentifier(identifier);
    const known = await warehouse.catalog.listTables(id.namespace).catch(() => []);
    throw new UnknownTableError(
      identifier,
      known.map((t) => `${t.namespace.join('.')}.${t.name}`),
      { cause: error },
    );
  }
}

export function pickSnapshot(table: Table, snapshotId: bigint | undefined): Snapshot | undefined {
  if (snapshotId === undefined) return currentSnapshot(table.metadata);
  const snapshot = snapshotById(table.metadata, snapshotId);
  if (!snapshot)
    throw new InvalidQueryError('snapshot', `${snapshotId} is not a snapshot of this table (expired?)`);
  return snapshot;
}

/** The K2 table type behind a catalog table: its `k2.table` property, else its name. */
export function k2TableOf(table: Table): TableName | undefined {
  const name = table.metadata.properties?.['k2.table'] ?? table.identifier.name;
  return (tableNames as readonly string[]).includes(name) ? (name as TableName) : undefined;
}
