import avro from 'avsc';
import {
  K2DecimalType,
  K2EnumType,
  K2TimestampMicrosType,
  K2TimestampMillisType,
  SPAN,
} from './avro-types.js';
import type { ColumnBuilder } from './builders.js';
import type { FieldPlan, RowPlan, RowRules } from './rows.js';

/*
 * Record readers specialised per (writer schema, reader schema) pair: Avro binary straight into the
 * column builders, row rules checked on the way, no object per record. A reader accepts a record or
 * declines it, and the generic avsc path re-reads what it declines and names the failure; so the
 * invariant is only: never accept what the generic path refuses, and append exactly its values.
 * Declined as well, for the generic path to read exactly: longs and decimals past 2^53.
 */

/** Appends the record at source[start, end) to one builder per table field; false when it declines. */
export type ColumnReader = (
  source: Uint8Array,
  start: number,
  end: number,
  columns: readonly ColumnBuilder[],
) => boolean;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Largest power of ten a double holds exactly (rescaling beyond it is left to the generic path). */
const MAX_EXACT_POWER = 22;
/** Decimals of 7-8 bytes are read as hi * 2^32 + lo; |hi| below this keeps the value a safe integer. */
const SAFE_HIGH_WORD = 2 ** 21;

/**
 * The reader for records written with `writer` and read as `reader` (K2's lenient reader record,
 * one field per table column), or undefined when the pair uses what this compiler does not handle:
 * reader aliases, fixed decimals, non-null defaults, writer-only fields of types it cannot skip
 * (recursive records), other type pairs. Such writers keep the generic avsc path for every record.
 */
export function compileColumnReader(
  writer: avro.Type,
  reader: avro.Type,
  plan: RowPlan,
): ColumnReader | undefined {
  if (!(writer instanceof avro.types.RecordType) || !(reader instanceof avro.types.RecordType))
    return undefined;
  if (reader.fields.length !== plan.fields.length) return undefined;
  const targets = new Map<string, Target>();
  for (const field of reader.fields) {
    const column = plan.fields.findIndex((f) => f.name === field.name);
    const value = nullableValue(field.type);
    if (column < 0 || field.aliases.length > 0 || value === undefined) return undefined;
    targets.set(field.name, {
      column,
      plan: plan.fields[column]!,
      value,
      absentIsNull: field.defaultValue() === null,
    });
  }

  const code = new ReaderCode(plan.rules, plan.fields.length);
  const read = new Set<string>();
  for (const field of writer.fields) {
    const target = targets.get(field.name);
    const ok = target === undefined ? code.skip(field.type) : code.field(field.type, target);
    if (!ok) return undefined;
    read.add(field.name);
  }
  for (const [name, target] of targets) {
    if (read.has(name)) continue;
    // Absent from the writer: the reader default, null. A required field would fail every record.
    if (!target.absentIsNull || target.plan.required) return undefined;
    code.absent(target);
  }
  return code.compile();
}

interface Target {
  /** Index of the table field (and of its builder). */
  column: number;
  plan: FieldPlan;
  /** The reader type without its null branch. */
  value: avro.Type;
  absentIsNull: boolean;
}

/** A reader field's type without the null branch K2's lenient reader adds. */
function nullableValue(type: avro.Type): avro.Type | undefined {
  if (!isUnion(type)) return type;
  const branches = type.types.filter((t) => t.typeName !== 'null');
  return branches.length === 1 && type.types.length === 2 ? branches[0] : undefined;
}

function isUnion(type: avro.Type): type is avro.Type & { types: avro.Type[] } {
  return avro.Type.isType(type, 'union');
}

const isText = (type: avro.Type) => type.typeName === 'string' || type.typeName === 'bytes';

/** avsc's short-name rule for enums (K2EnumType resolves by it). */
const shortName = (name: string | undefined) => name?.slice(name.lastIndexOf('.') + 1);

/** Builds the source of one reader; every value it embeds is a number or an index into `constants`. */
class ReaderCode {
  readonly #rules: RowRules;
  readonly #columns: number;
  readonly #constants: unknown[] = [];
  readonly #lines: string[] = [];

  constructor(rules: RowRules, columns: number) {
    this.#rules = rules;
    this.#columns = columns;
  }

