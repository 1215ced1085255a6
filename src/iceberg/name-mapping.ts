import type { IcebergType, NestedField, StructType } from './types.js';

/**
 * `schema.name-mapping.default` (spec "Column Projection"): how a reader finds columns in a data file
 * that lacks field ids. K2's files carry ids; the mapping is the safety net for files from elsewhere.
 */
export interface MappedField {
  'field-id': number;
  names: string[];
  fields?: MappedField[];
}

export function nameMapping(schema: StructType): MappedField[] {
  return schema.fields.map((field: NestedField) => mapped(field.id, field.name, field.type));
}

function mapped(id: number, name: string, type: IcebergType): MappedField {
  const fields = children(type);
  return fields.length > 0 ? { 'field-id': id, names: [name], fields } : { 'field-id': id, names: [name] };
}

function children(type: IcebergType): MappedField[] {
  if (typeof type === 'string') return [];
  switch (type.type) {
    case 'struct':
      return nameMapping(type);
    case 'list':
      return [mapped(type['element-id'], 'element', type.element)];
    case 'map':
      return [mapped(type['key-id'], 'key', type.key), mapped(type['value-id'], 'value', type.value)];
  }
}
