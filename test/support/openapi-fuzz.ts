import { randomUUID } from 'node:crypto';
import fc from 'fast-check';

/** The parts of an OpenAPI 3.0 document the fuzzer reads. */
export interface SchemaObject {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  items?: SchemaObject;
  nullable?: boolean;
}

interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: SchemaObject;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, SchemaObject> };
}

interface OperationObject {
  operationId: string;
  parameters?: ParameterObject[];
  requestBody?: { content?: Record<string, { schema?: SchemaObject }> };
}

export interface Operation {
  method: string;
  path: string;
  operationId: string;
  parameters: ParameterObject[];
  body: SchemaObject | null;
}

/** One generated request: a path with its parameters filled in, a query string, and an optional body. */
export interface FuzzRequest {
  path: string;
  query: string;
  /** A value sent as JSON, or a raw string sent as is (as `application/json` unless `type` says otherwise). */
  body: { json: unknown } | { raw: string; type?: string } | null;
}

export function operationsOf(document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method,
      path,
      operationId: operation.operationId,
      parameters: operation.parameters ?? [],
      body: operation.requestBody?.content?.['application/json']?.schema ?? null,
    })),
  );
}

/** Strings that have broken parsers, databases and URL builders before. */
export const HOSTILE_STRINGS: string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDFFFy',
  '%',
  '%00',
  '%zz',
  "'",
  "a' or 1 eq 1&$top=1#",
  '"',
  '\\',
  '&',
  '#',
  '?',
  '/..//evil.example',
  '9999999999999999999',
  '-1',
  '0',
  '1e400',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffffx',
  'é😀\u202e',
  'x'.repeat(5000),
];

const b64 = (text: string) => Buffer.from(text).toString('base64url');

/** Cursors a client could craft: well-formed envelopes with hostile members, and plain garbage. */
export const CRAFTED_CURSORS: string[] = [
  b64(JSON.stringify({ createdAt: '2026-01-01T00:00:00.000Z', id: 'not-a-uuid' })),
  b64(JSON.stringify({ createdAt: '1', id: randomUUID() })),
  b64(JSON.stringify({ createdAt: '2026-01-01T00:00:00.000Z\u0000', id: randomUUID() })),
  b64(JSON.stringify({ createdAt: '2026-01-01T00:00:00.000Z', id: `${randomUUID()}\u0000` })),
  b64(JSON.stringify({ createdAt: '+275760-09-13T00:00:00.000Z', id: randomUUID() })),
  b64(JSON.stringify({ createdAt: 5, id: 5 })),
  b64(JSON.stringify([1, 2])),
  b64('null'),
  b64('9999999999999999999'),
  b64('99999999999999999999999'),
  b64('-1'),
  b64('1\u0000'),
  '9999999999999999999',
  '!!!',
  '\u0000',
  b64('https://evil.example/v1.0/groups?x'),
];

