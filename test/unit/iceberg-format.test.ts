import { describe, expect, it } from 'vitest';
import { InvalidNameError } from '../../src/errors/index.js';
import { readAvroFile } from '../../src/iceberg/avro.js';
import { encodeBound } from '../../src/iceberg/bounds.js';
import type { DataFile } from '../../src/iceberg/datafile.js';
import { parseIdentifier, parseNamespace } from '../../src/iceberg/identifier.js';
import { EntryStatus, readManifest, writeManifest } from '../../src/iceberg/manifest.js';
import { type ManifestFile, readManifestList, writeManifestList } from '../../src/iceberg/manifest-list.js';
import {
  metadataVersion,
  newTableMetadata,
  nextMetadataFile,
  parseTableMetadata,
  serializeTableMetadata,
  withSnapshot,
} from '../../src/iceberg/metadata.js';
import { k2TableDefinition } from '../../src/iceberg/tables.js';
import { applyTransform, murmur3x86_32, parseTransform } from '../../src/iceberg/transforms.js';

const BIG = 9_007_199_254_740_993n; // 2^53 + 1: a double cannot hold it

function tradesMetadata() {
  return newTableMetadata(k2TableDefinition('trades_v2', 's3://b/w/market_data/trades_v2'));
}

function dataFile(path: string, day: number, exchange: string): DataFile {
  return {
    filePath: path,
    fileFormat: 'PARQUET',
    fileSizeInBytes: 4_096,
    recordCount: 17,
    partition: new Map<number, string | number>([
      [1000, day],
      [1001, exchange],
    ]),
    specId: 0,
    columnSizes: new Map([[1, 100]]),
    valueCounts: new Map([[1, 17]]),
    nullValueCounts: new Map([[1, 0]]),
    nanValueCounts: new Map(),
    lowerBounds: new Map([[6, encodeBound('timestamptz', 1_709_251_200_000_000n)]]),
    upperBounds: new Map([[6, encodeBound('timestamptz', 1_709_337_599_999_999n)]]),
    splitOffsets: [4],
    sortOrderId: 1,
  };
}

describe('transforms', () => {
  it('bucket hashes match the Iceberg spec test vectors', () => {
    const long = new Uint8Array(8);
    new DataView(long.buffer).setBigInt64(0, 34n, true);
    expect(murmur3x86_32(long)).toBe(2017239379);
    expect(murmur3x86_32(new TextEncoder().encode('iceberg'))).toBe(1210000089);
    expect(applyTransform(parseTransform('bucket[16]'), 'long', 34n)).toBe(2017239379 % 16);
  });

  it('day and hour floor toward negative infinity, before the epoch too', () => {
    const day = parseTransform('day');
    expect(applyTransform(day, 'timestamptz', 1_709_251_200_000_000n)).toBe(19_783);
    expect(applyTransform(day, 'timestamptz', 1_709_337_599_999_999n)).toBe(19_783);
    expect(applyTransform(day, 'timestamptz', -1n)).toBe(-1);
    expect(applyTransform(parseTransform('hour'), 'timestamptz', -1n)).toBe(-1);
    expect(applyTransform(parseTransform('month'), 'timestamptz', 1_709_251_200_000_000n)).toBe(54 * 12 + 2);
    expect(applyTransform(parseTransform('truncate[3]'), 'string', 'BTCUSDT')).toBe('BTC');
  });
});

describe('table metadata JSON', () => {
  it('keeps 63-bit snapshot ids and sequence numbers exact through serialise and parse', () => {
    const base = tradesMetadata();
    const next = withSnapshot(
      base,
      {
        'snapshot-id': BIG,
        'sequence-number': 1n,
        'timestamp-ms': 1_700_000_000_000,
        'manifest-list': 's3://b/w/snap.avro',
        summary: { operation: 'append' },
      },
      's3://b/w/metadata/00000-a.metadata.json',
    );
    const text = serializeTableMetadata(next);
    expect(text).toContain('"snapshot-id":9007199254740993');
    const parsed = parseTableMetadata(text, 'mem://');
    expect(parsed['current-snapshot-id']).toBe(BIG);
    expect(parsed.refs.main).toEqual({ 'snapshot-id': BIG, type: 'branch' });
    expect(parsed['metadata-log']).toHaveLength(1);
    expect(parsed['last-partition-id']).toBe(1001);
    expect(parsed['partition-specs'][0]!.fields.map((f) => f.transform)).toEqual(['day', 'identity']);
  });

  it('bounds the metadata log by write.metadata.previous-versions-max', () => {
    let metadata = tradesMetadata();
    metadata = {
      ...metadata,
      properties: { ...metadata.properties, 'write.metadata.previous-versions-max': '2' },
    };
    for (let i = 1n; i <= 4n; i++) {
      metadata = withSnapshot(
        metadata,
        {
          'snapshot-id': i,
          'sequence-number': i,
          'timestamp-ms': 1,
          'manifest-list': 'x',
          summary: { operation: 'append' },
        },
        `m${i}`,
      );
    }
    expect(metadata['metadata-log'].map((e) => e['metadata-file'])).toEqual(['m3', 'm4']);
    expect(metadata['last-sequence-number']).toBe(4n);
  });

  it('rejects corrupt and foreign metadata with typed errors', () => {
    expect(() => parseTableMetadata('{"format-version": 2, "tab', 'u')).toThrow(/not valid JSON/);
    expect(() => parseTableMetadata('{"format-version": 1}', 'u')).toThrow(/format-version 1/);
    expect(() => parseTableMetadata('{"format-version": 2}', 'u')).toThrow(/lacks table-uuid/);
  });

  it('numbers metadata files one past the previous version', () => {
    const first = nextMetadataFile('s3://b/t', undefined);
    expect(first).toMatch(/\/metadata\/00000-[0-9a-f-]{36}\.metadata\.json$/);
    expect(metadataVersion(nextMetadataFile('s3://b/t', first))).toBe(1);
  });
});

