import { InvalidNameError } from '../errors/index.js';

/** A table's name in the catalog: namespace levels and a table name (Iceberg's TableIdentifier). */
export interface TableIdentifier {
  namespace: readonly string[];
  name: string;
}

/**
 * K2 accepts letters, digits, `_` and `-` in each level: names end up in SQL (always as parameters),
 * in S3 keys and in other engines' identifiers, and a '.' would be ambiguous with the level separator.
 */
const LEVEL = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const MAX_LENGTH = 255;

export function checkName(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidNameError(String(name), 'empty');
  if (name.length > MAX_LENGTH) throw new InvalidNameError(name, `longer than ${MAX_LENGTH} characters`);
  if (!LEVEL.test(name)) throw new InvalidNameError(name, 'only letters, digits, _ and - are allowed');
  return name;
}

/** `a.b` is the namespace with levels a and b (how PyIceberg and Java store nested namespaces). */
export function parseNamespace(namespace: string | readonly string[]): string[] {
  const levels = typeof namespace === 'string' ? namespace.split('.') : [...namespace];
  if (levels.length === 0) throw new InvalidNameError('', 'empty namespace');
  levels.forEach(checkName);
  const joined = levels.join('.');
  if (joined.length > MAX_LENGTH) throw new InvalidNameError(joined, `longer than ${MAX_LENGTH} characters`);
  return levels;
}

/** `market_data.trades_v2`: the last level is the table, the rest its namespace. */
export function parseIdentifier(identifier: string | TableIdentifier): TableIdentifier {
  if (typeof identifier !== 'string') {
    return { namespace: parseNamespace(identifier.namespace), name: checkName(identifier.name) };
  }
  const levels = identifier.split('.');
  if (levels.length < 2) throw new InvalidNameError(identifier, 'expected <namespace>.<table>');
  return { namespace: parseNamespace(levels.slice(0, -1)), name: checkName(levels.at(-1)!) };
}

export function namespaceString(namespace: readonly string[]): string {
  return namespace.join('.');
}

export function identifierString(id: TableIdentifier): string {
  return `${namespaceString(id.namespace)}.${id.name}`;
}
