import { parseJson, stringifyJson, toBigInt } from './json.js';
import { ancestry, type Snapshot, type TableMetadata } from './metadata.js';

/**
 * Kafka offsets recorded in snapshot summaries (DESIGN §4). One key per consumer group,
 * `k2.offsets.<group>`, whose value is JSON `{"<topic>": {"<partition>": <nextOffset>}}` holding the
 * next offset to read for every partition the group has ever committed to this table. Each K2 commit
 * carries the whole map of every group forward, so the newest K2 snapshot in the ancestry answers.
 */
export const OFFSETS_PREFIX = 'k2.offsets.';
/**
 * Beside the offsets, `k2.checkpoints.<group>` maps each partition to the object holding the
 * ingest state (sequence tracker, gaps, DLQ position) at exactly the recorded offset. Written in the
 * same snapshot as the offsets, so the state a restart restores always matches where it resumes.
 */
export const CHECKPOINTS_PREFIX = 'k2.checkpoints.';
export const COMMIT_ID_KEY = 'k2.commit-id';
export const WRITER_ID_KEY = 'k2.writer-id';

/** topic → partition → next offset to read. */
export type TopicOffsets = Map<string, Map<number, bigint>>;

export interface PartitionRange {
  topic: string;
  partition: number;
  /** First offset of the batch; when given, a commit overlapping what is recorded is refused. */
  fromOffset?: bigint;
  /** Next offset to read after this batch (last offset + 1). */
  nextOffset: bigint;
  /** Where the partition's ingest state at `nextOffset` was written (recorded under `k2.checkpoints.<group>`). */
  checkpoint?: string;
}

/** topic → partition → checkpoint object location. */
export type TopicCheckpoints = Map<string, Map<number, string>>;

export interface OffsetCommit {
  group: string;
  ranges: PartitionRange[];
}

export function offsetsKey(group: string): string {
  return OFFSETS_PREFIX + group;
}

export function encodeOffsets(offsets: TopicOffsets): string {
  const json: Record<string, Record<string, bigint>> = {};
  for (const topic of [...offsets.keys()].sort()) {
    const partitions = offsets.get(topic)!;
    json[topic] = Object.fromEntries(
      [...partitions].sort(([a], [b]) => a - b).map(([p, o]) => [String(p), o]),
    );
  }
  return stringifyJson(json);
}

export function decodeOffsets(text: string): TopicOffsets {
  const json = parseJson(text) as Record<string, Record<string, unknown>>;
  const offsets: TopicOffsets = new Map();
  for (const [topic, partitions] of Object.entries(json)) {
    offsets.set(
      topic,
      new Map(
        Object.entries(partitions).map(([p, o]) => [Number(p), toBigInt(o, `offset of ${topic}/${p}`)]),
      ),
    );
  }
  return offsets;
}

/** Every group's offsets as of `from`: for each group, the newest ancestor that recorded it. */
export function recordedOffsets(
  metadata: TableMetadata,
  from: Snapshot | undefined = undefined,
): Map<string, TopicOffsets> {
  return recordedPerGroup(metadata, from, OFFSETS_PREFIX, decodeOffsets);
}

/** For each group, the value under `<prefix><group>` in the newest ancestor of `from` that has it. */
function recordedPerGroup<T>(
  metadata: TableMetadata,
  from: Snapshot | undefined,
  prefix: string,
  decode: (text: string) => T,
): Map<string, T> {
  const groups = new Map<string, T>();
  for (const snapshot of ancestry(metadata, from ?? undefined)) {
    for (const [key, value] of Object.entries(snapshot.summary)) {
      if (key.startsWith(prefix) && !groups.has(key.slice(prefix.length))) {
        groups.set(key.slice(prefix.length), decode(value));
      }
    }
  }
  return groups;
}

/** The offsets of one group as of the current snapshot (empty when the group never committed). */
export function groupOffsets(metadata: TableMetadata, group: string): TopicOffsets {
  const key = offsetsKey(group);
  for (const snapshot of ancestry(metadata)) {
    const value = snapshot.summary[key];
    if (value !== undefined) return decodeOffsets(value);
  }
  return new Map();
}

