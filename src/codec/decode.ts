import type avro from 'avsc';
import { type DecodeFailureCode, PoisonRecordError, type SerializedError } from '../errors/index.js';
import { type TableName, tableSchema } from '../iceberg/types.js';
import { avroType } from './avro-types.js';
import type { RecordBatch } from './batch.js';
import { type ColumnReader, compileColumnReader } from './column-reader.js';
import { type ColumnSet, packColumnSet } from './columns.js';
import {
  compileRowReader,
  type DecodedRecord,
  defaultRowRules,
  type RowBuilders,
  RowPlan,
  type RowRules,
} from './rows.js';
import { type AvroRecordSchema, avroSchema, fullName, tableRecords } from './schemas.js';
import { upgrades } from './upgrade.js';
import { HEADER_BYTES, MAGIC_BYTE } from './wire.js';

/** What the main thread learnt about each schema id of a batch: its JSON text, or why there is none. */
export type WriterSchemas = Record<number, { schema: string } | { error: SerializedError }>;

export interface DecodeLimits extends RowRules {
  /** Larger framed values are refused (config limits.maxMessageBytes). */
  maxMessageBytes: number;
}

export const defaultDecodeLimits: DecodeLimits = { ...defaultRowRules, maxMessageBytes: 1024 * 1024 };

export interface DecoderOptions {
  /**
   * Read records through readers specialised per writer schema (column-reader.ts), falling back
   * to the generic avsc path for what they decline; false reads every record the generic way
   * (the reference the specialised readers are tested against).
   */
  specialised?: boolean;
}

/** One record that did not become a row; `value` keeps its bytes for the DLQ. */
export interface DecodeFailure {
  /** Position in the batch. */
  index: number;
  /** Kafka offset. */
  offset: bigint;
  code: DecodeFailureCode;
  retriable: boolean;
  reason: string;
  schemaId: number | null;
  value: Uint8Array;
}

export interface DecodedBatch extends ColumnSet {
  table: TableName;
  /** Kafka offset of each row. */
  offsets: BigInt64Array;
  failures: DecodeFailure[];
}

/** A writer schema made ready to read: a resolver into the (lenient) reader, or why it cannot be read. */
type CompiledWriter =
  | {
      ok: true;
      text: string;
      reader: avro.Type;
      resolver: avro.Resolver;
      upgrade?: (v1: DecodedRecord) => DecodedRecord;
      /** The specialised reader, tried first; the generic resolver reads what it declines. */
      columns?: ColumnReader;
    }
  | { ok: false; text: string; code: DecodeFailureCode; retriable: boolean; reason: string };

/**
 * Reader schemas make every top-level field nullable with a null default, so a writer that lacks a
 * field, or sends null, still resolves; the Iceberg schema then decides per record what is
 * required (K2_DECODE_MISSING_FIELD names the field) instead of refusing the whole writer schema.
 */
function lenientReader(schema: AvroRecordSchema, spans: boolean): avro.Type {
  const fields = schema.fields.map((field) => {
    const type = field.type;
    if (Array.isArray(type) && type.includes('null')) return field;
    return { ...field, type: ['null', type], default: null };
  });
  return avroType({ ...schema, fields } as avro.Schema, { spans });
}

/**
 * Decodes batches for one table and caches what it compiles per writer schema id. Lives in a worker;
 * holds no I/O: writer schemas arrive with each batch.
 */
export class TableDecoder {
  readonly table: TableName;
  readonly #plan: RowPlan;
  readonly #limits: DecodeLimits;
  readonly #currentName: string;
  readonly #legacyName: string;
  readonly #current: avro.Type;
  readonly #legacy: avro.Type;
  readonly #writers = new Map<number, CompiledWriter>();
  readonly #readRow: (record: DecodedRecord, row: unknown[]) => void;
  readonly #specialised: boolean;
  /** Scratch reused batch after batch; each result is packed out of it into its own arena. */
  #rows: RowBuilders | undefined;
  #rowOffsets = new BigInt64Array(0);

  constructor(table: TableName, limits: DecodeLimits = defaultDecodeLimits, options: DecoderOptions = {}) {
    this.table = table;
    this.#limits = limits;
    this.#specialised = options.specialised ?? true;
    this.#plan = new RowPlan(tableSchema(table), limits);
    const { current, legacy } = tableRecords[table];
    this.#currentName = fullName(avroSchema(current));
    this.#legacyName = fullName(avroSchema(legacy));
    // v2 records go straight to columns, strings as spans; v1 records are upgraded field by field first.
    this.#current = lenientReader(avroSchema(current), true);
    this.#legacy = lenientReader(avroSchema(legacy), false);
    this.#readRow = compileRowReader(this.#plan.fieldNames);
  }