  compile(): ColumnReader {
    const constants = this.#constants.map((_, i) => `k${i} = k[${i}]`);
    const columns = Array.from({ length: this.#columns }, (_, i) => `c${i} = cols[${i}]`);
    const body = [
      constants.length > 0 ? `const ${constants.join(', ')};` : '',
      'return function readColumns(src, pos, end, cols) {',
      `const ${columns.join(', ')};`,
      'let b = 0, m = 0, n = 0, len = 0, v = 0, lo = 0, i = 0, u = 0, s;',
      ...this.#lines,
      'return pos === end;',
      '}',
    ].join('\n');
    return new Function('k', body)(this.#constants) as ColumnReader;
  }

  #constant(value: unknown): string {
    this.#constants.push(value);
    return `k${this.#constants.length - 1}`;
  }

  /** A writer field the reader does not have: skipped, as avsc skips it. */
  skip(type: avro.Type): boolean {
    const skip = skipper(type, new Set());
    if (skip === undefined) return false;
    this.#lines.push(`pos = ${this.#constant(skip)}(src, pos, end);`, 'if (pos < 0) return false;');
    return true;
  }

  absent(target: Target): void {
    this.#lines.push(`c${target.column}.append(null);`);
  }

  /** A writer field read into its table column: a union branch by branch, anything else directly. */
  field(writer: avro.Type, target: Target): boolean {
    if (!isUnion(writer)) return this.#value(writer, target);
    this.#lines.push(long('u'));
    for (const [index, branch] of writer.types.entries()) {
      this.#lines.push(`${index === 0 ? '' : 'else '}if (u === ${index}) {`);
      if (branch.typeName === 'null') this.#null(target);
      else if (!this.#value(branch, target)) return false;
      this.#lines.push('}');
    }
    this.#lines.push('else return false;');
    return true;
  }

  #null(target: Target): void {
    this.#lines.push(target.plan.required ? 'return false;' : `c${target.column}.append(null);`);
  }

  #value(writer: avro.Type, { column, plan, value: reader }: Target): boolean {
    const c = `c${column}`;
    switch (plan.kind) {
      case 'string':
        if (reader.typeName === 'string' && isText(writer)) {
          this.#lines.push(utf8(c, plan.nonEmpty ? 1 : 0));
          return true;
        }
        if (reader instanceof K2EnumType && writer instanceof K2EnumType)
          return this.#enum(c, writer, reader);
        return false;
      case 'long':
        if (reader.typeName !== 'long' || (writer.typeName !== 'long' && writer.typeName !== 'int'))
          return false;
        this.#lines.push(long('n'), `${c}.appendSafe(n);`);
        return true;
      case 'timestamptz':
        return this.#timestamp(c, writer, reader);
      case 'decimal':
        return this.#decimal(c, writer, reader, plan);
      case 'list': {
        if (!(reader instanceof avro.types.ArrayType) || !(writer instanceof avro.types.ArrayType))
          return false;
        if (reader.itemsType.typeName !== 'string' || !isText(writer.itemsType)) return false;
        this.#lines.push(blocks([utf8(`${c}.items`, 0)]), `${c}.endRow();`);
        return true;
      }
      case 'map': {
        if (!(reader instanceof avro.types.MapType) || !(writer instanceof avro.types.MapType)) return false;
        if ((reader.valuesType as avro.Type).typeName !== 'string') return false;
        if (!isText(writer.valuesType as avro.Type)) return false;
        this.#lines.push(blocks([utf8(`${c}.keys`, 0), utf8(`${c}.values`, 0)]), `${c}.endRow();`);
        return true;
      }
    }
  }

  /** Writer symbol index → the reader symbol's bytes; a symbol the reader lacks declines the record. */
  #enum(c: string, writer: K2EnumType, reader: K2EnumType): boolean {
    if (shortName(writer.name) !== shortName(reader.name)) return false;
    const symbols = writer.symbols.map((s) =>
      reader.symbols.includes(s) ? Buffer.from(s, 'utf8') : undefined,
    );
    // Avro names are ASCII; appendSymbol relies on it.
    if (symbols.some((bytes, i) => bytes !== undefined && bytes.length !== writer.symbols[i]!.length))
      return false;
    const table = this.#constant(symbols);
    this.#lines.push(
      long('n'),
      `s = ${table}[n];`,
      'if (s === undefined) return false;',
      `${c}.appendSymbol(s);`,
    );
    return true;
  }

  #timestamp(c: string, writer: avro.Type, reader: avro.Type): boolean {
    if (!(reader instanceof K2TimestampMicrosType)) return false;
    if (!(writer instanceof K2TimestampMicrosType) && !(writer instanceof K2TimestampMillisType))
      return false;
    const factor = writer.microsPerUnit / reader.microsPerUnit;
    this.#lines.push(long('n'));
    if (factor !== 1)
      this.#lines.push(`n *= ${factor};`, `if (n > ${MAX_SAFE} || n < -${MAX_SAFE}) return false;`);
    const { minTimestampMicros: min, maxTimestampMicros: max } = this.#rules;
    this.#lines.push(
      `if (n < ${safeBound(min)} || n > ${safeBound(max)}) return false;`,
      `${c}.appendSafe(n);`,
    );
    return true;
  }

  #decimal(c: string, writer: avro.Type, reader: avro.Type, plan: FieldPlan): boolean {
    if (!(reader instanceof K2DecimalType) || !(writer instanceof K2DecimalType)) return false;
    if (writer.underlyingType.typeName !== 'bytes') return false;
    const shift = reader.scale - writer.scale;
    if (Math.abs(shift) > MAX_EXACT_POWER) return false;
    // Big-endian two's complement: up to 6 bytes exactly as readIntBE does, 7-8 as two words.
    this.#lines.push(
      long('n'),
      'if (n < 1 || n > 8 || n > end - pos) return false;',
      'v = (src[pos] << 24) >> 24;',
      'if (n <= 6) for (i = 1; i < n; i++) v = v * 256 + src[pos + i];',
      'else {',
      '  for (i = 1; i < n - 4; i++) v = v * 256 + src[pos + i];',
      `  if (v >= ${SAFE_HIGH_WORD} || v <= -${SAFE_HIGH_WORD}) return false;`,
      '  lo = ((src[pos + n - 4] << 24) | (src[pos + n - 3] << 16) | (src[pos + n - 2] << 8) | src[pos + n - 1]) >>> 0;',
      '  v = v * 4294967296 + lo;',
      '}',
      'pos += n;',
    );
    if (shift > 0)
      this.#lines.push(`v *= 1e${shift};`, `if (v > ${MAX_SAFE} || v < -${MAX_SAFE}) return false;`);
    if (shift < 0) this.#lines.push(`if (v % 1e${-shift} !== 0) return false;`, `v /= 1e${-shift};`);
    // Safe integers always fit precision 16 and above (fitsPrecision).
    if (plan.precision < 16)
      this.#lines.push(`if (v >= 1e${plan.precision} || v <= -1e${plan.precision}) return false;`);
    if (plan.nonNegative) this.#lines.push('if (v < 0) return false;');
    this.#lines.push(`${c}.appendSafe(v);`);
    return true;
  }
}

