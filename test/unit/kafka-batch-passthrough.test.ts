import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  FetchResponseStream,
  RECORD_BATCH_HEADER,
  RECORD_BATCH_MARK,
  rewriteFetchResponse,
} from '../../src/kafka/batch-passthrough.js';
import { FetchedRecords } from '../../src/kafka/fetched.js';
import { attribute } from '../../src/kafka/record-batch.js';
import { seededRandom } from '../support/columns.js';
import {
  encodeBatchHeader,
  encodeRecord,
  encodeRecordBatch,
  type RecordInput,
} from '../support/record-batch.js';

/** kafkajs's own Fetch v11 response decoder: what the ingest consumer runs on a rewritten response. */
const require = createRequire(import.meta.url);
const fetchV11: {
  decode(data: Buffer): Promise<{ responses: { topicName: string; partitions: DecodedPartition[] }[] }>;
} = require('kafkajs/src/protocol/requests/fetch/v11/response.js');

interface DecodedPartition {
  partition: number;
  highWatermark: string;
  abortedTransactions: { producerId: string; firstOffset: string }[];
  messages: (KafkaMessage & { isControlRecord: boolean; batchContext: { producerId: string } })[];
}

const text = (s: string) => Buffer.from(s, 'utf8');
const trade = (i: number): RecordInput => ({
  key: text(`SYM${i % 3}`),
  value: text(`value-${i}-${'x'.repeat(i % 7)}`),
  headers: [
    ['h', text(String(i))],
    ['h', text('again')],
  ],
  timestampDelta: i * 10,
});

function gzipBatch(baseOffset: bigint, records: RecordInput[]): Buffer {
  const body = gzipSync(Buffer.concat(records.map((r, i) => encodeRecord(r, i))));
  const header = encodeBatchHeader(
    {
      baseOffset,
      attributes: 1,
      lastOffsetDelta: records.length - 1,
      baseTimestamp: 1_700_000_000_000n,
      recordCount: records.length,
    },
    body.length,
  );
  return Buffer.concat([header, body]);
}

/** A transaction's commit marker: a control batch of one record (key: version 0, type 1). */
function controlBatch(offset: bigint): Buffer {
  const record = encodeRecord({ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }, 0);
  const header = encodeBatchHeader(
    {
      baseOffset: offset,
      attributes: attribute.control | attribute.transactional,
      lastOffsetDelta: 0,
      producerId: 7n,
      recordCount: 1,
    },
    record.length,
  );
  return Buffer.concat([header, record]);
}

interface PartitionInput {
  partition: number;
  records: Buffer;
  aborted?: [bigint, bigint][];
}

