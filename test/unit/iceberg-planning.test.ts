import { describe, expect, it } from 'vitest';
import { encodeBound } from '../../src/iceberg/bounds.js';
import type { DataFile } from '../../src/iceberg/datafile.js';
import { planCompaction } from '../../src/iceberg/maintenance/compaction-plan.js';
import { snapshotsToKeep } from '../../src/iceberg/maintenance/expire-snapshots.js';
import { mergeStats } from '../../src/iceberg/maintenance/merge-stats.js';
import type { ManifestEntry } from '../../src/iceberg/manifest.js';
import { newTableMetadata, type Snapshot, withSnapshot } from '../../src/iceberg/metadata.js';
import {
  decodeOffsets,
  encodeOffsets,
  groupOffsets,
  offsetSummary,
  overlappingRange,
  recordedOffsets,
} from '../../src/iceberg/offsets.js';
import { summarisePartitions } from '../../src/iceberg/partition-summary.js';
import { bindPredicates, fileMayMatch, manifestMayMatch, marketPredicates } from '../../src/iceberg/scan.js';
import { summarise, totalsOf, zeroTotals } from '../../src/iceberg/summary.js';
import { k2TableDefinition } from '../../src/iceberg/tables.js';
import { tableSchema } from '../../src/iceberg/types.js';

const schema = tableSchema('trades_v2');
const spec = newTableMetadata(k2TableDefinition('trades_v2', 's3://b/t'))['partition-specs'][0]!;
const DAY = 86_400_000_000n;
const MARCH_1 = 1_709_251_200_000_000n; // epoch day 19783

function file(
  name: string,
  day: number,
  exchange: string,
  symbols: [string, string],
  size = 1_000,
  records = 10,
): DataFile {
  const from = BigInt(day - 19_783) * DAY + MARCH_1;
  return {
    filePath: `s3://b/t/data/${name}`,
    fileFormat: 'PARQUET',
    fileSizeInBytes: size,
    recordCount: records,
    partition: new Map<number, string | number>([
      [1000, day],
      [1001, exchange],
    ]),
    specId: 0,
    columnSizes: new Map(),
    valueCounts: new Map([
      [3, records],
      [6, records],
      [12, records],
    ]),
    nullValueCounts: new Map([
      [3, 0],
      [6, 0],
      [12, records],
    ]),
    nanValueCounts: new Map(),
    lowerBounds: new Map([
      [3, encodeBound('string', symbols[0])],
      [6, encodeBound('timestamptz', from + 1_000n)],
    ]),
    upperBounds: new Map([
      [3, encodeBound('string', symbols[1])],
      [6, encodeBound('timestamptz', from + 3_600_000_000n)],
    ]),
    splitOffsets: [],
  };
}

