import type { IHeaders, Message } from 'kafkajs';
import { K2Error } from '../errors/index.js';

export type FailureStage = 'decode' | 'validate' | 'sequence' | 'encode' | 'write';

/**
 * Why a record is quarantined: the plain error shape that crosses the worker boundary
 * (SerializedError) plus where it failed. A codec DecodeFailure maps as
 * `{ name: 'PoisonRecordError', code, retriable, message: reason, stage: 'decode' }`.
 */
export interface ProcessingFailure {
  /** The error's class name: the k2.error.class header and the `error_class` metric label. */
  name: string;
  code: string;
  retriable: boolean;
  message: string;
  stage: FailureStage;
}

/** A record as consumed: kafkajs's KafkaMessage with its topic and partition. Bytes must not be detached (transferred). */
export interface SourceRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers?: IHeaders;
  /** Epoch milliseconds as kafkajs gives it. */
  timestamp: string;
}

export const dlqHeader = {
  errorClass: 'k2.error.class',
  code: 'k2.error.code',
  reason: 'k2.error.reason',
  stage: 'k2.error.stage',
  retriable: 'k2.error.retriable',
  time: 'k2.error.time',
  sourceTopic: 'k2.source.topic',
  sourcePartition: 'k2.source.partition',
  sourceOffset: 'k2.source.offset',
  sourceTimestamp: 'k2.source.timestamp',
  /** The consumer group that quarantined the record: a restart re-reads its own DLQ writes by it. */
  group: 'k2.consumer.group',
} as const;

const k2Headers = new Set<string>(Object.values(dlqHeader));

/** Reasons are cut to this many UTF-8 bytes: headers count against the broker's message size limit. */
export const maxReasonBytes = 1_024;

export function dlqTopicFor(topic: string): string {
  return `${topic}.dlq`;
}

export interface DlqMessage {
  topic: string;
  message: Message & { key: Buffer | null; value: Buffer | null; headers: IHeaders };
}

/**
 * The DLQ record for a failed source record: key and value bytes untouched, written to the source's
 * partition number (the DLQ has as many partitions), the source headers kept, and the k2.* headers
 * describing the failure and the source position (replacing any k2.* headers of an earlier
 * quarantine). The timestamp is left to the producer so DLQ retention counts from the quarantine;
 * the source time is in k2.source.timestamp.
 */
export function dlqMessage(
  source: SourceRecord,
  failure: ProcessingFailure,
  at: Date,
  options: { group?: string } = {},
): DlqMessage {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(source.headers ?? {})) {
    if (value !== undefined && !k2Headers.has(name)) headers[name] = value;
  }
  Object.assign(headers, {
    [dlqHeader.errorClass]: failure.name,
    [dlqHeader.code]: failure.code,
    [dlqHeader.reason]: truncateUtf8(failure.message, maxReasonBytes),
    [dlqHeader.stage]: failure.stage,
    [dlqHeader.retriable]: String(failure.retriable),
    [dlqHeader.time]: at.toISOString(),
    [dlqHeader.sourceTopic]: source.topic,
    [dlqHeader.sourcePartition]: String(source.partition),
    [dlqHeader.sourceOffset]: source.offset,
    [dlqHeader.sourceTimestamp]: source.timestamp,
  });
  if (options.group !== undefined) headers[dlqHeader.group] = options.group;
  return {
    topic: dlqTopicFor(source.topic),
    message: {
      key: asBuffer(source.key),
      value: asBuffer(source.value),
      headers,
      partition: source.partition,
    },
  };
}

/** A Buffer view of the same bytes, no copy. */
function asBuffer(bytes: Uint8Array | null): Buffer | null {
  if (bytes === null || Buffer.isBuffer(bytes)) return bytes;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A DLQ record read back: the failure, the source position, and the source's own bytes and headers. */
export interface DlqRecord {
  source: { topic: string; partition: number; offset: string; timestamp: string; group?: string };
  failure: {
    errorClass: string;
    code: string;
    reason: string;
    stage: string;
    retriable: boolean;
    time: string;
  };
  key: Buffer | null;
  value: Buffer | null;
  /** The source's headers, without the k2.* ones. */
  headers: IHeaders;
}

export class MalformedDlqRecordError extends K2Error {
  constructor(missing: string) {
    super('K2_DLQ_MALFORMED', `not a K2 DLQ record: header ${missing} missing`);
  }
}

export function readDlqMessage(message: {
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}): DlqRecord {
  const all = message.headers ?? {};
  const text = (name: string): string => {
    const value = all[name];
    const single = Array.isArray(value) ? value.at(-1) : value;
    if (single === undefined) throw new MalformedDlqRecordError(name);
    return single.toString();
  };
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(all)) if (!k2Headers.has(name)) headers[name] = value;
  return {
    source: {
      topic: text(dlqHeader.sourceTopic),
      partition: Number(text(dlqHeader.sourcePartition)),
      offset: text(dlqHeader.sourceOffset),
      timestamp: text(dlqHeader.sourceTimestamp),
      ...(all[dlqHeader.group] !== undefined ? { group: text(dlqHeader.group) } : {}),
    },
    failure: {
      errorClass: text(dlqHeader.errorClass),
      code: text(dlqHeader.code),
      reason: text(dlqHeader.reason),
      stage: text(dlqHeader.stage),
      retriable: text(dlqHeader.retriable) === 'true',
      time: text(dlqHeader.time),
    },
    key: message.key,
    value: message.value,
    headers,
  };
}

const encoder = new TextEncoder();
const ellipsis = '…';

/** At most `maxBytes` of UTF-8, cut on a character boundary, marked with an ellipsis when cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  // encodeInto writes whole characters only, so `read` never splits one.
  const { read } = encoder.encodeInto(text, new Uint8Array(maxBytes - Buffer.byteLength(ellipsis)));
  return text.slice(0, read) + ellipsis;
}
