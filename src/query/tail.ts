import type { ColumnSet } from '../codec/columns.js';
import type { DecodedBatch } from '../codec/decode.js';
import { gatherRows, takeRows } from '../codec/select.js';
import { isProgrammingError } from '../errors/index.js';
import type { TopicOffsets } from '../iceberg/offsets.js';
import type { TableName } from '../iceberg/types.js';
import type { CodecPool, WriterSchemaSource } from '../workers/pool.js';
import type { TailSource } from './kafka-source.js';
import type { Warning } from './result.js';
import { type RowFilter, selectRows } from './tail-filter.js';
import { rangeRecords, type TailRange, tailRanges } from './tail-ranges.js';

export interface TailRequest {
  table: TableName;
  topics: readonly string[];
  /** The group's offsets as of the snapshot the Iceberg side reads. */
  recorded: TopicOffsets;
  filter: RowFilter;
  /** Above this many records the tail is not read at all: the answer comes from Iceberg, flagged partial. */
  maxRecords: number;
  signal: AbortSignal;
}

export interface TailRead {
  status: 'read' | 'unavailable' | 'too-large';
  ranges: TailRange[];
  records: number;
  /** Matching rows, deduplicated by message_id within the tail; undefined when none. */
  rows: ColumnSet | undefined;
  decodeFailures: number;
  warnings: Warning[];
  /** Something that should be in the answer is not (Kafka or the registry down, records expired). */
  partial: boolean;
}

export interface TailDeps {
  source: TailSource;
  pool: CodecPool;
  schemas: WriterSchemaSource;
}

/** Decode tasks in flight while the next fetch runs; bounds the memory a tail read holds undecoded. */
const DECODES_IN_FLIGHT = 4;

/**
 * Reads the uncommitted tail of a table's topics, [recorded offset, high watermark) per partition,
 * decodes it in the worker pool and keeps the rows matching the query. A Kafka or registry failure
 * never fails the query: the tail is reported unavailable and the answer is flagged partial.
 */
export async function readTail(deps: TailDeps, request: TailRequest): Promise<TailRead> {
  const read: TailRead = {
    status: 'read',
    ranges: [],
    records: 0,
    rows: undefined,
    decodeFailures: 0,
    warnings: [],
    partial: false,
  };
  try {
    for (const topic of request.topics) {
      const plan = tailRanges(topic, request.recorded.get(topic), await deps.source.watermarks(topic));
      read.ranges.push(...plan.ranges);
      for (const t of plan.truncated) {
        read.partial = true;
        read.warnings.push({
          code: 'K2_QUERY_TAIL_TRUNCATED',
          message: `${t.topic}/${t.partition}: offsets ${t.recorded}..${t.low - 1n} were never committed to the table and Kafka no longer holds them (retention)`,
        });
      }
      for (const a of plan.ahead) {
        read.warnings.push({
          code: 'K2_QUERY_TAIL_AHEAD',
          message: `${a.topic}/${a.partition}: the table records offset ${a.recorded}, beyond Kafka's high watermark ${a.high} (was the topic re-created?); no tail read for it`,
        });
      }
    }
  } catch (error) {
    if (isProgrammingError(error)) throw error;
    return unavailable(read, 'Kafka', error);
  }
  const total = rangeRecords(read.ranges);
  if (total > BigInt(request.maxRecords)) {
    return {
      ...read,
      status: 'too-large',
      partial: true,
      warnings: [
        ...read.warnings,
        {
          code: 'K2_QUERY_TAIL_TOO_LARGE',
          message: `the uncommitted Kafka tail holds ${total} records, more than the ${request.maxRecords} a query reads; answered from Iceberg only (is ingestion behind?)`,
        },
      ],
    };
  }

  const seen = new Set<string>();
  const kept: ColumnSet[] = [];
  let registryDown: string | undefined;
  const keep = (decoded: DecodedBatch, records: number) => {
    read.records += records;
    for (const failure of decoded.failures) {
      if (failure.retriable) registryDown ??= failure.reason;
      else read.decodeFailures++;
    }
    const rows = selectRows(decoded, request.filter, seen);
    if (rows.length > 0) kept.push(takeRows(decoded, rows));
  };
  // Batches decode in parallel, but are filtered in arrival order: within a partition the first
  // copy of a message (lowest offset) is the one kept.
  let filtered = Promise.resolve();
  try {
    const decoding = new Set<Promise<unknown>>();
    await deps.source.fetch(
      read.ranges,
      async (_range, records) => {
        const decoded = deps.pool.decodeRecords(request.table, records, deps.schemas);
        filtered = filtered.then(async () => keep(await decoded, records.length));
        decoding.add(decoded);
        decoded.then(
          () => decoding.delete(decoded),
          () => decoding.delete(decoded),
        );
        if (decoding.size >= DECODES_IN_FLIGHT) await Promise.race(decoding).catch(() => undefined);
      },
      request.signal,
    );
    await filtered;
  } catch (error) {
    filtered.catch(() => undefined);
    request.signal.throwIfAborted();
    if (isProgrammingError(error)) throw error;
    return unavailable(read, 'Kafka', error);
  }
  if (registryDown !== undefined) {
    return unavailable(read, 'the schema registry', new Error(registryDown));
  }
  if (read.decodeFailures > 0) {
    read.warnings.push({
      code: 'K2_QUERY_TAIL_POISON',
      message: `${read.decodeFailures} tail records cannot be decoded; ingestion sends them to the DLQ, so they are in neither side`,
    });
  }
  read.rows = kept.length === 0 ? undefined : kept.length === 1 ? kept[0] : concat(kept);
  return read;
}

function concat(sets: ColumnSet[]): ColumnSet {
  const sources: number[] = [];
  const rows: number[] = [];
  sets.forEach((set, s) => {
    for (let row = 0; row < set.rowCount; row++) {
      sources.push(s);
      rows.push(row);
    }
  });
  return gatherRows(sets, { sources: Int32Array.from(sources), rows: Int32Array.from(rows) });
}

function unavailable(read: TailRead, what: string, error: unknown): TailRead {
  const reason = error instanceof Error ? error.message : String(error);
  return {
    ...read,
    status: 'unavailable',
    rows: undefined,
    partial: true,
    warnings: [
      ...read.warnings,
      {
        code: 'K2_QUERY_KAFKA_UNAVAILABLE',
        message: `the Kafka tail could not be read (${what}: ${reason}); answered from Iceberg only, so rows not yet committed are missing`,
      },
    ],
  };
}
