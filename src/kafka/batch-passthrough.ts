import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';
import {
  attribute,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_PREFIX,
  compression,
  field,
  RECORD_BATCH_MAGIC,
  writeVarint,
} from './record-batch.js';

/**
 * Hands the ingest consumer whole Kafka record batches instead of one kafkajs message per record.
 *
 * kafkajs decodes every record of a fetch into an object (offset and timestamp strings through
 * its Long type, key and value views, a headers object): measured on this project's bench topic,
 * 2.8–3.1 CPU-µs a trade on the ingest thread and most of its garbage, against 0.2 µs for the same
 * fetches left as record batches. kafkajs has no option for raw batches, so this sits below it, on
 * its public `socketFactory`: a Fetch response (v4–v11, what kafkajs speaks) is rewritten so that
 * each uncompressed or gzip record batch becomes a batch of one record whose value is the original
 * batch, marked by a header only this process knows. kafkajs then does its usual work per batch
 * (offsets, transactions: the wrapper keeps the batch's offsets, producer and flags) and K2 reads
 * the records itself (src/kafka/fetched.ts). Control batches and other codecs pass untouched.
 */
export const RECORD_BATCH_HEADER = 'k2.record-batch';
/** The header's value: per process, so no producer can make a record look like a wrapped batch. */
export const RECORD_BATCH_MARK = randomBytes(16);

const API_FETCH = 1;
const MIN_VERSION = 4;
const MAX_VERSION = 11;
const KEEP_ALIVE_MS = 60_000;
const EMPTY = Buffer.alloc(0);

/** kafkajs's socket factory with Fetch responses rewritten as above. */
export function batchPassthroughSocketFactory(): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const socket = ssl
      ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_MS);
    const stream = new FetchResponseStream();
    const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const on = socket.on.bind(socket);
    return Object.assign(socket, {
      write: (chunk: unknown, ...rest: unknown[]) => {
        if (Buffer.isBuffer(chunk)) stream.request(chunk);
        return write(chunk, ...rest);
      },
      on: (event: string, listener: (...args: unknown[]) => void) =>
        event === 'data'
          ? on('data', (chunk: Buffer) => stream.push(chunk, listener as (data: Buffer) => void))
          : on(event, listener),
    }) as typeof socket;
  };
}

/**
 * One connection's responses: frames of other requests pass through as they arrive; a Fetch
 * response is held until whole, then rewritten. Requests are matched to responses by correlation id.
 */
export class FetchResponseStream {
  /** Fetch requests awaiting their response: correlation id → API version. */
  readonly #fetches = new Map<number, number>();
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** Bytes of a passing frame still to come. */
  #passing = 0;

  /** Notes an outgoing request (size, api key, version, correlation id lead every request). */
  request(chunk: Buffer): void {
    if (chunk.length < 12 || chunk.readInt32BE(0) !== chunk.length - 4) return;
    if (chunk.readInt16BE(4) !== API_FETCH) return;
    const version = chunk.readInt16BE(6);
    if (version >= MIN_VERSION && version <= MAX_VERSION) this.#fetches.set(chunk.readInt32BE(8), version);
  }

