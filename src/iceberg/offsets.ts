import { parseJson, stringifyJson, toBigInt } from './json.js';
import { ancestry, type Snapshot, type TableMetadata } from './metadata.js';

/**
 * Kafka offsets recorded in snapshot summaries (DESIGN §4). One key per consumer group,
 * `k2.offsets.<group>`, whose value is JSON `{"<topic>": {"<partition>": <nextOffset>}}` holding the
 * next offset to read for every partition the group has ever committed to this table. Each K2 commit
 * carries the whole map of every group forward, so the newest K2 snapshot in the ancestry answers.
 */
export const OFFSETS_PREFIX = 'k2.offsets.';
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
}

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
  const groups = new Map<string, TopicOffsets>();
  for (const snapshot of ancestry(metadata, from ?? undefined)) {
    for (const [key, value] of Object.entries(snapshot.summary)) {
      if (key.startsWith(OFFSETS_PREFIX) && !groups.has(key.slice(OFFSETS_PREFIX.length))) {
        groups.set(key.slice(OFFSETS_PREFIX.length), decodeOffsets(value));
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

/** Summary entries carrying every group's offsets forward, with `commit`'s ranges applied. */
export function offsetSummary(
  recorded: Map<string, TopicOffsets>,
  commit?: OffsetCommit,
): Record<string, string> {
  const groups = new Map(recorded);
  if (commit) groups.set(commit.group, withRanges(groups.get(commit.group) ?? new Map(), commit.ranges));
  return Object.fromEntries(
    [...groups].map(([group, offsets]) => [offsetsKey(group), encodeOffsets(offsets)]),
  );
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
