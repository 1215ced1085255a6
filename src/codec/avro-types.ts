import avro from 'avsc';
import { PoisonRecordError } from '../errors/index.js';
import { fromTwosComplementBytes, twosComplementBytes } from '../iceberg/bounds.js';
import { rescale, type Unscaled } from './decimal.js';

/**
 * K2's avsc type system. Stock avsc reads longs as floats (throwing past 2^53), decimals as
 * Buffers, and trusts block counts; K2 needs exact 64-bit values, exact decimals, a typed error
 * per bad record and bounded work on hostile input. The subclasses below override avsc 5's
 * internal `_read`/`_update`/`_write` methods, the ones its own types implement; the codec tests
 * pin that behaviour, so an avsc upgrade that changes it fails them.
 */

/** The part of avsc's (undocumented) Tap the readers use. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  writeLong(value: number): void;
  skipLong(): void;
  readString(): string;
}

interface Resolver {
  _read?: (tap: Tap) => unknown;
}

/**
 * A string read without materialising it: where its UTF-8 bytes sit in the record body, as
 * start * SPAN + length. Columns copy the bytes straight from the body, and validation checks
 * them as bytes; most strings never become JS strings at all.
 */
export type Utf8Span = number;
export const SPAN = 2 ** 26;

/** A decoded string value: a JS string (enum symbols, legacy records) or a span of the body. */
export type Utf8Value = string | Utf8Span;

/** The decoded form of a map: parallel key and value arrays (no `__proto__` surprises, no re-walk for columns). */
export interface MapEntries {
  keys: Utf8Value[];
  values: unknown[];
}

function readSpan(tap: Tap): Utf8Span {
  const length = tap.readLong();
  const start = tap.pos;
  tap.pos += length;
  if (length < 0 || tap.pos > tap.buf.length || length >= SPAN) {
    invalidate(tap);
    return 0;
  }
  return start * SPAN + length;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** avsc's own long codec is exact below this magnitude. */
const SAFE_ZIGZAG = 2 ** 52;
/** Items that take no bytes (arrays of null) are capped, everything else is bounded by the bytes left. */
const MAX_ZERO_WIDTH_ITEMS = 1 << 20;

function invalidate(tap: Tap): void {
  tap.pos = tap.buf.length + 1;
}

/** Reads a zig-zag varint long exactly, as a bigint. */
function readBigLong(tap: Tap): bigint {
  const buf = tap.buf;
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    const byte = buf[tap.pos++];
    if (byte === undefined) {
      invalidate(tap);
      return 0n;
    }
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) {
      const unsigned = BigInt.asUintN(64, result);
      return BigInt.asIntN(64, (unsigned >> 1n) ^ -(unsigned & 1n));
    }
    shift += 7n;
  }
  throw new PoisonRecordError('K2_DECODE_MALFORMED', 'a long is longer than 10 bytes');
}

function writeBigLong(tap: Tap, value: bigint): void {
  let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  do {
    let byte = Number(zigzag & 0x7fn);
    zigzag >>= 7n;
    if (zigzag !== 0n) byte |= 0x80;
    tap.buf[tap.pos++] = byte;
  } while (zigzag !== 0n);
}

/** Longs as `number` while safe, bigint beyond: exact over the whole 64-bit range at number speed. */
export class K2LongType extends avro.types.LongType {
  _read(tap: Tap): number | bigint {
    const start = tap.pos;
    const value = tap.readLong();
    // avsc decodes zig-zag in floating point: exact only below 2^52 in magnitude (odd negatives
    // beyond flip sign), so anything larger is read again exactly.
    if (value < SAFE_ZIGZAG && value > -SAFE_ZIGZAG) return value;
    tap.pos = start;
    return readBigLong(tap);
  }

  _write(tap: Tap, value: number | bigint): void {
    if (typeof value === 'number' && value < SAFE_ZIGZAG && value > -SAFE_ZIGZAG) tap.writeLong(value);
    else writeBigLong(tap, BigInt(value));
  }