  push(chunk: Buffer, deliver: (data: Buffer) => void): void {
    let data = chunk;
    while (data.length > 0) {
      if (this.#passing > 0) {
        const n = Math.min(this.#passing, data.length);
        deliver(n === data.length ? data : data.subarray(0, n));
        this.#passing -= n;
        data = data.subarray(n);
        continue;
      }
      this.#held.push(data);
      this.#heldBytes += data.length;
      data = EMPTY;
      if (this.#heldBytes < 8) return;
      if (this.#held[0]!.length < 8) this.#held = [Buffer.concat(this.#held, this.#heldBytes)];
      const head = this.#held[0]!;
      const frameBytes = 4 + head.readInt32BE(0);
      const version = this.#fetches.get(head.readInt32BE(4));
      if (version !== undefined && this.#heldBytes < frameBytes) return; // a Fetch response is rewritten whole
      // Copied once: a frame arrives in many chunks, which are held, not concatenated as they come.
      const held = this.#held.length === 1 ? head : Buffer.concat(this.#held, this.#heldBytes);
      this.#held = [];
      this.#heldBytes = 0;
      const n = Math.min(frameBytes, held.length);
      if (version === undefined) {
        deliver(n === held.length ? held : held.subarray(0, n));
        this.#passing = frameBytes - n;
      } else {
        this.#fetches.delete(head.readInt32BE(4));
        deliver(rewriteFetchResponse(held.subarray(0, n), version));
      }
      data = held.subarray(n);
    }
  }
}

/**
 * A whole Fetch response frame (size, correlation id, body) with its record batches wrapped.
 * The layout up to the records is copied as it is; only the records' lengths change.
 */
export function rewriteFetchResponse(frame: Buffer, version: number): Buffer {
  const pieces: Buffer[] = [];
  let copiedTo = 0;
  let at = 8 + 4; // size, correlation id, throttle time
  if (version >= 7) at += 2 + 4; // error code, session id
  const topics = frame.readInt32BE(at);
  at += 4;
  for (let t = 0; t < topics; t++) {
    at += 2 + frame.readInt16BE(at);
    const partitions = frame.readInt32BE(at);
    at += 4;
    for (let p = 0; p < partitions; p++) {
      at += 4 + 2 + 8 + 8; // partition, error code, high watermark, last stable offset
      if (version >= 5) at += 8; // log start offset
      const aborted = frame.readInt32BE(at);
      at += 4 + Math.max(aborted, 0) * 16;
      if (version >= 11) at += 4; // preferred read replica
      const size = frame.readInt32BE(at);
      const start = at + 4;
      at = start + Math.max(size, 0);
      if (size <= 0) continue;
      pieces.push(frame.subarray(copiedTo, start - 4));
      const records = wrapRecordBatches(frame.subarray(start, at));
      const length = Buffer.alloc(4);
      length.writeInt32BE(records.reduce((n, b) => n + b.length, 0));
      pieces.push(length, ...records);
      copiedTo = at;
    }
  }
  if (copiedTo === 0) return frame;
  pieces.push(frame.subarray(copiedTo));
  const out = Buffer.concat(pieces);
  out.writeInt32BE(out.length - 4, 0);
  return out;
}

/** The pieces of a record set with each plain or gzip batch wrapped; a partial last batch is dropped, as kafkajs does. */
function wrapRecordBatches(set: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at + BATCH_HEADER_BYTES <= set.length) {
    const end = at + BATCH_LENGTH_PREFIX + set.readInt32BE(at + field.batchLength);
    if (end > set.length) break;
    if (set[at + field.magic] !== RECORD_BATCH_MAGIC) {
      // A legacy message set: kafkajs reads it as before.
      out.push(set.subarray(at));
      return out;
    }
    const batch = set.subarray(at, end);
    const attributes = batch.readInt16BE(field.attributes);
    const codec = attributes & attribute.compression;
    if ((attributes & attribute.control) !== 0 || (codec !== compression.none && codec !== compression.gzip))
      out.push(batch);
    else out.push(...wrapBatch(batch, attributes));
    at = end;
  }
  return out;
}

const headerName = Buffer.from(RECORD_BATCH_HEADER, 'utf8');

/** One batch as a batch of one record (at the last offset) whose value is the batch itself. */
function wrapBatch(batch: Buffer, attributes: number): Buffer[] {
  const lastOffsetDelta = batch.readInt32BE(field.lastOffsetDelta);
  const prefix: number[] = [0, 0]; // record attributes; timestamp delta 0 (zig-zag varlong)
  writeVarint(prefix, lastOffsetDelta);
  writeVarint(prefix, -1); // no key
  writeVarint(prefix, batch.length);
  const suffix: number[] = [];
  writeVarint(suffix, 1);
  writeVarint(suffix, headerName.length);
  suffix.push(...headerName);
  writeVarint(suffix, RECORD_BATCH_MARK.length);
  suffix.push(...RECORD_BATCH_MARK);
  const bodyLength = prefix.length + batch.length + suffix.length;
  const length: number[] = [];
  writeVarint(length, bodyLength);
  const header = Buffer.from(batch.subarray(0, BATCH_HEADER_BYTES));
  header.writeInt32BE(
    BATCH_HEADER_BYTES - BATCH_LENGTH_PREFIX + length.length + bodyLength,
    field.batchLength,
  );
  header.writeUInt32BE(0, field.crc);
  header.writeInt16BE(attributes & ~attribute.compression, field.attributes);
  header.writeInt32BE(1, field.recordCount);
  return [Buffer.concat([header, Buffer.from(length), Buffer.from(prefix)]), batch, Buffer.from(suffix)];
}
