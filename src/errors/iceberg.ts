import { K2Error } from './k2-error.js';

/**
 * Errors of the Iceberg writer and catalog. Stable codes; `retriable` says whether the same call may
 * succeed later (a dependency down) or never will (bad input, corrupt metadata, a fenced writer).
 */
export class IcebergError extends K2Error {}

/** A namespace or table name K2 refuses (empty, too long, or outside [A-Za-z0-9_-]). */
export class InvalidNameError extends IcebergError {
  constructor(
    readonly identifier: string,
    reason: string,
  ) {
    super('K2_ICEBERG_INVALID_NAME', `invalid Iceberg name ${JSON.stringify(identifier)}: ${reason}`);
  }
}

export class NoSuchNamespaceError extends IcebergError {
  constructor(readonly namespace: string) {
    super('K2_ICEBERG_NO_SUCH_NAMESPACE', `namespace ${namespace} does not exist`);
  }
}

export class NamespaceNotEmptyError extends IcebergError {
  constructor(readonly namespace: string) {
    super('K2_ICEBERG_NAMESPACE_NOT_EMPTY', `namespace ${namespace} still holds tables`);
  }
}

export class NoSuchTableError extends IcebergError {
  constructor(readonly table: string) {
    super('K2_ICEBERG_NO_SUCH_TABLE', `table ${table} does not exist`);
  }
}

export class TableExistsError extends IcebergError {
  constructor(readonly table: string) {
    super('K2_ICEBERG_TABLE_EXISTS', `table ${table} already exists`);
  }
}

/** The catalog database cannot be reached or failed a query; the catalog row is unchanged. */
export class CatalogUnavailableError extends IcebergError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('K2_ICEBERG_CATALOG_UNAVAILABLE', `catalog: ${message}`, { retriable: true, ...options });
  }
}

/** The catalog database rejected a statement (a constraint, a permission, a missing table). */
export class CatalogQueryError extends IcebergError {
  constructor(
    readonly sqlState: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('K2_ICEBERG_CATALOG_QUERY', `catalog: ${sqlState} ${message}`, options);
  }
}

/**
 * The compare-and-swap of metadata_location found another writer's commit. The committer reloads
 * and rebases; callers see it only when the retries are exhausted.
 */
export class CommitConflictError extends IcebergError {
  constructor(
    readonly table: string,
    readonly attempts: number,
  ) {
    super(
      'K2_ICEBERG_COMMIT_CONFLICT',
      `${table}: commit lost the compare-and-swap ${attempts} times in a row; nothing was committed`,
      { retriable: true },
    );
  }
}

/**
 * The UPDATE of the catalog row may or may not have been applied (the connection dropped after it
 * was sent). The committer resolves it by reloading; this escapes only if the reload fails too.
 */
export class CommitStateUnknownError extends IcebergError {
  constructor(
    readonly table: string,
    readonly metadataLocation: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      'K2_ICEBERG_COMMIT_STATE_UNKNOWN',
      `${table}: the catalog may or may not hold ${metadataLocation}; reload and look for the commit id before retrying`,
      { retriable: true, ...options },
    );
  }
}

/**
 * A commit would record offsets that overlap what the table already holds for the group: the rows
 * would be duplicates (a zombie writer, or a batch replayed with a new commit id). Never retried.
 */
export class OffsetConflictError extends IcebergError {
  constructor(
    readonly table: string,
    readonly group: string,
    readonly topic: string,
    readonly partition: number,
    readonly committedNextOffset: bigint,
    readonly batchFromOffset: bigint,
  ) {
    super(
      'K2_ICEBERG_OFFSET_CONFLICT',
      `${table}: group ${group} already committed ${topic}/${partition} up to offset ${committedNextOffset}, ` +
        `the batch starts at ${batchFromOffset}; refusing to commit duplicates`,
    );
  }
}

/** An object in the warehouse could not be read or written. `retriable` for 5xx, throttling and network faults. */
export class StorageError extends IcebergError {
  constructor(
    readonly uri: string,
    message: string,
    options: { retriable?: boolean; cause?: unknown; code?: string } = {},
  ) {
    super(options.code ?? 'K2_ICEBERG_STORAGE', `${uri}: ${message}`, options);
  }
}

/** A file the table refers to is missing from the warehouse. */
export class FileNotFoundError extends StorageError {
  constructor(uri: string, options: { cause?: unknown } = {}) {
    super(uri, 'not found', { ...options, code: 'K2_ICEBERG_FILE_NOT_FOUND' });
  }
}

/** The warehouse bucket does not exist: a configuration error, not a transient one. */
export class BucketNotFoundError extends StorageError {
  constructor(uri: string, options: { cause?: unknown } = {}) {
    super(uri, 'bucket does not exist', { ...options, code: 'K2_ICEBERG_BUCKET_NOT_FOUND' });
  }
}

/** A metadata, manifest list or manifest file exists but cannot be understood. */
export class CorruptMetadataError extends IcebergError {
  constructor(
    readonly uri: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('K2_ICEBERG_CORRUPT_METADATA', `${uri}: ${message}`, options);
  }
}

/** The table uses something K2 does not write or read (another format version, delete files, a transform). */
export class UnsupportedTableError extends IcebergError {
  constructor(
    readonly table: string,
    message: string,
  ) {
    super('K2_ICEBERG_UNSUPPORTED', `${table}: ${message}`);
  }
}

/** A data file handed to a commit does not fit the table (wrong spec, missing partition value, not on S3). */
export class InvalidDataFileError extends IcebergError {
  constructor(
    readonly filePath: string,
    message: string,
  ) {
    super('K2_ICEBERG_INVALID_DATA_FILE', `${filePath}: ${message}`);
  }
}
