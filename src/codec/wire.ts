/** Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro body. */
export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

export function frame(schemaId: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(schemaId, 1);
  out.set(body, HEADER_BYTES);
  return out;
}

/** The schema id of a framed value, or undefined when it is not framed. */
export function peekSchemaId(bytes: Uint8Array, start = 0, end = bytes.length): number | undefined {
  if (end - start < HEADER_BYTES || bytes[start] !== MAGIC_BYTE) return undefined;
  return (
    ((bytes[start + 1]! << 24) >>> 0) +
    (bytes[start + 2]! << 16) +
    (bytes[start + 3]! << 8) +
    bytes[start + 4]!
  );
}
