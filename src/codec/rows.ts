import { PoisonRecordError } from '../errors/index.js';
import { decimalOf, type IcebergSchema, type NestedField } from '../iceberg/types.js';
import type { MapEntries, Utf8Value } from './avro-types.js';
import { type ColumnBuilder, Int64Builder, ListBuilder, MapBuilder, Utf8Builder } from './builders.js';
import type { ColumnReader } from './column-reader.js';
import { type Column, type ColumnSet, packColumnSet } from './columns.js';
import { fitsPrecision } from './decimal.js';

/** Rules a decoded record must meet before it becomes a row; the Iceberg schema decides required-ness. */
export interface RowRules {
  /** Inclusive range for every timestamptz field, in microseconds since the epoch. */
  minTimestampMicros: bigint;
  maxTimestampMicros: bigint;
  /** Decimal fields that must be ≥ 0 (sizes and quantities; prices may be negative in some markets). */
  nonNegative: ReadonlySet<string>;
  /** String fields that must not be empty (identity fields). */
  nonEmpty: ReadonlySet<string>;
}

export const defaultRowRules: RowRules = {
  minTimestampMicros: 0n,
  // 2200-01-01T00:00:00Z: far beyond any real event, well before nanosecond values mistaken for micros.
  maxTimestampMicros: 7_258_118_400_000_000n,
  nonNegative: new Set(['quantity', 'bid_size', 'ask_size', 'lot_size', 'tick_size']),
  nonEmpty: new Set(['message_id', 'trade_id', 'symbol', 'exchange', 'currency']),
};

type FieldKind = 'string' | 'long' | 'timestamptz' | 'decimal' | 'list' | 'map';

export interface FieldPlan {
  name: string;
  required: boolean;
  kind: FieldKind;
  precision: number;
  nonNegative: boolean;
  nonEmpty: boolean;
}

/** A decoded record: field name to the value K2's Avro types produce. */
export type DecodedRecord = Record<string, unknown>;

/** A record's values in the table's field order. */
export type RowValues = readonly unknown[];

/**
 * Copies a record's fields into a row array in table order. Generated once per table so each
 * field is a plain named property load (the same technique avsc uses for its record readers);
 * a keyed lookup per field costs more than the Avro decoding of the field.
 */
export function compileRowReader(names: readonly string[]): (record: DecodedRecord, row: unknown[]) => void {
  for (const name of names)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`not a field name: ${name}`);
  const body = names.map((name, i) => `row[${i}] = record.${name};`).join('\n');
  return new Function('record', 'row', body) as (record: DecodedRecord, row: unknown[]) => void;
}

function kindOf(field: NestedField): FieldKind {
  const { type } = field;
  if (type === 'string' || type === 'long' || type === 'timestamptz') return type;
  if (typeof type === 'string' && decimalOf(type)) return 'decimal';
  if (typeof type === 'object' && type.type === 'list' && type.element === 'string') return 'list';
  if (typeof type === 'object' && type.type === 'map' && type.key === 'string' && type.value === 'string')
    return 'map';
  throw new TypeError(`K2 does not land ${JSON.stringify(type)} (field ${field.name})`);
}

/** The validation and column-building plan of one table, derived once from its Iceberg schema. */
export class RowPlan {
  readonly fields: readonly FieldPlan[];
  readonly rules: RowRules;

  constructor(schema: IcebergSchema, rules: RowRules = defaultRowRules) {
    this.rules = rules;
    this.fields = schema.fields.map((field) => ({
      name: field.name,
      required: field.required,
      kind: kindOf(field),
      precision: decimalOf(field.type)?.precision ?? 0,
      nonNegative: rules.nonNegative.has(field.name),
      nonEmpty: rules.nonEmpty.has(field.name),
    }));
  }

  get fieldNames(): string[] {
    return this.fields.map((field) => field.name);
  }

  builders(capacity: number): RowBuilders {
    return new RowBuilders(this, capacity);
  }
}

function poison(code: ConstructorParameters<typeof PoisonRecordError>[0], field: FieldPlan, what: string) {
  return new PoisonRecordError(code, `${field.name} ${what}`);
}

/**
 * Checks each record against the rules while appending it to one builder per field, in a single
 * pass; a record that breaks a rule is rolled back and reported as a PoisonRecordError naming the
 * field, so the columns only ever hold whole, valid rows.
 */
export class RowBuilders {
  readonly #fields: readonly FieldPlan[];
  readonly #rules: RowRules;
  readonly #builders: ColumnBuilder[];
  #rows = 0;

