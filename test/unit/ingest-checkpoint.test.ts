import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { TableMetadata } from '../../src/iceberg/metadata.js';
import {
  CHECKPOINTS_PREFIX,
  decodeCheckpoints,
  groupCheckpoints,
  offsetSummary,
  recordedOffsets,
} from '../../src/iceberg/offsets.js';
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  type PartitionCheckpoint,
} from '../../src/ingest/checkpoint.js';
import { gapColumns } from '../../src/ingest/gaps.js';
import { PartitionIngest } from '../../src/ingest/partition-ingest.js';
import { MessageIdWindow, SequenceTracker } from '../../src/sequence/index.js';

const window = new MessageIdWindow(4);
for (const id of ['a', 'b']) window.admit(id);

const checkpoint = (): PartitionCheckpoint => ({
  version: 2,
  group: 'g',
  topic: 'market.crypto.trades',
  partition: 3,
  fromOffset: 10n,
  nextOffset: 2n ** 62n,
  sequence: new SequenceTracker('market.crypto.trades', 3).snapshot(),
  messageIds: window.snapshot(),
  gaps: [
    {
      exchange: 'BINANCE',
      symbol: 'BTCUSDT',
      from_sequence: 2n ** 60n,
      to_sequence: 2n ** 60n + 4n,
      size: 5n,
      detected_at: 1_735_689_600_000_000n,
      kind: 'small',
      topic: 'market.crypto.trades',
      partition: 3,
      offset: 12n,
    },
  ],
  dlqNextOffset: 7n,
});