describe('manifests and manifest lists (Avro)', () => {
  it('round-trips entries with field ids in the embedded schema and inherits ids and sequence numbers', () => {
    const metadata = tradesMetadata();
    const bytes = writeManifest({ schema: metadata.schemas[0]!, spec: metadata['partition-specs'][0]! }, [
      {
        status: EntryStatus.ADDED,
        snapshotId: undefined,
        sequenceNumber: undefined,
        fileSequenceNumber: undefined,
        dataFile: { ...dataFile('s3://b/d1', 19_783, 'BINANCE'), content: 0 },
      },
      {
        status: EntryStatus.EXISTING,
        snapshotId: BIG,
        sequenceNumber: 3n,
        fileSequenceNumber: 3n,
        dataFile: { ...dataFile('s3://b/d2', 19_784, 'KRAKEN'), content: 0 },
      },
    ]);
    const file = readAvroFile(bytes);
    const schema = JSON.parse(file.meta['avro.schema']!);
    expect(schema.fields.map((f: { 'field-id': number }) => f['field-id'])).toEqual([0, 1, 3, 4, 2]);
    expect(file.meta['format-version']).toBe('2');
    expect(JSON.parse(file.meta['partition-spec']!)).toHaveLength(2);

    const entries = readManifest(bytes, 'mem://', { addedSnapshotId: 42n, sequenceNumber: 7n });
    expect(entries[0]).toMatchObject({
      status: 1,
      snapshotId: 42n,
      sequenceNumber: 7n,
      fileSequenceNumber: 7n,
    });
    expect(entries[1]).toMatchObject({ status: 0, snapshotId: BIG, sequenceNumber: 3n });
    expect(entries[0]!.dataFile.partition).toEqual(
      new Map<number, string | number>([
        [1000, 19_783],
        [1001, 'BINANCE'],
      ]),
    );
    expect(entries[0]!.dataFile.lowerBounds.get(6)).toEqual(
      encodeBound('timestamptz', 1_709_251_200_000_000n),
    );
    expect(entries[0]!.dataFile.sortOrderId).toBe(1);
  });

  it('round-trips a manifest list with 64-bit ids and partition summaries', () => {
    const manifest: ManifestFile = {
      manifestPath: 's3://b/m.avro',
      manifestLength: 1234,
      partitionSpecId: 0,
      content: 0,
      sequenceNumber: BIG,
      minSequenceNumber: 1n,
      addedSnapshotId: BIG,
      addedFilesCount: 2,
      existingFilesCount: 0,
      deletedFilesCount: 0,
      addedRowsCount: 34n,
      existingRowsCount: 0n,
      deletedRowsCount: 0n,
      partitions: [
        {
          containsNull: false,
          containsNan: false,
          lowerBound: encodeBound('date', 1),
          upperBound: encodeBound('date', 2),
        },
      ],
      keyMetadata: undefined,
    };
    const bytes = writeManifestList({ snapshotId: BIG, parentSnapshotId: undefined, sequenceNumber: BIG }, [
      manifest,
    ]);
    expect(readManifestList(bytes, 'mem://')).toEqual([manifest]);
    expect(readAvroFile(bytes).meta).toMatchObject({
      'snapshot-id': String(BIG),
      'parent-snapshot-id': 'null',
    });
    expect(() => readManifestList(new Uint8Array([1, 2, 3]), 'mem://x')).toThrow(/unreadable manifest list/);
  });
});

describe('names', () => {
  it('accepts letters, digits, _ and -, splits nested namespaces on dots, rejects quotes and SQL', () => {
    expect(parseIdentifier('market_data.trades_v2')).toEqual({
      namespace: ['market_data'],
      name: 'trades_v2',
    });
    expect(parseNamespace('a.b-c')).toEqual(['a', 'b-c']);
    for (const bad of ["md.it's", 'md.a"b', 'md.x;drop', 'md.', '.t', 'single', `md.${'x'.repeat(256)}`]) {
      expect(() => parseIdentifier(bad)).toThrow(InvalidNameError);
    }
  });
});
