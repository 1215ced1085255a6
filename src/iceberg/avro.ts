import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import avro from 'avsc';

/**
 * Avro object container files (Avro spec "Object Container Files") for manifests and manifest lists.
 * The header's `avro.schema` is written verbatim so every field keeps its Iceberg "field-id";
 * longs are bigint both ways, because snapshot ids use all 63 bits.
 */

const longType = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (value: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(value));
    return buf;
  },
  fromJSON: (json: unknown) => BigInt(json as number),
  toJSON: (value: bigint) => Number(value),
  isValid: (value: unknown) =>
    typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value)),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

export type AvroSchema = Record<string, unknown>;

/** An avsc type for a schema, with bigint longs. Logical types are left to the caller (dates are ints). */
export function avroType(schema: AvroSchema): avro.Type {
  return avro.Type.forSchema(schema as avro.schema.AvroSchema, {
    registry: { long: longType } as unknown as Record<string, avro.Type>,
    wrapUnions: false,
  });
}

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const headerType = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const blockCountType = longType;

/** Records per block: big enough to amortise the block framing, small enough to stream. */
const BLOCK_RECORDS = 1000;

export interface AvroFile {
  /** Header metadata, decoded as UTF-8 (Iceberg stores JSON and numbers as strings there). */
  meta: Record<string, string>;
  records: Record<string, unknown>[];
}

export function writeAvroFile(
  schema: AvroSchema,
  records: readonly unknown[],
  meta: Record<string, string>,
  codec: 'deflate' | 'null' = 'deflate',
): Uint8Array {
  const type = avroType(schema);
  const sync = randomBytes(16);
  const header = headerType.toBuffer({
    magic: MAGIC,
    meta: Object.fromEntries(
      Object.entries({ ...meta, 'avro.schema': JSON.stringify(schema), 'avro.codec': codec }).map(
        ([k, v]) => [k, Buffer.from(v, 'utf8')],
      ),
    ),
    sync,
  });
  const chunks: Buffer[] = [header];
  for (let start = 0; start < records.length; start += BLOCK_RECORDS) {
    const block = records.slice(start, start + BLOCK_RECORDS);
    const raw = Buffer.concat(block.map((record) => type.toBuffer(record)));
    const body = codec === 'deflate' ? deflateRawSync(raw) : raw;
    chunks.push(
      blockCountType.toBuffer(BigInt(block.length)),
      blockCountType.toBuffer(BigInt(body.length)),
      body,
      sync,
    );
  }
  return Buffer.concat(chunks);
}

/** Decodes with the writer's schema from the header; throws on anything that is not a container file. */
export function readAvroFile(bytes: Uint8Array): AvroFile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new Error('not an Avro container file');
  const { value: header, offset: afterHeader } = headerType.decode(buf, 0);
  if (afterHeader < 0 || !header) throw new Error('truncated Avro header');
  const meta: Record<string, string> = {};
  for (const [key, value] of Object.entries(header.meta as Record<string, Buffer>))
    meta[key] = value.toString('utf8');
  const schemaText = meta['avro.schema'];
  if (!schemaText) throw new Error('Avro header has no schema');
  const type = avroType(JSON.parse(schemaText) as AvroSchema);
  const codec = meta['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new Error(`unsupported Avro codec ${codec}`);
  const sync = header.sync as Buffer;
  const records: Record<string, unknown>[] = [];
  let pos = afterHeader;
  while (pos < buf.length) {
    const count = blockCountType.decode(buf, pos);
    const size = blockCountType.decode(buf, count.offset);
    if (count.offset < 0 || size.offset < 0) throw new Error('truncated Avro block header');
    const end = size.offset + Number(size.value);
    if (end + 16 > buf.length) throw new Error('truncated Avro block');
    const body = buf.subarray(size.offset, end);
    const raw = codec === 'deflate' ? inflateRawSync(body) : body;
    let at = 0;
    for (let i = 0n; i < (count.value as bigint); i++) {
      const decoded = type.decode(raw, at);
      if (decoded.offset < 0) throw new Error('truncated Avro record');
      records.push(decoded.value as Record<string, unknown>);
      at = decoded.offset;
    }
    if (!buf.subarray(end, end + 16).equals(sync)) throw new Error('Avro sync marker mismatch');
    pos = end + 16;
  }
  return { meta, records };
}
