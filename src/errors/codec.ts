import { K2Error } from './k2-error.js';

/**
 * Why one record could not become a row. The code is stable (DLQ headers, metrics and tests read
 * it); only REGISTRY_UNAVAILABLE is retriable: the record is fine, the registry is not.
 */
export const decodeFailureCodes = [
  'K2_DECODE_EMPTY',
  'K2_DECODE_TOO_SHORT',
  'K2_DECODE_BAD_MAGIC',
  'K2_DECODE_OVERSIZED',
  'K2_DECODE_UNKNOWN_SCHEMA',
  'K2_REGISTRY_UNAVAILABLE',
  'K2_DECODE_INCOMPATIBLE_SCHEMA',
  'K2_DECODE_TRUNCATED',
  'K2_DECODE_TRAILING_BYTES',
  'K2_DECODE_MALFORMED',
  'K2_DECODE_MISSING_FIELD',
  'K2_DECODE_BAD_ENUM',
  'K2_DECODE_DECIMAL_SCALE',
  'K2_DECODE_DECIMAL_OVERFLOW',
  'K2_DECODE_NEGATIVE',
  'K2_DECODE_EMPTY_STRING',
  'K2_DECODE_TIMESTAMP_RANGE',
  'K2_DECODE_INVALID_UTF8',
] as const;
export type DecodeFailureCode = (typeof decodeFailureCodes)[number];

/** A record value that can never become a row as it is: it goes to the DLQ. */
export class PoisonRecordError extends K2Error {
  declare readonly code: DecodeFailureCode;
  constructor(code: Exclude<DecodeFailureCode, 'K2_REGISTRY_UNAVAILABLE'>, message: string) {
    super(code, message, { retriable: false });
  }
}

/** The schema registry did not answer (network, 5xx, timeout): try the batch again later. */
export class RegistryUnavailableError extends K2Error {
  readonly url: string;
  constructor(url: string, message: string, options: { cause?: unknown } = {}) {
    super('K2_REGISTRY_UNAVAILABLE', message, { retriable: true, ...options });
    this.url = url;
  }
}

/** The registry answered that it has no schema with this id (40403): every record written with it is poison. */
export class UnknownSchemaError extends K2Error {
  readonly schemaId: number;
  constructor(schemaId: number, options: { cause?: unknown } = {}) {
    super('K2_DECODE_UNKNOWN_SCHEMA', `schema id ${schemaId} is not in the registry`, options);
    this.schemaId = schemaId;
  }
}

/** The registry refused a schema (409 incompatible, 422 invalid) at registration. */
export class SchemaRejectedError extends K2Error {
  readonly subject: string;
  readonly status: number;
  constructor(subject: string, status: number, message: string, options: { cause?: unknown } = {}) {
    super('K2_SCHEMA_REJECTED', `${subject}: ${message}`, options);
    this.subject = subject;
    this.status = status;
  }
}
