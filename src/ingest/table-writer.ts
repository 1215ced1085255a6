import { randomUUID } from 'node:crypto';
import type { ColumnSet } from '../codec/columns.js';
import type { FileLayout } from '../codec/layout.js';
import { OffsetConflictError } from '../errors/index.js';
import { appendFiles } from '../iceberg/append.js';
import type { CommitResult } from '../iceberg/commit.js';
import type { DataFile, PartitionValue } from '../iceberg/datafile.js';
import { groupCheckpoints, groupOffsets } from '../iceberg/offsets.js';
import { loadTable, type Table, type Warehouse } from '../iceberg/table.js';
import type { K2TableName } from '../iceberg/types.js';
import type { CodecPool } from '../workers/pool.js';
import type { SealedRows } from './partition-ingest.js';

/** One source partition's share of a commit: its offset range, checkpoint and uploaded files. */
export interface CommitPart {
  topic: string;
  partition: number;
  fromOffset: bigint;
  nextOffset: bigint;
  /** The ingest checkpoint at `nextOffset`, recorded beside the offsets. */
  checkpoint?: string;
  files: DataFile[];
}

/** A Parquet file encoded and described, not necessarily uploaded yet. */
export interface EncodedFile {
  bytes: Uint8Array;
  dataFile: DataFile;
}

/** A partition's sealed rows encoded into files held in memory until they are uploaded. */
export interface EncodedPartition extends Omit<CommitPart, 'files' | 'checkpoint'> {
  sealed: SealedRows;
  files: EncodedFile[];
}

/** A partition's sealed rows turned into uploaded files, kept until a commit takes them. */
export interface FlushedPartition extends CommitPart {
  sealed: SealedRows;
}

export interface CommittedBatch<P extends CommitPart = FlushedPartition> {
  /** Undefined when every partition conflicted and nothing was committed. */
  result: CommitResult | undefined;
  partitions: P[];
  /** Partitions whose offsets someone else committed first: their files were dropped. */
  conflicts: { topic: string; partition: number; recordedNextOffset: bigint }[];
}

const DAY_MS = 86_400_000;

/** Iceberg's path segment for a partition value: dates as yyyy-MM-dd, the rest as text, URL-encoded. */
function partitionPath(layout: FileLayout, partition: Map<number, PartitionValue>): string {
  return layout.partitionFields
    .map((field) => {
      const value = partition.get(field['field-id']);
      const text =
        value === null || value === undefined
          ? 'null'
          : field.transform === 'day'
            ? new Date(Number(value) * DAY_MS).toISOString().slice(0, 10)
            : String(value);
      return `${field.name}=${encodeURIComponent(text)}`;
    })
    .join('/');
}

/**
 * Writes one table: sealed partition rows → Parquet files on S3 (through the pool) → one Iceberg
 * append carrying every partition's offsets. The only writer of its table in this process.
 */
export class TableWriter {
  #table: Table | undefined;

  constructor(
    readonly table: K2TableName,
    readonly identifier: string,
    private readonly warehouse: Warehouse,
    private readonly pool: CodecPool,
    private readonly group: string,
    private readonly writerId: string,
  ) {}

  async load(): Promise<Table> {
    this.#table = await loadTable(this.warehouse, this.identifier);
    return this.#table;
  }

  /** The next offset recorded in the table for a topic-partition, if the group ever committed it. */
  async recordedOffset(topic: string, partition: number): Promise<bigint | undefined> {
    return (await this.recorded(topic, partition)).nextOffset;
  }

  /** What the table records for a topic-partition: the next offset and the checkpoint beside it. */
  async recorded(
    topic: string,
    partition: number,
  ): Promise<{ nextOffset: bigint | undefined; checkpoint: string | undefined }> {
    const table = await this.load();
    return {
      nextOffset: groupOffsets(table.metadata, this.group).get(topic)?.get(partition),
      checkpoint: groupCheckpoints(table.metadata, this.group).get(topic)?.get(partition),
    };
  }

  layout(table: Table): FileLayout {
    const metadata = table.metadata;
    const spec = metadata['partition-specs'].find((s) => s['spec-id'] === metadata['default-spec-id']);
    const sort = metadata['sort-orders'].find((s) => s['order-id'] === metadata['default-sort-order-id']);
    const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
    const names = new Map(schema?.fields.map((f) => [f.id, f.name]));
    return {
      specId: metadata['default-spec-id'],
      partitionFields: spec?.fields ?? [],
      sortColumns: (sort?.fields ?? []).map((f) => names.get(f['source-id'])!).filter(Boolean),
    };
  }