/** Nested `depth` levels deep, as raw JSON text (so the generator itself never recurses that deep). */
export function deeplyNested(depth: number, kind: 'object' | 'array'): string {
  return kind === 'object'
    ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    : `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/**
 * Percent-encodes like `encodeURIComponent`, but also lone surrogates (as their 3-byte WTF-8 form), which
 * `encodeURIComponent` refuses: a hostile client is free to send those bytes.
 */
export function encodeQueryValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const isHigh = code >= 0xd800 && code <= 0xdbff;
    const next = value.charCodeAt(i + 1);
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(value.slice(i, i + 2));
      i++;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    } else {
      out += encodeURIComponent(value[i]);
    }
  }
  return out;
}

export class FuzzGenerators {
  constructor(
    private readonly document: OpenApiDocument,
    /** Ids of real resources (so requests also reach the code behind the 404s), and real cursors. */
    private readonly known: { ids: string[]; cursors: string[] },
  ) {}

  private resolve(schema: SchemaObject): SchemaObject {
    if (!schema.$ref) return schema;
    const name = schema.$ref.replace('#/components/schemas/', '');
    return this.document.components?.schemas?.[name] ?? {};
  }

  private hostile(): fc.Arbitrary<string> {
    return fc.constantFrom(...HOSTILE_STRINGS);
  }

  /** A value of the schema's type, most of the time valid. */
  valueOf(raw: SchemaObject, depth = 0): fc.Arbitrary<unknown> {
    const schema = this.resolve(raw);
    if (schema.enum) return fc.constantFrom(...schema.enum);
    switch (schema.type) {
      case 'integer':
        return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1_000_000 });
      case 'number':
        return fc.double({ noNaN: true, noDefaultInfinity: true });
      case 'boolean':
        return fc.boolean();
      case 'array':
        return depth > 3
          ? fc.constant([])
          : fc.array(this.valueOf(schema.items ?? {}, depth + 1), { maxLength: 3 });
      case 'object':
        return depth > 3 ? fc.constant({}) : this.objectOf(schema, depth + 1);
      default:
        if (schema.format === 'uuid') return this.id();
        if (schema.format === 'email') return fc.emailAddress();
        return fc.string({ maxLength: schema.maxLength ?? 40 });
    }
  }

  /** Anything but what the schema wants. */
  wrongValue(): fc.Arbitrary<unknown> {
    return fc.oneof(
      fc.constant(null),
      fc.integer(),
      fc.constant(Number.MAX_SAFE_INTEGER * 1024),
      fc.boolean(),
      this.hostile(),
      fc.constant([]),
      fc.constant({}),
      fc.constant([null]),
      fc.constant({ nested: { deeper: [1, '2', null] } }),
    );
  }

  private objectOf(schema: SchemaObject, depth: number): fc.Arbitrary<Record<string, unknown>> {
    const properties = Object.entries(schema.properties ?? {});
    const fields = properties.map(([name, property]) =>
      fc
        .oneof(
          { weight: 5, arbitrary: this.valueOf(property, depth).map((v) => ({ v })) },
          { weight: 2, arbitrary: this.wrongValue().map((v) => ({ v })) },
          { weight: 1, arbitrary: fc.constant(undefined) },
        )
        .map((entry) => [name, entry] as const),
    );
    const extra = fc.option(
      fc.tuple(fc.constantFrom('unknownField', '__proto__', 'constructor', 'a\u0000'), this.wrongValue()),
      {
        freq: 8,
      },
    );
    return fc.tuple(fc.tuple(...fields), extra).map(([entries, unknown]) => {
      const result: Record<string, unknown> = {};
      for (const [name, entry] of entries) if (entry) result[name] = entry.v;
      if (unknown) Object.defineProperty(result, unknown[0], { value: unknown[1], enumerable: true });
      return result;
    });
  }

  id(): fc.Arbitrary<string> {
    return fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...this.known.ids) },
      { weight: 2, arbitrary: fc.uuid() },
      { weight: 2, arbitrary: this.hostile() },
      {
        weight: 1,
        arbitrary: fc.constantFrom('1', 'me', 'null', '..', '%2e%2e', 'ABCDEF00-0000-4000-8000-000000000000'),
      },
    );
  }

  private queryValue(parameter: ParameterObject): fc.Arbitrary<string | string[]> {
    const schema = this.resolve(parameter.schema ?? {});
    let valid: fc.Arbitrary<string>;
    if (parameter.name === 'cursor') {
      valid = fc.constantFrom(...this.known.cursors, ...CRAFTED_CURSORS);
    } else if (schema.enum) {
      valid = fc.constantFrom(...schema.enum.map(String));
    } else if (schema.type === 'integer' || schema.type === 'number') {
      valid = fc.oneof(
        fc.integer({ min: -5, max: 500 }).map(String),
        fc.constantFrom('9999999999999999999', '1e400', '1.5', '0x10', '-0', ' 7 '),
      );
    } else if (schema.type === 'boolean') {
      valid = fc.constantFrom('true', 'false', 'TRUE', '1', 'yes');
    } else if (schema.format === 'uuid') {
      valid = this.id();
    } else {
      valid = fc.string({ maxLength: 30, unit: 'grapheme' });
    }
    return fc.oneof(
      { weight: 5, arbitrary: valid },
      { weight: 3, arbitrary: this.hostile() },
      { weight: 1, arbitrary: fc.tuple(valid, this.hostile()).map(([a, b]) => [a, b]) },
    );
  }

  /** Requests for one operation: every parameter per its schema or hostile, and a body (or a hostile one). */
  request(operation: Operation): fc.Arbitrary<FuzzRequest> {
    const pathParams = operation.parameters.filter((p) => p.in === 'path');
    const queryParams = operation.parameters.filter((p) => p.in === 'query');
    const path = fc
      .tuple(...pathParams.map(() => this.id()))
      .map((values) =>
        pathParams.reduce(
          (built, parameter, i) => built.replace(`{${parameter.name}}`, encodeQueryValue(values[i])),
          operation.path,
        ),
      );
    const query = fc
      .tuple(...queryParams.map((p) => fc.option(this.queryValue(p), { freq: 3 })))
      .map((values) =>
        queryParams
          .flatMap((parameter, i) => {
            const value = values[i];
            if (value === null) return [];
            const list = Array.isArray(value) ? value : [value];
            return list.map((v) => `${encodeURIComponent(parameter.name)}=${encodeQueryValue(v)}`);
          })
          .join('&'),
      );
    const body: fc.Arbitrary<FuzzRequest['body']> = operation.body
      ? fc.oneof(
          { weight: 6, arbitrary: this.valueOf(operation.body).map((json) => ({ json })) },
          { weight: 1, arbitrary: this.wrongValue().map((json) => ({ json })) },
          {
            weight: 1,
            arbitrary: fc
              .tuple(
                fc.constantFrom(33, 200, 5000, 15000),
                fc.constantFrom('object' as const, 'array' as const),
              )
              .map(([depth, kind]) => ({ raw: deeplyNested(depth, kind) })),
          },
          {
            weight: 1,
            arbitrary: fc
              .constantFrom('{', '{"a":', '"\\ud800"', '{"email":"\\ud800@x.io"}')
              .map((raw) => ({ raw })),
          },
          {
            weight: 1,
            arbitrary: fc
              .tuple(
                fc.constantFrom(
                  'text/plain',
                  'application/x-www-form-urlencoded',
                  'multipart/form-data',
                  'application/xml',
                ),
                fc.constantFrom('role=owner&email=a%40b.c', '<a/>', '{"role":"owner"}', ''),
              )
              .map(([type, raw]) => ({ raw, type })),
          },
        )
      : fc.constant(null);
    return fc.record({ path, query, body });
  }
}

/** Why a response breaks the contract (any 5xx, a stack trace, a 4xx that is not a coded problem), or null. */
export function contractViolation(response: {
  status: number;
  headers: Record<string, string | undefined>;
  text?: string;
  body?: unknown;
}): string | null {
  if (response.status >= 500) return `status ${response.status}`;
  const text = response.text ?? '';
  if (/\n\s+at \S|\bat .+\(.+:\d+:\d+\)|\bError:/.test(text)) return 'stack trace or raw error in the body';
  if (response.status >= 400) {
    const type = response.headers['content-type'] ?? '';
    if (!type.startsWith('application/problem+json')) return `4xx with content-type "${type}"`;
    const code = (response.body as { code?: unknown } | undefined)?.code;
    if (typeof code !== 'string' || code === '') return '4xx problem without a code';
  }
  return null;
}