  #compile(id: number, writer: WriterSchemas[number] | undefined): CompiledWriter {
    if (writer === undefined)
      return {
        ok: false,
        text: '',
        code: 'K2_DECODE_UNKNOWN_SCHEMA',
        retriable: false,
        reason: `schema id ${id} was not resolved`,
      };
    if ('error' in writer) {
      const { code, retriable, message } = writer.error;
      return { ok: false, text: '', code: code as DecodeFailureCode, retriable, reason: message };
    }
    const cached = this.#writers.get(id);
    if (cached?.text === writer.schema) return cached;
    const compiled = this.#compileText(id, writer.schema);
    this.#writers.set(id, compiled);
    return compiled;
  }

  #compileText(id: number, text: string): CompiledWriter {
    try {
      const schema = JSON.parse(text) as AvroRecordSchema;
      const legacy = schema.type === 'record' && fullName(schema) === this.#legacyName;
      const reader = legacy ? this.#legacy : this.#current;
      const writer = avroType(schema as avro.Schema);
      const resolver = reader.createResolver(writer);
      // v1 records are upgraded from whole JS objects: they keep the generic path.
      if (legacy) return { ok: true, text, reader, resolver, upgrade: upgrades[this.table] };
      const columns = this.#specialised ? compileColumnReader(writer, reader, this.#plan) : undefined;
      return { ok: true, text, reader, resolver, columns };
    } catch (error) {
      return {
        ok: false,
        text,
        code: 'K2_DECODE_INCOMPATIBLE_SCHEMA',
        retriable: false,
        reason: `schema id ${id} cannot be read as ${this.#currentName}: ${(error as Error).message}`,
      };
    }
  }

  /** Every record becomes a row or a failure: rowCount + failures.length = records in the batch. */
  decode(batch: RecordBatch, writers: WriterSchemas): DecodedBatch {
    const count = batch.ends.length;
    const bytes = Buffer.from(batch.values.buffer, batch.values.byteOffset, batch.values.byteLength);
    const rows = this.#scratch(count);
    if (this.#rowOffsets.length < count)
      this.#rowOffsets = new BigInt64Array(Math.max(count, this.#rowOffsets.length * 2));
    const rowOffsets = this.#rowOffsets;
    // Offsets are copied as 32-bit word pairs: reading a BigInt64Array element allocates a bigint.
    const rowOffsetWords = new Int32Array(rowOffsets.buffer);
    const inputOffsetWords = new Int32Array(batch.offsets.buffer, batch.offsets.byteOffset, count * 2);
    const failures: DecodeFailure[] = [];
    const context: RecordContext = {
      writers,
      rows,
      row: new Array(this.#plan.fields.length).fill(null),
      lastId: -1,
    };

    for (let i = 0, start = 0; i < count; start = batch.ends[i++]!) {
      const end = batch.ends[i]!;
      const failure = this.#decodeRecord(bytes, start, end, context);
      if (failure === undefined) {
        const at = rows.rowCount - 1;
        rowOffsetWords[2 * at] = inputOffsetWords[2 * i]!;
        rowOffsetWords[2 * at + 1] = inputOffsetWords[2 * i + 1]!;
      } else {
        failures.push({
          index: i,
          offset: batch.offsets[i]!,
          ...failure,
          value: batch.values.slice(start, end),
        });
      }
    }
    const view = rows.view();
    const { set, extra } = packColumnSet(view, rowOffsets.subarray(0, view.rowCount));
    return { table: this.table, ...set, offsets: extra[0], failures };
  }

  #scratch(count: number): RowBuilders {
    if (this.#rows === undefined) this.#rows = this.#plan.builders(count);
    else this.#rows.reset(count);
    return this.#rows;
  }

  /** Appends the record at bytes[start, end) as a row, or says why it cannot be one. */
  #decodeRecord(bytes: Buffer, start: number, end: number, context: RecordContext): Failure | undefined {
    const length = end - start;
    if (length === 0) return failure('K2_DECODE_EMPTY', 'empty value');
    if (length > this.#limits.maxMessageBytes)
      return failure(
        'K2_DECODE_OVERSIZED',
        `${length} bytes exceed the ${this.#limits.maxMessageBytes}-byte limit`,
      );
    if (length < HEADER_BYTES)
      return failure('K2_DECODE_TOO_SHORT', `${length} bytes cannot hold the 5-byte header`);
    if (bytes[start] !== MAGIC_BYTE)
      return failure('K2_DECODE_BAD_MAGIC', `magic byte ${bytes[start]}, expected 0`);

    const schemaId = bytes.readUInt32BE(start + 1);
    if (schemaId !== context.lastId) {
      context.writer = this.#compile(schemaId, context.writers[schemaId]);
      context.lastId = schemaId;
    }
    const writer = context.writer!;
    if (!writer.ok) return failure(writer.code, writer.reason, schemaId, writer.retriable);
    if (writer.columns && context.rows.readInto(writer.columns, bytes, start + HEADER_BYTES, end))
      return undefined;
    try {
      const body = bytes.subarray(start + HEADER_BYTES, end);
      const { value, offset } = writer.reader.decode(body, 0, writer.resolver);
      if (offset === -1)
        return failure('K2_DECODE_TRUNCATED', 'the Avro body ends before the record does', schemaId);
      if (offset !== body.length)
        return failure(
          'K2_DECODE_TRAILING_BYTES',
          `${body.length - offset} bytes follow the record`,
          schemaId,
        );
      const record = writer.upgrade ? writer.upgrade(value as DecodedRecord) : (value as DecodedRecord);
      this.#readRow(record, context.row);
      context.rows.append(context.row, body);
      return undefined;
    } catch (error) {
      if (error instanceof PoisonRecordError) return failure(error.code, error.message, schemaId);
      return failure(
        'K2_DECODE_MALFORMED',
        `${(error as Error).name}: ${(error as Error).message}`,
        schemaId,
      );
    }
  }
}

type Failure = Pick<DecodeFailure, 'code' | 'reason' | 'schemaId' | 'retriable'>;

function failure(
  code: DecodeFailureCode,
  reason: string,
  schemaId: number | null = null,
  retriable = false,
): Failure {
  return { code, reason, schemaId, retriable };
}

/** What one decode call carries from record to record. */
interface RecordContext {
  writers: WriterSchemas;
  rows: RowBuilders;
  /** Reused for every record: the row being appended, in table field order. */
  row: unknown[];
  lastId: number;
  writer?: CompiledWriter;
}
