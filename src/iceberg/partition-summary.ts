import { encodeBound } from './bounds.js';
import { type Comparable, compareValues } from './compare.js';
import type { DataFile, PartitionValue } from './datafile.js';
import type { PartitionFieldType } from './manifest.js';
import type { PartitionFieldSummary } from './manifest-list.js';
import type { PrimitiveType } from './types.js';

/** A partition value in the JS type its Iceberg type uses for bounds (64-bit values as bigint). */
export function partitionValue(type: PrimitiveType, value: PartitionValue): PartitionValue {
  if (value === null) return null;
  if (type === 'long' || type === 'timestamptz' || type === 'timestamp')
    return BigInt(value as number | bigint);
  if (type === 'int' || type === 'date') return Number(value);
  return value;
}

/** The manifest list's per-field summary of the partition values of `files` (spec "Manifest Lists"). */
export function summarisePartitions(
  fields: readonly PartitionFieldType[],
  files: readonly DataFile[],
): PartitionFieldSummary[] {
  return fields.map((field) => {
    let lower: Comparable | undefined;
    let upper: Comparable | undefined;
    let containsNull = false;
    for (const file of files) {
      const value = partitionValue(field.type, file.partition.get(field.fieldId) ?? null);
      if (value === null) {
        containsNull = true;
        continue;
      }
      if (lower === undefined || compareValues(value, lower) < 0) lower = value;
      if (upper === undefined || compareValues(value, upper) > 0) upper = value;
    }
    return {
      containsNull,
      containsNan: false,
      lowerBound: lower === undefined ? undefined : encodeBound(field.type, lower as never),
      upperBound: upper === undefined ? undefined : encodeBound(field.type, upper as never),
    };
  });
}