  _check(value: unknown): boolean {
    if (typeof value === 'bigint') return value >= -(2n ** 63n) && value < 2n ** 63n;
    return Number.isSafeInteger(value);
  }
}

function blockCount(tap: Tap): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.skipLong();
  }
  return n;
}

/** Refuses a block count that the remaining bytes cannot hold, instead of looping on garbage. */
function checkCount(tap: Tap, n: number, minItemBytes: number, total: number): void {
  const fits =
    minItemBytes === 0 ? total + n <= MAX_ZERO_WIDTH_ITEMS : n * minItemBytes <= tap.buf.length - tap.pos;
  if (!fits || !Number.isSafeInteger(n))
    throw new PoisonRecordError('K2_DECODE_TRUNCATED', `a block of ${n} items does not fit the record`);
}

/**
 * Skips array or map blocks (a writer field the reader lacks) under the same bound as reading them;
 * avsc's own skip trusts the count and would spin on a hostile one.
 */
function skipBlocks(tap: Tap, minItemBytes: number, skipItem: (tap: Tap) => void): void {
  let total = 0;
  for (let start = tap.pos, n = tap.readLong(); n !== 0; start = tap.pos, n = tap.readLong()) {
    if (n < 0) skipBytes(tap);
    else {
      checkCount(tap, n, minItemBytes, total);
      total += n;
      for (let i = 0; i < n; i++) skipItem(tap);
    }
    // A negative size or string length must not send the reader back over the same blocks forever.
    if (tap.pos <= start || tap.pos > tap.buf.length) {
      invalidate(tap);
      return;
    }
  }
}

/** A length-prefixed run of bytes (a map key, a block's byte size). */
function skipBytes(tap: Tap): void {
  const length = tap.readLong();
  tap.pos += length;
}

interface Skippable {
  _skip(tap: Tap): void;
  typeName: string;
}

export class K2ArrayType extends avro.types.ArrayType {
  _skip(tap: Tap): void {
    const items = this.itemsType as unknown as Skippable;
    skipBlocks(tap, items.typeName === 'null' ? 0 : 1, (t) => items._skip(t));
  }

  _read(tap: Tap): unknown[] {
    // Read through a resolver, `this` is the resolver and the item type is its reader type.
    const items = this.itemsType as unknown as {
      _read(tap: Tap): unknown;
      typeName?: string;
      _readerType?: { typeName: string };
    };
    const minBytes = (items.typeName ?? items._readerType?.typeName) === 'null' ? 0 : 1;
    const out: unknown[] = [];
    for (let n = blockCount(tap); n !== 0; n = blockCount(tap)) {
      checkCount(tap, n, minBytes, out.length);
      for (let i = 0; i < n; i++) out.push(items._read(tap));
    }
    return out;
  }
}

export class K2MapType extends avro.types.MapType {
  _readKey(tap: Tap): Utf8Value {
    return tap.readString();
  }

  /** avsc reads through the resolver (`this` is the resolver then): hand it the key reader too. */
  _update(resolver: Resolver & { _readKey?: unknown }, writer: avro.Type, opts: unknown): void {
    (avro.types.MapType.prototype as unknown as { _update: (...args: unknown[]) => void })._update.call(
      this,
      resolver,
      writer,
      opts,
    );
    resolver._readKey = this._readKey;
  }

  _skip(tap: Tap): void {
    const values = this.valuesType as Skippable;
    skipBlocks(tap, 1, (t) => {
      skipBytes(t);
      values._skip(t);
    });
  }

  _read(tap: Tap): MapEntries {
    const valuesType = this.valuesType as { _read(tap: Tap): unknown };
    const keys: Utf8Value[] = [];
    const values: unknown[] = [];
    for (let n = blockCount(tap); n !== 0; n = blockCount(tap)) {
      checkCount(tap, n, 1, keys.length);
      for (let i = 0; i < n; i++) {
        keys.push(this._readKey(tap));
        values.push(valuesType._read(tap));
      }
    }
    return { keys, values };
  }
}

/** Map keys as spans (see Utf8Span). */
export class K2SpanMapType extends K2MapType {
  override _readKey(tap: Tap): Utf8Value {
    return readSpan(tap);
  }
}