describe('scan planning', () => {
  const files = [
    file('a', 19_783, 'BINANCE', ['BTCUSDT', 'ETHUSDT']),
    file('b', 19_783, 'KRAKEN', ['ADAUSD', 'XRPUSD']),
    file('c', 19_784, 'BINANCE', ['SOLUSDT', 'SOLUSDT']),
  ];
  const plan = (filter: Parameters<typeof marketPredicates>[0]) => {
    const bound = bindPredicates(schema, marketPredicates(filter));
    return files.filter((f) => fileMayMatch(f, spec, schema, bound)).map((f) => f.filePath.slice(-1));
  };

  it('prunes by day partition with a half-open time range', () => {
    expect(plan({ from: MARCH_1, to: MARCH_1 + DAY })).toEqual(['a', 'b']);
    expect(plan({ from: MARCH_1 + DAY, to: MARCH_1 + 2n * DAY })).toEqual(['c']);
    expect(plan({ from: MARCH_1 + 2n * DAY })).toEqual([]);
  });

  it('prunes by exchange partition and by symbol bounds', () => {
    expect(plan({ exchanges: ['BINANCE'] })).toEqual(['a', 'c']);
    expect(plan({ symbols: ['SOLUSDT'] })).toEqual(['b', 'c']);
    expect(plan({ symbols: ['AAVE'] })).toEqual([]);
    expect(plan({ exchanges: ['BINANCE'], symbols: ['DOGE'] })).toEqual(['a']);
    expect(plan({ exchanges: ['KRAKEN'], symbols: ['ZECUSD'] })).toEqual([]);
  });

  it('prunes by timestamp bounds inside a day', () => {
    expect(plan({ from: MARCH_1 + 7_200_000_000n, to: MARCH_1 + DAY })).toEqual([]);
  });

  it('skips whole manifests by their partition summaries', () => {
    const summaries = summarisePartitions(
      [
        { fieldId: 1000, name: 'timestamp_day', type: 'date' },
        { fieldId: 1001, name: 'exchange', type: 'string' },
      ],
      files.slice(0, 2),
    );
    const manifest = { partitions: summaries } as Parameters<typeof manifestMayMatch>[0];
    const bound = (filter: Parameters<typeof marketPredicates>[0]) =>
      bindPredicates(schema, marketPredicates(filter));
    expect(manifestMayMatch(manifest, spec, schema, bound({ from: MARCH_1 }))).toBe(true);
    expect(manifestMayMatch(manifest, spec, schema, bound({ from: MARCH_1 + DAY }))).toBe(false);
    expect(manifestMayMatch(manifest, spec, schema, bound({ exchanges: ['OKX'] }))).toBe(false);
    expect(manifestMayMatch(manifest, spec, schema, bound({ exchanges: ['OKX', 'KRAKEN'] }))).toBe(true);
  });

  it('keeps a file whose statistics are missing', () => {
    const bare = { ...files[0]!, lowerBounds: new Map(), upperBounds: new Map() };
    const bound = bindPredicates(schema, marketPredicates({ symbols: ['ZZZ'] }));
    expect(fileMayMatch(bare, spec, schema, bound)).toBe(true);
  });
});

describe('offsets in snapshot summaries', () => {
  it('encodes per group as {"topic": {"partition": nextOffset}} with 64-bit offsets exact', () => {
    const text = encodeOffsets(
      new Map([
        [
          'market.crypto.trades',
          new Map([
            [1, 2n ** 62n],
            [0, 5n],
          ]),
        ],
      ]),
    );
    expect(text).toBe('{"market.crypto.trades":{"0":5,"1":4611686018427387904}}');
    expect(decodeOffsets(text).get('market.crypto.trades')?.get(1)).toBe(2n ** 62n);
  });

  it('walks ancestry per group and carries every group forward', () => {
    let metadata = newTableMetadata(k2TableDefinition('trades_v2', 's3://b/t'));
    const commit = (id: bigint, summary: Record<string, string>) => {
      const snapshot: Snapshot = {
        'snapshot-id': id,
        ...(id > 1n ? { 'parent-snapshot-id': id - 1n } : {}),
        'sequence-number': id,
        'timestamp-ms': Number(id),
        'manifest-list': `l${id}`,
        summary: { operation: 'append', ...summary },
      };
      metadata = withSnapshot(metadata, snapshot, `m${id}`);
    };
    commit(
      1n,
      offsetSummary(recordedOffsets(metadata), {
        group: 'g1',
        ranges: [{ topic: 't', partition: 0, nextOffset: 10n }],
      }),
    );
    commit(2n, {}); // a foreign writer
    commit(
      3n,
      offsetSummary(recordedOffsets(metadata), {
        group: 'g2',
        ranges: [{ topic: 't', partition: 0, nextOffset: 7n }],
      }),
    );
    expect(metadata.snapshots[2]!.summary['k2.offsets.g1']).toBe('{"t":{"0":10}}');
    expect(groupOffsets(metadata, 'g1').get('t')?.get(0)).toBe(10n);
    expect(groupOffsets(metadata, 'g2').get('t')?.get(0)).toBe(7n);
    expect(groupOffsets(metadata, 'nobody').size).toBe(0);
    const recorded = recordedOffsets(metadata).get('g1')!;
    expect(
      overlappingRange(recorded, [{ topic: 't', partition: 0, fromOffset: 9n, nextOffset: 12n }])?.committed,
    ).toBe(10n);
    expect(
      overlappingRange(recorded, [{ topic: 't', partition: 0, fromOffset: 10n, nextOffset: 12n }]),
    ).toBeUndefined();

    // Expiry keeps the newest snapshot recording each group even when it is old.
    const keep = snapshotsToKeep(metadata, { olderThanMs: 1_000, retainLast: 1 });
    expect([...keep].sort()).toEqual([3n]);
  });
});