  constructor(plan: RowPlan, capacity: number) {
    this.#fields = plan.fields;
    this.#rules = plan.rules;
    this.#builders = plan.fields.map((field) => {
      switch (field.kind) {
        case 'string':
          return new Utf8Builder(capacity);
        case 'list':
          return new ListBuilder(capacity);
        case 'map':
          return new MapBuilder(capacity);
        default:
          return new Int64Builder(capacity);
      }
    });
  }

  get rowCount(): number {
    return this.#rows;
  }

  /** Appends one row (values in field order; string spans point into `source`) or throws. */
  append(row: RowValues, source: Uint8Array): void {
    const fields = this.#fields;
    for (let i = 0; i < fields.length; i++) {
      const failure = this.#appendField(fields[i]!, this.#builders[i]!, row[i] ?? null, source);
      if (failure !== undefined) {
        for (let j = 0; j <= i; j++) this.#builders[j]!.truncate(this.#rows);
        throw failure;
      }
    }
    this.#rows++;
  }

  /** Appends the record at source[start, end) through a compiled reader; false, with nothing appended, when it declines. */
  readInto(read: ColumnReader, source: Uint8Array, start: number, end: number): boolean {
    if (read(source, start, end, this.#builders)) {
      this.#rows++;
      return true;
    }
    for (const builder of this.#builders) builder.truncate(this.#rows);
    return false;
  }

  #appendField(
    field: FieldPlan,
    builder: ColumnBuilder,
    value: unknown,
    source: Uint8Array,
  ): PoisonRecordError | undefined {
    if (value === null && field.required)
      return poison('K2_DECODE_MISSING_FIELD', field, 'is required but missing');
    switch (field.kind) {
      case 'string': {
        if (value !== null && typeof value !== 'string' && typeof value !== 'number')
          return poison('K2_DECODE_MALFORMED', field, `is not a string`);
        const bytes = (builder as Utf8Builder).append(value as Utf8Value | null, source);
        if (bytes < 0) return poison('K2_DECODE_INVALID_UTF8', field, 'is not valid UTF-8');
        if (bytes === 0 && value !== null && field.nonEmpty)
          return poison('K2_DECODE_EMPTY_STRING', field, 'must not be empty');
        return undefined;
      }
      case 'long':
        (builder as Int64Builder).append(value as number | bigint | null);
        return undefined;
      case 'timestamptz': {
        const micros = value as number | bigint | null;
        if (
          micros !== null &&
          (micros < this.#rules.minTimestampMicros || micros > this.#rules.maxTimestampMicros)
        )
          return poison('K2_DECODE_TIMESTAMP_RANGE', field, `${micros} µs is outside the accepted range`);
        (builder as Int64Builder).append(micros);
        return undefined;
      }
      case 'decimal': {
        const unscaled = value as number | bigint | null;
        if (unscaled !== null && !fitsPrecision(unscaled, field.precision))
          return poison(
            'K2_DECODE_DECIMAL_OVERFLOW',
            field,
            `unscaled ${unscaled} exceeds precision ${field.precision}`,
          );
        if (unscaled !== null && field.nonNegative && unscaled < 0)
          return poison('K2_DECODE_NEGATIVE', field, 'must not be negative');
        (builder as Int64Builder).append(unscaled);
        return undefined;
      }
      case 'list':
        return (builder as ListBuilder).append(value as Utf8Value[] | null, source)
          ? undefined
          : poison('K2_DECODE_INVALID_UTF8', field, 'is not valid UTF-8');
      case 'map':
        return (builder as MapBuilder).append(value as MapEntries | null, source)
          ? undefined
          : poison('K2_DECODE_INVALID_UTF8', field, 'is not valid UTF-8');
    }
  }

  /** The rows so far, as views into the builders (valid until `reset`). */
  view(): ColumnSet {
    const columns: Record<string, Column> = {};
    this.#fields.forEach((field, i) => {
      columns[field.name] = this.#builders[i]!.view();
    });
    return { rowCount: this.#rows, columns };
  }

  /** The rows so far, copied into a column set of their own (one arena). */
  finish(): ColumnSet {
    return packColumnSet(this.view()).set;
  }

  /** Empties every builder for the next batch of up to about `capacity` rows, keeping their buffers. */
  reset(capacity: number): void {
    for (const builder of this.#builders) builder.reset(capacity);
    this.#rows = 0;
  }
}
