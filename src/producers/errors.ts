import { K2Error } from '../errors/index.js';

/** A batch Kafka did not acknowledge after every retry; its messages were not delivered (or not confirmed). */
export class DeliveryError extends K2Error {
  constructor(
    readonly topics: readonly string[],
    readonly messages: number,
    readonly errorClass: string,
    reason: string,
    options: { retriable: boolean; cause?: unknown },
  ) {
    super(
      'K2_PRODUCE_DELIVERY',
      `${topics.join(', ')}: ${messages} messages not delivered: ${reason}`,
      options,
    );
  }
}

/** A source input that cannot become a record: a websocket frame, a CSV row. Skipped and counted, never fatal. */
export class SourceRecordError extends K2Error {
  constructor(
    /** Short, stable, bounded: the `reason` metric label (e.g. `not-json`, `bad-decimal`). */
    readonly reason: string,
    /** Where it came from: `frame`, or `file.csv:123`. */
    readonly where: string,
    message: string,
  ) {
    super('K2_SOURCE_BAD_RECORD', `${where}: ${message}`);
  }
}
