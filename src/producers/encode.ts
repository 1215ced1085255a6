import type avro from 'avsc';
import { avroType } from '../codec/avro-types.js';
import { avroSchemaText } from '../codec/schemas.js';
import { HEADER_BYTES, MAGIC_BYTE } from '../codec/wire.js';
import type { RecordName, RecordTypes } from './records.js';

const SLAB_BYTES = 1 << 20;

/**
 * Encodes records of one v2 schema to Confluent-framed values with K2's avsc types: decimals
 * from unscaled integers, timestamps and longs exact over 64 bits. Values are views into shared
 * 1 MiB slabs (no copy per record); a caller that alters one must copy it first.
 */
export class RecordEncoder<N extends RecordName> {
  readonly name: N;
  readonly schemaId: number;
  readonly #type: avro.Type;
  #slab = Buffer.allocUnsafe(SLAB_BYTES);
  #position = 0;

  constructor(name: N, schemaId: number, schemaText: string = avroSchemaText(name)) {
    this.name = name;
    this.schemaId = schemaId;
    this.#type = avroType(schemaText);
    acceptBigintInNullableLongs(this.#type);
  }

  encode(record: RecordTypes[N]): Buffer {
    let end = this.#encodeAt(record);
    if (end < 0) {
      this.#slab = Buffer.allocUnsafe(SLAB_BYTES);
      this.#position = 0;
      end = this.#encodeAt(record);
    }
    while (end < 0) {
      this.#slab = Buffer.allocUnsafe(2 * this.#slab.length);
      end = this.#encodeAt(record);
    }
    const start = this.#position;
    this.#slab[start] = MAGIC_BYTE;
    this.#slab.writeUInt32BE(this.schemaId, start + 1);
    this.#position = end;
    return this.#slab.subarray(start, end);
  }

  /** The end of the framed value written at the slab's position, negative when it does not fit. */
  #encodeAt(record: RecordTypes[N]): number {
    const bodyStart = this.#position + HEADER_BYTES;
    return bodyStart < this.#slab.length ? this.#type.encode(record, this.#slab, bodyStart) : -1;
  }
}

/**
 * avsc picks the branch of an unwrapped union by the JS type of the value and has no branch for
 * bigint, so a source_sequence past 2^53 would not encode. K2's long type writes bigints exactly;
 * this points the union's bigint bucket at its long branch (avsc 5's `_bucketIndices`, pinned by
 * the producer encoding tests).
 */
function acceptBigintInNullableLongs(type: avro.Type): void {
  for (const field of (type as avro.types.RecordType).fields) {
    const union = field.type as avro.Type & { types?: avro.Type[]; _bucketIndices?: Record<string, number> };
    if (union.typeName !== 'union:unwrapped' || !union.types || !union._bucketIndices) continue;
    const longIndex = union.types.findIndex((branch) => branch.typeName === 'long');
    if (longIndex >= 0) union._bucketIndices.bigint = longIndex;
  }
}