/** A timestamp bound as a number that compares with safe integers exactly as the bigint does. */
function safeBound(bound: bigint): string {
  if (bound > BigInt(MAX_SAFE)) return 'Infinity';
  if (bound < -BigInt(MAX_SAFE)) return '-Infinity';
  return String(Number(bound));
}

/**
 * A zig-zag varint into `to`, exact: up to 4 bytes in int32 arithmetic, up to 8 in doubles while
 * below 2^53; longer or larger declines (K2LongType reads those as bigints). Bytes past the end of
 * the batch read as undefined (0); the record then fails the final `pos === end`.
 */
function long(to: string): string {
  return `b = src[pos++];
if (b < 128) ${to} = (b >>> 1) ^ -(b & 1);
else {
  ${to} = b & 127; b = src[pos++]; ${to} |= (b & 127) << 7;
  if (b > 127) { b = src[pos++]; ${to} |= (b & 127) << 14;
    if (b > 127) { b = src[pos++]; ${to} |= (b & 127) << 21; } }
  if (!(b > 127)) ${to} = (${to} >>> 1) ^ -(${to} & 1);
  else {
    m = 268435456;
    do { b = src[pos++]; ${to} += (b & 127) * m; m *= 128; } while (b > 127 && m < 72057594037927936);
    if (b > 127 || ${to} > ${MAX_SAFE}) return false;
    ${to} = ${to} % 2 === 0 ? ${to} / 2 : -(${to} + 1) / 2;
  }
}`;
}