describe('ingest checkpoints', () => {
  it('round-trip exactly, 64-bit values included, gzipped', async () => {
    const bytes = await encodeCheckpoint(checkpoint());
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect(await decodeCheckpoint('s3://b/c.json.gz', bytes)).toEqual(checkpoint());
  });

  it('refuse what is not a checkpoint, naming the object', async () => {
    await expect(decodeCheckpoint('s3://b/x', new Uint8Array([1, 2, 3]))).rejects.toThrow(CheckpointError);
    const json = (value: unknown) =>
      gzipSync(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    const wrong = json({ ...checkpoint(), version: 3, messageIds: null });
    await expect(decodeCheckpoint('s3://b/x', wrong)).rejects.toThrow(/s3:\/\/b\/x: unsupported version 3/);
    // The window's bytes must be all that follows the JSON.
    const good = gunzipSync(await encodeCheckpoint(checkpoint()));
    const short = gzipSync(good.subarray(0, good.length - 1));
    await expect(decodeCheckpoint('s3://b/x', short)).rejects.toThrow(
      /message id window of 4 bytes, the file holds 3/,
    );
    const extra = json({ ...checkpoint(), messageIds: null });
    await expect(
      decodeCheckpoint('s3://b/x', gzipSync(Buffer.concat([gunzipSync(extra), Buffer.from('\nxy')]))),
    ).rejects.toThrow(/2 bytes after the JSON/);
  });

  it('read the version 1 files earlier releases wrote: JSON alone, the ids as strings', async () => {
    const v1 = { ...checkpoint(), version: 1, messageIds: { version: 1, capacity: 4, ids: ['a', 'b'] } };
    const bytes = gzipSync(JSON.stringify(v1, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    const decoded = await decodeCheckpoint('s3://b/v1.json.gz', bytes);
    expect(decoded).toEqual(v1);
    const resumed = new MessageIdWindow(4);
    resumed.restore(decoded.messageIds!);
    expect(resumed.snapshot()).toEqual(window.snapshot());
  });

  it('are named beside the offsets and carried forward by commits of other partitions', () => {
    const first = offsetSummary(new Map(), {
      group: 'g',
      ranges: [
        { topic: 't', partition: 0, nextOffset: 5n, checkpoint: 's3://b/0-5' },
        { topic: 't', partition: 1, nextOffset: 7n, checkpoint: 's3://b/1-7' },
      ],
    });
    const metadata = {
      'current-snapshot-id': 1,
      snapshots: [
        {
          'snapshot-id': 1,
          'sequence-number': 1,
          'timestamp-ms': 0,
          summary: { operation: 'append', ...first },
        },
      ],
    } as unknown as TableMetadata;
    const second = offsetSummary(
      recordedOffsets(metadata),
      { group: 'g', ranges: [{ topic: 't', partition: 1, nextOffset: 9n, checkpoint: 's3://b/1-9' }] },
      new Map([['g', groupCheckpoints(metadata, 'g')]]),
    );
    expect(decodeCheckpoints(second[`${CHECKPOINTS_PREFIX}g`]!)).toEqual(
      new Map([
        [
          't',
          new Map([
            [0, 's3://b/0-5'],
            [1, 's3://b/1-9'],
          ]),
        ],
      ]),
    );
  });
});

describe('partition ingest state', () => {
  it('seals the tracker and window as of the sealed offset, and restores them', () => {
    const state = new PartitionIngest('market.crypto.trades', 0, 'trades_v2', 0n);
    state.tracker.observe({ exchange: 'BINANCE', symbol: 'BTCUSDT', sequence: 1n, offset: 0n });
    state.messageIds.admit('m1');
    state.accept(
      { rowCount: 0, columns: emptyColumns(), offsets: new BigInt64Array(0), failures: [] } as never,
      0n,
      1n,
      0,
    );
    const sealed = state.seal()!;
    expect(sealed.sequence?.symbols).toHaveLength(1);
    expect(MessageIdWindow.ids(sealed.messageIds!)).toEqual(['m1']);

    const resumed = new PartitionIngest('market.crypto.trades', 0, 'trades_v2', 1n);
    resumed.restore({
      ...checkpoint(),
      topic: 'market.crypto.trades',
      partition: 0,
      nextOffset: 1n,
      sequence: sealed.sequence,
      messageIds: sealed.messageIds,
    });
    expect(resumed.messageIds.has('m1')).toBe(true);
    expect(
      resumed.tracker.observe({ exchange: 'BINANCE', symbol: 'BTCUSDT', sequence: 3n, offset: 1n }).kind,
    ).toMatch(/gap/);
    expect(resumed.dlqNextOffset).toBe(7n);
    expect(() =>
      resumed.restore({ ...checkpoint(), partition: 0, nextOffset: 99n, sequence: null, messageIds: null }),
    ).toThrow(/checkpoint at 99/);
  });
});

describe('the DLQ offset a checkpoint records', () => {
  const none = (): never =>
    ({ rowCount: 0, columns: emptyColumns(), offsets: new BigInt64Array(0), failures: [] }) as never;

  it('stays at the earliest record quarantined by an earlier run from beyond the checkpoint', () => {
    const state = new PartitionIngest('market.crypto.trades', 0, 'trades_v2', 100n);
    // As after the scan on assignment: the DLQ partition ends at 50, and an earlier run quarantined
    // source offsets 120, 150 and 160 at DLQ offsets 39, 40 and 41.
    state.dlqNextOffset = 50n;
    state.quarantined.set('120', 39n).set('150', 40n).set('160', 41n);

    state.accept(none(), 100n, 130n, 0);
    expect(state.seal()!.dlqNextOffset).toBe(40n); // a restart at 130 must still find 150 and 160
    expect([...state.quarantined.keys()]).toEqual(['150', '160']);
    state.accept(none(), 130n, 155n, 0);
    expect(state.seal()!.dlqNextOffset).toBe(41n);
    state.accept(none(), 155n, 200n, 0);
    expect(state.seal()!.dlqNextOffset).toBe(50n);
    expect(state.quarantined.size).toBe(0);
  });

  it('stays unknown (read the DLQ partition from its start) when the end is unknown', () => {
    const state = new PartitionIngest('market.crypto.trades', 0, 'trades_v2', 0n);
    state.quarantined.set('5', 3n);
    state.accept(none(), 0n, 2n, 0);
    expect(state.seal()!.dlqNextOffset).toBeNull();
  });
});

describe('gap rows', () => {
  it('become columns of the sequence_gaps table', () => {
    const columns = gapColumns(checkpoint().gaps);
    expect(columns.rowCount).toBe(1);
    expect(Object.keys(columns.columns)).toEqual([
      'exchange',
      'symbol',
      'from_sequence',
      'to_sequence',
      'size',
      'detected_at',
      'kind',
      'topic',
      'partition',
      'offset',
    ]);
  });
});

function emptyColumns() {
  return {
    message_id: { kind: 'utf8', offsets: new Int32Array(1), data: new Uint8Array(0), nulls: null },
    exchange: { kind: 'utf8', offsets: new Int32Array(1), data: new Uint8Array(0), nulls: null },
    symbol: { kind: 'utf8', offsets: new Int32Array(1), data: new Uint8Array(0), nulls: null },
    source_sequence: { kind: 'int64', values: new BigInt64Array(0), nulls: null },
  };
}