describe('snapshot summary counters', () => {
  it('adds to and subtracts from the parent totals exactly', () => {
    const parent = totalsOf({
      'total-data-files': '4',
      'total-delete-files': '0',
      'total-records': '9007199254740993',
      'total-files-size': '100',
      'total-position-deletes': '0',
      'total-equality-deletes': '0',
    })!;
    const summary = summarise(
      {
        operation: 'replace',
        added: [file('x', 19_783, 'B', ['a', 'b'], 70, 25)],
        removed: [file('y', 19_783, 'B', ['a', 'b'], 30, 10), file('z', 19_783, 'B', ['a', 'b'], 20, 15)],
      },
      parent,
    );
    expect(summary).toMatchObject({
      operation: 'replace',
      'added-data-files': '1',
      'deleted-data-files': '2',
      'total-data-files': '3',
      'total-records': '9007199254740993',
      'total-files-size': '120',
      'changed-partition-count': '1',
    });
    expect(totalsOf({ operation: 'append' })).toBeUndefined();
    expect(totalsOf(undefined)).toEqual(zeroTotals);
  });
});

describe('compaction planning', () => {
  const entry = (f: DataFile): { entry: ManifestEntry; addedAtMs: number } => ({
    entry: {
      status: 1,
      snapshotId: 1n,
      sequenceNumber: 1n,
      fileSequenceNumber: 1n,
      dataFile: { ...f, content: 0 },
    },
    addedAtMs: 0,
  });

  it('merges small files of closed days only, per partition, into bins of the target size', () => {
    const files = [
      file('a1', 19_783, 'BINANCE', ['A', 'B'], 400),
      file('a2', 19_783, 'BINANCE', ['A', 'B'], 400),
      file('a3', 19_783, 'BINANCE', ['A', 'B'], 400),
      file('big', 19_783, 'BINANCE', ['A', 'B'], 5_000),
      file('k1', 19_783, 'KRAKEN', ['A', 'B'], 100),
      file('open1', 19_784, 'BINANCE', ['A', 'B'], 100),
      file('open2', 19_784, 'BINANCE', ['A', 'B'], 100),
    ];
    const groups = planCompaction(files.map(entry), [spec], {
      targetFileSizeBytes: 1_000,
      closedBeforeDay: 19_784,
      closedBeforeMs: 0,
    });
    expect(groups.map((g) => g.files.map((f) => f.filePath.split('/').pop()))).toEqual([['a1', 'a2']]);
  });

  it('merges statistics: counts add, bounds widen, partial statistics are dropped', () => {
    const a = file('a', 19_783, 'BINANCE', ['BTC', 'ETH'], 10, 3);
    const b = { ...file('b', 19_783, 'BINANCE', ['ADA', 'BTC'], 10, 4), nanValueCounts: new Map([[7, 0]]) };
    const merged = mergeStats(schema, [a, b]);
    expect(merged.recordCount).toBe(7);
    expect(merged.valueCounts.get(3)).toBe(7);
    expect(merged.nullValueCounts.get(12)).toBe(7);
    expect(new TextDecoder().decode(merged.lowerBounds.get(3))).toBe('ADA');
    expect(new TextDecoder().decode(merged.upperBounds.get(3))).toBe('ETH');
    expect(merged.nanValueCounts.has(7)).toBe(false);
  });
});
