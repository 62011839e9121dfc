import { readFileSync } from 'node:fs';

type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  nullable?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  additionalProperties?: boolean | Schema;
};

export interface OpenApiComponents {
  components: { schemas: Record<string, Schema> };
}

/** The committed OpenAPI document (what integrators read). */
export function committedDocument(): OpenApiComponents {
  return JSON.parse(readFileSync('openapi/openapi.json', 'utf8')) as OpenApiComponents;
}

/**
 * Where `value` departs from the OpenAPI 3.0 schema `name` of `document`: missing required or undocumented
 * properties, wrong types, values outside an enum, malformed uuids and date-times. Covers the subset the
 * generated document uses; an empty list means it conforms.
 */
export function schemaViolations(document: OpenApiComponents, name: string, value: unknown): string[] {
  const problems: string[] = [];
  const resolve = (schema: Schema): Schema =>
    schema.$ref ? resolve(document.components.schemas[schema.$ref.split('/').at(-1)!]) : schema;
  const check = (raw: Schema, v: unknown, at: string) => {
    const schema = resolve(raw);
    if (v === null) {
      if (!schema.nullable && !schema.allOf?.some((s) => resolve(s).nullable)) problems.push(`${at}: null`);
      return;
    }
    if (schema.allOf) for (const part of schema.allOf) check(part, v, at);
    if (schema.oneOf) {
      const fits = schema.oneOf.filter((part) => schemaViolationsOf(part, v).length === 0);
      if (fits.length === 0) problems.push(`${at}: matches none of oneOf`);
    }
    if (schema.enum && !schema.enum.includes(v)) problems.push(`${at}: ${JSON.stringify(v)} not in enum`);
    const type = schema.type ?? (schema.properties ? 'object' : undefined);
    if (type === 'object') {
      if (typeof v !== 'object' || Array.isArray(v)) return void problems.push(`${at}: not an object`);
      const record = v as Record<string, unknown>;
      for (const key of schema.required ?? [])
        if (!(key in record)) problems.push(`${at}.${key}: required but missing`);
      for (const [key, item] of Object.entries(record)) {
        const property = schema.properties?.[key];
        if (property) check(property, item, `${at}.${key}`);
        else if (schema.properties && schema.additionalProperties !== true)
          problems.push(`${at}.${key}: not in the documented schema`);
      }
    } else if (type === 'array') {
      if (!Array.isArray(v)) return void problems.push(`${at}: not an array`);
      v.forEach((item, i) => schema.items && check(schema.items, item, `${at}[${i}]`));
    } else if (type === 'integer') {
      if (!Number.isInteger(v)) problems.push(`${at}: not an integer`);
    } else if (type === 'number') {
      if (typeof v !== 'number') problems.push(`${at}: not a number`);
    } else if (type === 'boolean') {
      if (typeof v !== 'boolean') problems.push(`${at}: not a boolean`);
    } else if (type === 'string') {
      if (typeof v !== 'string') return void problems.push(`${at}: not a string`);
      if (
        schema.format === 'uuid' &&
        !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)
      )
        problems.push(`${at}: not a uuid`);
      if (schema.format === 'date-time' && Number.isNaN(Date.parse(v)))
        problems.push(`${at}: not a date-time`);
    }
  };
  const schemaViolationsOf = (schema: Schema, v: unknown) => {
    const saved = problems.length;
    check(schema, v, '');
    return problems.splice(saved);
  };
  check({ $ref: `#/components/schemas/${name}` }, value, name);
  return problems;
}
