import type avro from 'avsc';
import { avroType, type MapEntries } from '../../src/codec/avro-types.js';
import { packBatch } from '../../src/codec/batch.js';
import { type DecodeFailure, TableDecoder, type WriterSchemas } from '../../src/codec/decode.js';
import { type AvroSchemaName, avroSchemaText } from '../../src/codec/schemas.js';
import { HEADER_BYTES, peekSchemaId } from '../../src/codec/wire.js';
import type { TableName } from '../../src/iceberg/types.js';
import type { Clock } from '../../src/producers/clock.js';

/** A clock whose sleep moves time forward at once, and that remembers every sleep. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public now = Date.UTC(2025, 0, 2, 14, 0)) {}

  nowMs(): number {
    return this.now;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.now += ms;
  }

  advance(ms: number): void {
    this.now += ms;
  }
}

const types = new Map<string, avro.Type>();

/** A framed value decoded with K2's avsc types (plain strings, exact longs and decimals). */
export function decodeFramed(value: Buffer, schema: AvroSchemaName | string = 'trade_v2') {
  let type = types.get(schema);
  if (!type) {
    type = avroType(schema.startsWith('{') ? schema : avroSchemaText(schema as AvroSchemaName));
    types.set(schema, type);
  }
  return {
    schemaId: peekSchemaId(value),
    record: type.fromBuffer(value.subarray(HEADER_BYTES)) as Record<string, unknown>,
  };
}

/**
 * A record in one comparable shape: integers (numbers or bigints, however they travelled) as
 * bigint, maps (objects or decoded key/value arrays) as sorted entries.
 */
export function canonical(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'number' && Number.isInteger(value)) out[key] = BigInt(value);
    else if (isMapEntries(value))
      out[key] = value.keys.map((k, i) => [String(k), String(value.values[i])]).sort();
    else if (value !== null && typeof value === 'object' && !Array.isArray(value))
      out[key] = Object.entries(value).sort();
    else out[key] = value;
  }
  return out;
}

function isMapEntries(value: unknown): value is MapEntries {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as MapEntries).keys) &&
    Array.isArray((value as MapEntries).values)
  );
}

/** Decodes values as the supervisor's decode task does and returns the failures. */
export function decodeFailures(table: TableName, values: Buffer[], writers: WriterSchemas): DecodeFailure[] {
  const batch = packBatch(values.map((value, i) => ({ value, offset: BigInt(i) })));
  return new TableDecoder(table).decode(batch, writers).failures;
}