/** Strings as spans (see Utf8Span). */
export class K2SpanStringType extends avro.types.StringType {
  _read(tap: Tap): Utf8Span {
    return readSpan(tap);
  }
}

/**
 * Enums resolve per record, as the Avro spec says: a writer may add symbols, and only a record
 * that carries a symbol the reader lacks fails (K2_DECODE_BAD_ENUM), not its whole schema.
 */
export class K2EnumType extends avro.types.EnumType {
  _read(tap: Tap): string {
    const index = tap.readLong();
    if (tap.pos > tap.buf.length) return ''; // truncated: decode reports it
    const symbol = this.symbols[index];
    if (symbol === undefined)
      throw new PoisonRecordError('K2_DECODE_BAD_ENUM', `${this.name}: no symbol at index ${index}`);
    return symbol;
  }

  _update(resolver: Resolver, writer: avro.Type): void {
    if (!(writer instanceof avro.types.EnumType) || shortName(writer.name) !== shortName(this.name)) return;
    const known = new Set(this.symbols);
    const writerSymbols = writer.symbols;
    const mapped = writerSymbols.map((s) => (known.has(s) ? s : undefined));
    const name = this.name;
    resolver._read = (tap) => {
      const index = tap.readLong();
      if (tap.pos > tap.buf.length) return '';
      const symbol = mapped[index];
      if (symbol === undefined) {
        const what =
          writerSymbols[index] === undefined ? `no symbol at index ${index}` : writerSymbols[index];
        throw new PoisonRecordError('K2_DECODE_BAD_ENUM', `${name}: ${what} is not a known symbol`);
      }
      return symbol;
    };
  }
}

function shortName(name: string | undefined): string | undefined {
  return name?.slice(name.lastIndexOf('.') + 1);
}

/**
 * decimal(P, S) over bytes or fixed, read straight from the tap to an unscaled integer. A writer
 * at another scale is rescaled exactly; a value that would lose digits fails the record.
 */
export class K2DecimalType extends avro.types.LogicalType {
  readonly precision: number;
  readonly scale: number;
  readonly #fixedSize: number | undefined;

  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    const attrs = schema as { precision?: unknown; scale?: unknown };
    const precision = Number(attrs.precision);
    const scale = attrs.scale === undefined ? 0 : Number(attrs.scale);
    if (
      !Number.isInteger(precision) ||
      precision < 1 ||
      !Number.isInteger(scale) ||
      scale < 0 ||
      scale > precision
    )
      throw new Error(`invalid decimal(${String(attrs.precision)}, ${String(attrs.scale)})`);
    this.precision = precision;
    this.scale = scale;
    const underlying = this.underlyingType as avro.Type & { size?: number };
    this.#fixedSize = underlying.typeName === 'fixed' ? underlying.size : undefined;
    if (underlying.typeName !== 'bytes' && underlying.typeName !== 'fixed')
      throw new Error('decimal must be bytes or fixed');
  }

  _read(tap: Tap): Unscaled {
    const length = this.#fixedSize ?? tap.readLong();
    const start = tap.pos;
    tap.pos += length;
    if (length < 0 || tap.pos > tap.buf.length) {
      invalidate(tap);
      return 0;
    }
    if (length === 0) throw new PoisonRecordError('K2_DECODE_MALFORMED', 'a decimal with no bytes');
    if (length <= 6) return tap.buf.readIntBE(start, length);
    const value = fromTwosComplementBytes(tap.buf.subarray(start, start + length));
    return value >= -BigInt(MAX_SAFE) && value <= BigInt(MAX_SAFE) ? Number(value) : value;
  }

  protected override _fromValue(value: Buffer): Unscaled {
    return fromTwosComplementBytes(value);
  }

  protected override _toValue(value: unknown): Buffer | undefined {
    if (typeof value === 'bigint') return Buffer.from(twosComplementBytes(value));
    if (Number.isSafeInteger(value)) return Buffer.from(twosComplementBytes(BigInt(value as number)));
    return undefined;
  }

  protected override _resolve(writer: avro.Type): ((value: Unscaled) => Unscaled) | undefined {
    if (!(writer instanceof K2DecimalType)) return undefined;
    if (writer.scale === this.scale) return (value) => value;
    const from = writer.scale;
    const to = this.scale;
    return (value) => {
      const rescaled = rescale(value, from, to);
      if (rescaled === undefined)
        throw new PoisonRecordError(
          'K2_DECODE_DECIMAL_SCALE',
          `unscaled ${value} at scale ${from} cannot be held at scale ${to} without rounding`,
        );
      return rescaled;
    };
  }

  protected override _export(attrs: avro.Schema): void {
    Object.assign(attrs, { precision: this.precision, scale: this.scale });
  }
}

