/** Base of every error K2 raises on purpose. Decisions (retry, DLQ, health) read `code` and `retriable`, never the message. */
export class K2Error extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }

  /** The plain shape that crosses a worker boundary. */
  toJSON(): SerializedError {
    return { name: this.name, code: this.code, retriable: this.retriable, message: this.message };
  }
}

export interface SerializedError {
  name: string;
  code: string;
  retriable: boolean;
  message: string;
}

/** A configuration value is missing or invalid; `key` names it as the user wrote it. */
export class ConfigError extends K2Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super('K2_CONFIG_INVALID', `${key}: ${message}`);
    this.key = key;
  }
}

/** The local development stack could not be brought up or down. */
export class StackError extends K2Error {
  readonly service: string;
  constructor(service: string, message: string, options: { cause?: unknown } = {}) {
    super('K2_STACK', `${service}: ${message}`, options);
    this.service = service;
  }
}

/** Programming errors are never retried. */
export function isProgrammingError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError;
}

export function isRetriable(error: unknown): boolean {
  if (error instanceof K2Error) return error.retriable;
  if (isProgrammingError(error)) return false;
  const flagged = (error as { retriable?: unknown } | null)?.retriable;
  return flagged === true;
}
