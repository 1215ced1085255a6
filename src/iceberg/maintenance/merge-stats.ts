import { decodeBound } from '../bounds.js';
import { type Comparable, compareValues } from '../compare.js';
import type { DataFile, DataFileStats } from '../datafile.js';
import type { IcebergSchema, IcebergType, PrimitiveType } from '../types.js';

/** Primitive type of every field id in a schema, nested ones included. */
export function primitiveTypes(schema: IcebergSchema): Map<number, PrimitiveType> {
  const types = new Map<number, PrimitiveType>();
  const visit = (id: number, type: IcebergType) => {
    if (typeof type === 'string') types.set(id, type);
    else if (type.type === 'list') visit(type['element-id'], type.element);
    else if (type.type === 'map') {
      visit(type['key-id'], type.key);
      visit(type['value-id'], type.value);
    } else for (const f of type.fields) visit(f.id, f.type);
  };
  for (const f of schema.fields) visit(f.id, f.type);
  return types;
}

/**
 * The statistics of a file holding exactly the rows of `inputs`: counts add up, bounds are the
 * extremes. A column keeps a statistic only when every input has it, so nothing is made up.
 */
export function mergeStats(
  schema: IcebergSchema,
  inputs: readonly DataFile[],
): Omit<DataFileStats, 'columnSizes' | 'splitOffsets'> {
  const types = primitiveTypes(schema);
  const sum = (pick: (f: DataFile) => Map<number, number>) => {
    const out = new Map<number, number>();
    for (const id of pick(inputs[0]!).keys()) {
      if (inputs.every((f) => pick(f).has(id)))
        out.set(
          id,
          inputs.reduce((n, f) => n + pick(f).get(id)!, 0),
        );
    }
    return out;
  };
  const extreme = (pick: (f: DataFile) => Map<number, Uint8Array>, sign: 1 | -1) => {
    const out = new Map<number, Uint8Array>();
    for (const id of pick(inputs[0]!).keys()) {
      const type = types.get(id);
      if (!type || !inputs.every((f) => pick(f).has(id))) continue;
      let best = pick(inputs[0]!).get(id)!;
      for (const f of inputs) {
        const candidate = pick(f).get(id)!;
        const order = compareValues(
          decodeBound(type, candidate) as Comparable,
          decodeBound(type, best) as Comparable,
        );
        if (order * sign > 0) best = candidate;
      }
      out.set(id, best);
    }
    return out;
  };
  return {
    recordCount: inputs.reduce((n, f) => n + f.recordCount, 0),
    valueCounts: sum((f) => f.valueCounts),
    nullValueCounts: sum((f) => f.nullValueCounts),
    nanValueCounts: sum((f) => f.nanValueCounts),
    lowerBounds: extreme((f) => f.lowerBounds, -1),
    upperBounds: extreme((f) => f.upperBounds, 1),
  };
}
