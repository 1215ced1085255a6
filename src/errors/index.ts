export {
  ConfigError,
  isProgrammingError,
  isRetriable,
  K2Error,
  type SerializedError,
  StackError,
} from './k2-error.js';