export function withRanges(offsets: TopicOffsets, ranges: readonly PartitionRange[]): TopicOffsets {
  const next: TopicOffsets = new Map([...offsets].map(([t, p]) => [t, new Map(p)]));
  for (const range of ranges) {
    const partitions = next.get(range.topic) ?? new Map<number, bigint>();
    partitions.set(range.partition, range.nextOffset);
    next.set(range.topic, partitions);
  }
  return next;
}

/** Summary entries carrying every group's offsets and checkpoints forward, with `commit`'s ranges applied. */
export function offsetSummary(
  recorded: Map<string, TopicOffsets>,
  commit?: OffsetCommit,
  checkpoints: Map<string, TopicCheckpoints> = new Map(),
): Record<string, string> {
  const groups = new Map(recorded);
  const pointers = new Map(checkpoints);
  if (commit) {
    groups.set(commit.group, withRanges(groups.get(commit.group) ?? new Map(), commit.ranges));
    const withCheckpoints = commit.ranges.filter((r) => r.checkpoint !== undefined);
    if (withCheckpoints.length > 0) {
      const next: TopicCheckpoints = new Map(
        [...(pointers.get(commit.group) ?? [])].map(([t, p]) => [t, new Map(p)]),
      );
      for (const range of withCheckpoints) {
        const partitions = next.get(range.topic) ?? new Map<number, string>();
        partitions.set(range.partition, range.checkpoint!);
        next.set(range.topic, partitions);
      }
      pointers.set(commit.group, next);
    }
  }
  return {
    ...Object.fromEntries([...groups].map(([group, offsets]) => [offsetsKey(group), encodeOffsets(offsets)])),
    ...Object.fromEntries(
      [...pointers].map(([group, map]) => [CHECKPOINTS_PREFIX + group, encodeCheckpoints(map)]),
    ),
  };
}

export function encodeCheckpoints(checkpoints: TopicCheckpoints): string {
  const json: Record<string, Record<string, string>> = {};
  for (const topic of [...checkpoints.keys()].sort()) {
    json[topic] = Object.fromEntries(
      [...checkpoints.get(topic)!].sort(([a], [b]) => a - b).map(([p, path]) => [String(p), path]),
    );
  }
  return JSON.stringify(json);
}

export function decodeCheckpoints(text: string): TopicCheckpoints {
  const json = JSON.parse(text) as Record<string, Record<string, unknown>>;
  const out: TopicCheckpoints = new Map();
  for (const [topic, partitions] of Object.entries(json)) {
    const map = new Map<number, string>();
    for (const [p, path] of Object.entries(partitions)) {
      if (typeof path !== 'string') throw new TypeError(`checkpoint of ${topic}/${p} is not a path`);
      map.set(Number(p), path);
    }
    out.set(topic, map);
  }
  return out;
}

/** Every group's checkpoint pointers as of `from`: for each group, the newest ancestor that recorded them. */
export function recordedCheckpoints(
  metadata: TableMetadata,
  from: Snapshot | undefined = undefined,
): Map<string, TopicCheckpoints> {
  return recordedPerGroup(metadata, from, CHECKPOINTS_PREFIX, decodeCheckpoints);
}

/** The checkpoint pointers of one group as of the current snapshot. */
export function groupCheckpoints(metadata: TableMetadata, group: string): TopicCheckpoints {
  return recordedCheckpoints(metadata).get(group) ?? new Map();
}

/** The first range that would re-commit offsets the table already holds for the group, if any. */
export function overlappingRange(
  recorded: TopicOffsets,
  ranges: readonly PartitionRange[],
): { range: PartitionRange; committed: bigint } | undefined {
  for (const range of ranges) {
    const committed = recorded.get(range.topic)?.get(range.partition);
    if (committed !== undefined && range.fromOffset !== undefined && range.fromOffset < committed) {
      return { range, committed };
    }
  }
  return undefined;
}