/** A Fetch v11 response frame (size, correlation id, body) as a broker sends it. */
function fetchResponse(correlationId: number, topics: [string, PartitionInput[]][]): Buffer {
  const parts: Buffer[] = [];
  const int = (bits: 16 | 32 | 64, value: number | bigint) => {
    const b = Buffer.alloc(bits / 8);
    if (bits === 16) b.writeInt16BE(Number(value));
    else if (bits === 32) b.writeInt32BE(Number(value));
    else b.writeBigInt64BE(BigInt(value));
    parts.push(b);
  };
  int(32, correlationId);
  int(32, 0); // throttle
  int(16, 0); // error
  int(32, 0); // session
  int(32, topics.length);
  for (const [name, partitions] of topics) {
    int(16, name.length);
    parts.push(text(name));
    int(32, partitions.length);
    for (const p of partitions) {
      int(32, p.partition);
      int(16, 0);
      int(64, 1_000n); // high watermark
      int(64, 1_000n); // last stable offset
      int(64, 0n); // log start offset
      int(32, p.aborted?.length ?? 0);
      for (const [producerId, firstOffset] of p.aborted ?? []) {
        int(64, producerId);
        int(64, firstOffset);
      }
      int(32, -1); // preferred read replica
      int(32, p.records.length);
      parts.push(p.records);
    }
  }
  const body = Buffer.concat(parts);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

const plainRecords = Array.from({ length: 5 }, (_, i) => trade(i));
const gzipRecords = Array.from({ length: 4 }, (_, i) => trade(10 + i));
const plain = encodeRecordBatch(100n, plainRecords, { baseTimestamp: 1_700_000_000_000n });
const gzipped = gzipBatch(105n, gzipRecords);
/** The last batch of a fetch cut short by the broker's byte limit. */
const partial = encodeRecordBatch(109n, [trade(20)]).subarray(0, 70);

async function decodeWithKafkajs(frame: Buffer) {
  // kafkajs's connection hands the decoder the frame after its size and correlation id.
  return (await fetchV11.decode(frame.subarray(8))).responses;
}

describe('batch passthrough: Fetch responses with whole record batches', () => {
  const frame = fetchResponse(42, [
    ['market.crypto.trades', [{ partition: 0, records: Buffer.concat([plain, gzipped, partial]) }]],
    ['market.other.trades', [{ partition: 3, records: controlBatch(200n), aborted: [[7n, 150n]] }]],
  ]);

  it('kafkajs reads one marked message per batch, at the batch last offset, holding the batch', async () => {
    const [crypto, other] = await decodeWithKafkajs(rewriteFetchResponse(frame, 11));
    expect(crypto!.topicName).toBe('market.crypto.trades');
    const messages = crypto!.partitions[0]!.messages;
    expect(messages.map((m) => m.offset)).toEqual(['104', '108']);
    expect(messages.map((m) => m.headers?.[RECORD_BATCH_HEADER])).toEqual([
      RECORD_BATCH_MARK,
      RECORD_BATCH_MARK,
    ]);
    expect(Buffer.compare(messages[0]!.value!, plain)).toBe(0);
    expect(Buffer.compare(messages[1]!.value!, gzipped)).toBe(0);
    expect(messages.every((m) => m.key === null && !m.isControlRecord)).toBe(true);
    // The control batch and the aborted-transaction list pass as they were.
    const control = other!.partitions[0]!;
    expect(control.partition).toBe(3);
    expect(control.abortedTransactions).toEqual([{ producerId: '7', firstOffset: '150' }]);
    expect(control.messages.map((m) => [m.offset, m.isControlRecord])).toEqual([['200', true]]);
  });

  it('a response kafkajs decodes the same without the passthrough once unwrapped', async () => {
    const [original] = await decodeWithKafkajs(frame);
    const [rewritten] = await decodeWithKafkajs(rewriteFetchResponse(frame, 11));
    const fetched = await FetchedRecords.of(rewritten!.partitions[0]!.messages);
    const packed = fetched.pack(0n);
    const expected = original!.partitions[0]!.messages;
    expect([...packed.offsets].map(String)).toEqual(expected.map((m) => m.offset));
    const values = [...packed.ends].map((end, i) =>
      Buffer.from(packed.values.subarray(i === 0 ? 0 : packed.ends[i - 1]!, end)).toString(),
    );
    expect(values).toEqual(expected.map((m) => m.value!.toString()));
    for (const message of expected) {
      const record = fetched.record(BigInt(message.offset))!;
      expect(record.key).toEqual(message.key);
      expect(record.value).toEqual(message.value);
      expect(record.headers).toEqual(message.headers);
      expect(record.timestamp).toBe(message.timestamp);
    }
  });

  it('packs only the records at and after the partition position, across batches', async () => {
    const [rewritten] = await decodeWithKafkajs(rewriteFetchResponse(frame, 11));
    const fetched = await FetchedRecords.of(rewritten!.partitions[0]!.messages);
    expect(fetched.firstOffset).toBe(100n);
    expect([...fetched.pack(103n).offsets]).toEqual([103n, 104n, 105n, 106n, 107n, 108n]);
    expect([...fetched.pack(107n).offsets]).toEqual([107n, 108n]);
    expect(fetched.pack(109n).ends.length).toBe(0);
    expect(fetched.record(99n)).toBeUndefined();
  });

  it('leaves responses with nothing to wrap byte for byte as they were', () => {
    const empty = fetchResponse(1, [['t', [{ partition: 0, records: Buffer.alloc(0) }]]]);
    expect(rewriteFetchResponse(empty, 11)).toBe(empty);
  });

  it('reads records kafkajs decoded itself (no passthrough) the same way', async () => {
    const [original] = await decodeWithKafkajs(frame);
    const fetched = await FetchedRecords.of(original!.partitions[0]!.messages);
    expect([...fetched.pack(106n).offsets]).toEqual([106n, 107n, 108n]);
    expect(fetched.record(101n)?.value?.toString()).toBe(plainRecords[1]!.value!.toString());
  });

  it('does not take a producer record carrying the header for a batch', async () => {
    const spoof = encodeRecordBatch(0n, [
      { key: null, value: plain, headers: [[RECORD_BATCH_HEADER, Buffer.alloc(16)]] },
    ]);
    // As a client without the passthrough (the query's tail, the DLQ reader) receives it.
    const [topic] = await decodeWithKafkajs(fetchResponse(5, [['t', [{ partition: 0, records: spoof }]]]));
    const fetched = await FetchedRecords.of(topic!.partitions[0]!.messages);
    const packed = fetched.pack(0n);
    expect(packed.ends.length).toBe(1);
    expect(Buffer.compare(Buffer.from(packed.values), plain)).toBe(0);
  });
});

describe('FetchResponseStream: frames split anywhere by the socket', () => {
  /** A request as kafkajs writes it: size, api key, version, correlation id, client id. */
  const request = (apiKey: number, version: number, correlationId: number) => {
    const b = Buffer.alloc(14);
    b.writeInt32BE(10, 0);
    b.writeInt16BE(apiKey, 4);
    b.writeInt16BE(version, 6);
    b.writeInt32BE(correlationId, 8);
    b.writeInt16BE(0, 12);
    return b;
  };
  const metadata = (correlationId: number, bytes: number) => {
    const b = Buffer.alloc(8 + bytes, 7);
    b.writeInt32BE(4 + bytes, 0);
    b.writeInt32BE(correlationId, 4);
    return b;
  };

  it('passes other responses through unchanged and rewrites each Fetch response whole', () => {
    const fetch = fetchResponse(2, [['t', [{ partition: 0, records: Buffer.concat([plain, gzipped]) }]]]);
    const oldFetch = fetchResponse(4, [['t', [{ partition: 0, records: plain }]]]);
    const frames = [metadata(1, 300), fetch, metadata(3, 5), oldFetch, metadata(5, 1)];
    const expected = Buffer.concat([
      frames[0]!,
      rewriteFetchResponse(fetch, 11),
      frames[2]!,
      // Version 3 is not rewritten: kafkajs decodes it as before.
      oldFetch,
      frames[4]!,
    ]);
    const wire = Buffer.concat(frames);
    const random = seededRandom(11);
    for (let trial = 0; trial < 50; trial++) {
      const stream = new FetchResponseStream();
      stream.request(request(3, 12, 1));
      stream.request(request(1, 11, 2));
      stream.request(request(1, 3, 4));
      const delivered: Buffer[] = [];
      for (let at = 0; at < wire.length; ) {
        const n = 1 + Math.floor(random() * (trial % 2 === 0 ? 9 : 400));
        stream.push(wire.subarray(at, at + n), (data) => delivered.push(Buffer.from(data)));
        at += n;
      }
      expect(Buffer.concat(delivered).equals(expected)).toBe(true);
    }
  });
});