/** A string (or bytes) checked as UTF-8 and appended to `builder`; empty ones decline when `min` is 1. */
function utf8(builder: string, min: 0 | 1): string {
  return `${long('len')}
if (len < ${min} || len > end - pos || len >= ${SPAN}) return false;
if (!${builder}.appendUtf8(src, pos, len)) return false;
pos += len;`;
}

/** Avro array/map blocks: a count (negative: followed by a byte size), items, until a zero count. */
function blocks(item: string[]): string {
  return `for (;;) {
${long('n')}
if (n === 0) break;
if (n < 0) { n = -n; while (src[pos++] > 127); }
if (n > end - pos) return false;
for (; n > 0; n--) {
${item.join('\n')}
}
}`;
}

/** Skips one value of a writer-only field: the new position, or -1 to decline. */
type Skip = (src: Uint8Array, pos: number, end: number) => number;

/** Where the last `varint` call stopped (skippers are off the hot path: a shared cursor is fine). */
let cursor = 0;

/** A zig-zag varint as a number, NaN when it is longer than 10 bytes or not a safe integer. */
function varint(src: Uint8Array, pos: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const byte = src[pos++] ?? 0;
    value += (byte & 127) * scale;
    scale *= 128;
    if (byte < 128) {
      cursor = pos;
      if (value > MAX_SAFE) return Number.NaN;
      return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    }
  }
  return Number.NaN;
}

const fits = (pos: number, end: number) => (pos > end ? -1 : pos);

function fixedSkip(size: number): Skip {
  return (_src, pos, end) => fits(pos + size, end);
}

const skipVarint: Skip = (src, pos, end) => {
  while ((src[pos++] ?? 0) > 127);
  return fits(pos, end);
};

const skipBytes: Skip = (src, pos, end) => {
  const length = varint(src, pos);
  return length >= 0 ? fits(cursor + length, end) : -1;
};

function blockSkip(item: Skip): Skip {
  return (src, pos, end) => {
    for (;;) {
      let count = varint(src, pos);
      pos = cursor;
      if (count === 0) return fits(pos, end);
      if (!(Math.abs(count) <= end - pos)) return -1;
      if (count < 0) {
        const size = varint(src, pos);
        if (!(size >= 0)) return -1;
        pos = cursor + size;
        if (pos > end) return -1;
        count = 0;
      }
      for (; count > 0 && pos >= 0; count--) pos = item(src, pos, end);
      if (pos < 0) return -1;
    }
  };
}

function sequenceSkip(parts: Skip[]): Skip {
  return (src, pos, end) => {
    for (const part of parts) {
      pos = part(src, pos, end);
      if (pos < 0) return -1;
    }
    return pos;
  };
}

/** The skipper of a writer type, as avsc's `_skip` consumes it; undefined for anything unusual. */
function skipper(type: avro.Type, visiting: Set<avro.Type>): Skip | undefined {
  if (visiting.has(type)) return undefined; // a recursive record
  if (type instanceof avro.types.LogicalType) return skipper(type.underlyingType, visiting);
  if (isUnion(type)) {
    const branches = type.types.map((t) => skipper(t, visiting));
    if (branches.some((b) => b === undefined)) return undefined;
    return (src, pos, end) => {
      const branch = branches[varint(src, pos)];
      return branch === undefined ? -1 : branch(src, cursor, end);
    };
  }
  switch (type.typeName) {
    case 'null':
      return fixedSkip(0);
    case 'boolean':
      return fixedSkip(1);
    case 'float':
      return fixedSkip(4);
    case 'double':
      return fixedSkip(8);
    case 'fixed':
      return fixedSkip((type as avro.types.FixedType).size);
    case 'int':
    case 'long':
    case 'enum':
      return skipVarint;
    case 'string':
    case 'bytes':
      return skipBytes;
    case 'array': {
      const items = skipper((type as avro.types.ArrayType).itemsType, visiting);
      return items && blockSkip(items);
    }
    case 'map': {
      const values = skipper((type as avro.types.MapType).valuesType as avro.Type, visiting);
      return values && blockSkip(sequenceSkip([skipBytes, values]));
    }
    case 'record': {
      visiting.add(type);
      const fields = (type as avro.types.RecordType).fields.map((f) => skipper(f.type, visiting));
      visiting.delete(type);
      return fields.every((f) => f !== undefined) ? sequenceSkip(fields as Skip[]) : undefined;
    }
    default:
      return undefined;
  }
}
