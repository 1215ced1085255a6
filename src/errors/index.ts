export {
  type DecodeFailureCode,
  decodeFailureCodes,
  PoisonRecordError,
  RegistryUnavailableError,
  SchemaRejectedError,
  UnknownSchemaError,
} from './codec.js';
export * from './iceberg.js';
export {
  ConfigError,
  isProgrammingError,
  isRetriable,
  K2Error,
  type SerializedError,
  StackError,
} from './k2-error.js';