  /**
   * Sorts and encodes one partition's sealed rows in the pool (their buffers move there) into
   * Parquet bytes with their data-file entries, paths chosen now: an upload that fails can be
   * repeated with the same bytes to the same paths, without the rows. Files encoded ahead of the
   * commit come first; one that failed fails the whole range.
   */
  async encode(sealed: SealedRows): Promise<EncodedPartition> {
    const { topic, partition, fromOffset, nextOffset } = sealed;
    const [ahead, rest] = await Promise.all([
      Promise.all(sealed.encodedAhead),
      sealed.unencodedRows === 0 ? [] : this.encodeFiles(sealed.chunks, sealed.keep),
    ]);
    return { sealed, topic, partition, fromOffset, nextOffset, files: [...ahead.flat(), ...rest] };
  }

  /** Uploads an encoded partition's files (again, if an earlier attempt failed). */
  async upload(encoded: EncodedPartition): Promise<FlushedPartition> {
    await Promise.all(encoded.files.map((f) => this.warehouse.io.write(f.dataFile.filePath, f.bytes)));
    const { sealed, topic, partition, fromOffset, nextOffset } = encoded;
    return { sealed, topic, partition, fromOffset, nextOffset, files: encoded.files.map((f) => f.dataFile) };
  }

  /** Rows → one sorted Parquet file per partition tuple (in the pool) → uploaded data files. */
  async writeFiles(chunks: ColumnSet[], keep: (Int32Array | null)[]): Promise<DataFile[]> {
    const files = await this.encodeFiles(chunks, keep);
    await Promise.all(files.map((f) => this.warehouse.io.write(f.dataFile.filePath, f.bytes)));
    return files.map((f) => f.dataFile);
  }

  async encodeFiles(chunks: ColumnSet[], keep: (Int32Array | null)[]): Promise<EncodedFile[]> {
    const table = this.#table ?? (await this.load());
    const layout = this.layout(table);
    const { files } = await this.pool.write({ table: this.table, layout, chunks, keep });
    const location = table.metadata.location.replace(/\/+$/, '');
    return files.map((file) => ({
      bytes: file.bytes,
      dataFile: {
        ...file.stats,
        filePath: `${location}/data/${partitionPath(layout, file.partition)}/${Date.now()}-${randomUUID()}.parquet`,
        fileFormat: 'PARQUET',
        fileSizeInBytes: file.bytes.byteLength,
        partition: file.partition,
        specId: layout.specId,
        sortOrderId: table.metadata['default-sort-order-id'],
      },
    }));
  }

  /** The table's location, for objects written beside it (ingest checkpoints). */
  async location(): Promise<string> {
    return (this.#table ?? (await this.load())).metadata.location;
  }

  /**
   * Commits flushed partitions as one snapshot with their offsets. A partition whose range starts
   * below what the table records (another instance committed it first, after a rebalance) is
   * dropped with its files and reported; the rest commit.
   */
  async commit<P extends CommitPart>(
    flushed: P[],
    commitId: string = randomUUID(),
  ): Promise<CommittedBatch<P>> {
    let remaining = flushed;
    const conflicts: CommittedBatch['conflicts'] = [];
    for (;;) {
      try {
        const result = await appendFiles(
          this.warehouse,
          this.identifier,
          {
            files: remaining.flatMap((p) => p.files),
            commitId,
            writerId: this.writerId,
            offsets: {
              group: this.group,
              ranges: remaining.map(({ topic, partition, fromOffset, nextOffset, checkpoint }) => ({
                topic,
                partition,
                fromOffset,
                nextOffset,
                checkpoint,
              })),
            },
            checkFiles: false,
          },
          { retry: { attempts: 30, maxDelayMs: 500 } },
        );
        this.#table = result.table;
        return { result, partitions: remaining, conflicts };
      } catch (error) {
        if (!(error instanceof OffsetConflictError)) throw error;
        const lost = remaining.filter((p) => p.topic === error.topic && p.partition === error.partition);
        await this.warehouse.io.delete(lost.flatMap((p) => p.files.map((f) => f.filePath)));
        conflicts.push({
          topic: error.topic,
          partition: error.partition,
          recordedNextOffset: error.committedNextOffset,
        });
        remaining = remaining.filter((p) => !lost.includes(p));
        if (remaining.length === 0) return { result: undefined, partitions: [], conflicts };
      }
    }
  }
}
