/** A partition's offsets as the broker has them: [low, high) is what it still holds. */
export interface Watermarks {
  partition: number;
  low: bigint;
  /** The high watermark (last stable offset under read_committed): the next offset to be written. */
  high: bigint;
}

/** Offsets [from, to) of one topic-partition: the uncommitted tail a query reads. */
export interface TailRange {
  topic: string;
  partition: number;
  from: bigint;
  to: bigint;
}

export interface TailPlan {
  ranges: TailRange[];
  /** Partitions whose recorded offset the broker no longer holds: records [recorded, low) are gone. */
  truncated: { topic: string; partition: number; recorded: bigint; low: bigint }[];
  /** Partitions whose recorded offset lies beyond the high watermark (the topic was re-created?). */
  ahead: { topic: string; partition: number; recorded: bigint; high: bigint }[];
}

/**
 * The tail of each partition is [recorded next offset, high watermark); a partition the group never
 * committed is read from its low watermark. Pure: the caller fetched the watermarks.
 */
export function tailRanges(
  topic: string,
  recorded: ReadonlyMap<number, bigint> | undefined,
  watermarks: readonly Watermarks[],
): TailPlan {
  const plan: TailPlan = { ranges: [], truncated: [], ahead: [] };
  for (const { partition, low, high } of [...watermarks].sort((a, b) => a.partition - b.partition)) {
    const next = recorded?.get(partition);
    let from = next ?? low;
    if (next !== undefined && next < low) {
      plan.truncated.push({ topic, partition, recorded: next, low });
      from = low;
    }
    if (next !== undefined && next > high) {
      plan.ahead.push({ topic, partition, recorded: next, high });
      continue;
    }
    if (from < high) plan.ranges.push({ topic, partition, from, to: high });
  }
  return plan;
}

export function rangeRecords(ranges: readonly TailRange[]): bigint {
  return ranges.reduce((sum, range) => sum + (range.to - range.from), 0n);
}