abstract class K2TimestampType extends avro.types.LogicalType {
  abstract readonly microsPerUnit: number;
  /** avsc builds the underlying long without the registry, so the exact long is kept here. */
  readonly #long = new K2LongType();

  _read(tap: Tap): number | bigint {
    return this.#long._read(tap);
  }

  _write(tap: Tap, value: unknown): void {
    const long = this._toValue(value);
    if (long === undefined) throw new TypeError(`not a timestamp: ${String(value)}`);
    this.#long._write(tap, long);
  }

  protected override _fromValue(value: number | bigint): number | bigint {
    return value;
  }

  protected override _toValue(value: unknown): number | bigint | undefined {
    if (typeof value === 'bigint' || Number.isSafeInteger(value)) return value as number | bigint;
    if (value instanceof Date) return value.getTime() * (1000 / this.microsPerUnit);
    return undefined;
  }

  protected override _resolve(writer: avro.Type): ((value: number | bigint) => number | bigint) | undefined {
    if (!(writer instanceof K2TimestampType) || writer.microsPerUnit < this.microsPerUnit) return undefined;
    if (writer.microsPerUnit === this.microsPerUnit) return (value) => value;
    const factor = writer.microsPerUnit / this.microsPerUnit;
    return (value) => {
      const scaled = typeof value === 'number' ? value * factor : undefined;
      if (scaled !== undefined && Number.isSafeInteger(scaled)) return scaled;
      return BigInt.asIntN(64, BigInt(value) * BigInt(factor));
    };
  }
}

export class K2TimestampMicrosType extends K2TimestampType {
  readonly microsPerUnit = 1;
}

export class K2TimestampMillisType extends K2TimestampType {
  readonly microsPerUnit = 1000;
}

const logicalTypes = {
  decimal: K2DecimalType,
  'timestamp-micros': K2TimestampMicrosType,
  'timestamp-millis': K2TimestampMillisType,
};

function typeHook(spans: boolean) {
  return (schema: avro.Schema, opts: avro.ForSchemaOptions): avro.Type | undefined => {
    if (schema === 'string') return spans ? new K2SpanStringType() : undefined;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
    const attrs = schema as { type?: unknown; logicalType?: unknown };
    if (attrs.logicalType !== undefined) return undefined;
    if (attrs.type === 'string' && spans) return new K2SpanStringType();
    if (attrs.type === 'long') return new K2LongType();
    if (attrs.type === 'array') return new K2ArrayType(schema, opts);
    if (attrs.type === 'map') return spans ? new K2SpanMapType(schema, opts) : new K2MapType(schema, opts);
    if (attrs.type === 'enum') return new K2EnumType(schema, opts);
    return undefined;
  };
}

/**
 * Compiles an Avro schema (object or JSON text) with K2's types. With `spans`, strings decode to
 * Utf8Span positions instead of JS strings (for readers whose records go straight to columns).
 */
export function avroType(schema: avro.Schema | string, options: { spans?: boolean } = {}): avro.Type {
  const parsed = typeof schema === 'string' ? (JSON.parse(schema) as avro.Schema) : schema;
  return avro.Type.forSchema(parsed, {
    logicalTypes,
    typeHook: typeHook(options.spans ?? false),
    registry: { long: new K2LongType() },
  } as Partial<avro.ForSchemaOptions>);
}
