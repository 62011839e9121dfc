import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { createValidationPipe } from '../../src/common/validation.js';

/**
 * The committed document as an admin meets it in Swagger UI and a client team generates from it. Each rule
 * walks the whole document, so an endpoint added later is held to it without a change here.
 */
interface Schema {
  type?: string;
  format?: string;
  enum?: unknown[];
  nullable?: boolean;
  example?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  $ref?: string;
}
interface Parameter {
  name: string;
  in: string;
  description?: string;
  example?: unknown;
  examples?: unknown;
  schema?: Schema;
}
interface MediaType {
  schema?: Schema;
  example?: unknown;
  examples?: Record<string, { value: Record<string, unknown> }>;
}
interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { description?: string; content?: Record<string, MediaType> }>;
}

const document = JSON.parse(readFileSync('openapi/openapi.json', 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
const operations = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({
    route: `${method.toUpperCase()} ${path}`,
    operation,
  })),
);
const schemas = document.components.schemas;

function resolveRef(schema: Schema): Schema {
  if (schema.$ref) return resolveRef(schemas[schema.$ref.replace('#/components/schemas/', '')]);
  if (schema.allOf?.length === 1) return { ...resolveRef(schema.allOf[0]), ...schema, allOf: undefined };
  return schema;
}

/** Every schema object with its location, components first, then the inline ones of operations. */
function everySchema(): { at: string; schema: Schema }[] {
  const found: { at: string; schema: Schema }[] = [];
  const visit = (schema: Schema | undefined, at: string) => {
    if (!schema || typeof schema !== 'object') return;
    found.push({ at, schema });
    for (const [name, property] of Object.entries(schema.properties ?? {})) visit(property, `${at}.${name}`);
    if (schema.items) visit(schema.items, `${at}[]`);
    if (typeof schema.additionalProperties === 'object') visit(schema.additionalProperties, `${at}{}`);
    for (const part of [...(schema.allOf ?? []), ...(schema.oneOf ?? [])]) visit(part, at);
  };
  for (const [name, schema] of Object.entries(schemas)) visit(schema, name);
  for (const { route, operation } of operations) {
    for (const parameter of operation.parameters ?? [])
      visit(parameter.schema, `${route} ?${parameter.name}`);
    for (const [status, response] of Object.entries(operation.responses))
      for (const media of Object.values(response.content ?? {})) visit(media.schema, `${route} ${status}`);
  }
  return found;
}

/** The example Swagger UI pre-fills: the media type's own, else built from the property examples. */
function sampleOf(schema: Schema, at: string, missing: string[]): unknown {
  const resolved = resolveRef(schema);
  if (resolved.example !== undefined) return resolved.example;
  if (resolved.type === 'object' || resolved.properties) {
    const sample: Record<string, unknown> = {};
    for (const [name, property] of Object.entries(resolved.properties ?? {}))
      sample[name] = sampleOf(property, `${at}.${name}`, missing);
    return sample;
  }
  if (resolved.type === 'array' && resolved.items) return [sampleOf(resolved.items, `${at}[]`, missing)];
  // Without an example, Swagger UI shows the minimum (or 0) for a number and "string" for a bare string; an
  // enum, a boolean and a format (uuid, date-time, email) still give a well-formed value.
  const bare = resolved.type === 'string' && !resolved.enum && !resolved.format;
  if (bare || resolved.type === 'integer' || resolved.type === 'number') missing.push(at);
  return resolved.enum?.[0] ?? resolved.default ?? resolved.minimum ?? null;
}

function requestBodyOf(operation: Operation): MediaType | undefined {
  return operation.requestBody?.content['application/json'];
}

describe('the OpenAPI document, as Swagger UI shows it', () => {
  it('describes every operation, parameter and response', () => {
    const missing: string[] = [];
    for (const { route, operation } of operations) {
      if (!operation.description?.trim()) missing.push(`${route}: operation description`);
      for (const parameter of operation.parameters ?? [])
        if (!parameter.description?.trim()) missing.push(`${route}: parameter ${parameter.name}`);
      for (const [status, response] of Object.entries(operation.responses))
        if (!response.description?.trim()) missing.push(`${route}: response ${status}`);
    }
    expect(missing).toEqual([]);
  });

  it('describes every property of every schema', () => {
    const missing: string[] = [];
    for (const { at, schema } of everySchema())
      for (const [name, property] of Object.entries(schema.properties ?? {}))
        // A bare $ref cannot carry a description in OpenAPI 3.0: the referenced schema describes itself.
        if (!property.$ref && !property.description?.trim()) missing.push(`${at}.${name}`);
    expect(missing).toEqual([]);
  });

  it('types whole numbers as integer: a generated client must refuse 2.5 where the server does', () => {
    const numbers = everySchema()
      .filter(({ schema }) => schema.type === 'number')
      .map(({ at }) => at);
    expect(numbers).toEqual([]);
  });

  it('makes closed sets enums: the deactivation reason (with manual) and the error code', () => {
    const user = schemas.UserResponseDto.properties!.deactivationReason;
    expect(resolveRef(user).enum).toEqual(
      expect.arrayContaining(['manual', 'entra_account_disabled', 'entra_account_deleted']),
    );
    expect(resolveRef(schemas.ProblemDocumentDto.properties!.code).enum?.length).toBeGreaterThan(20);
  });

  it('does not pre-fill query parameters: an example there silently filters or points nowhere', () => {
    const prefilled = operations.flatMap(({ route, operation }) =>
      (operation.parameters ?? [])
        .filter((p) => p.in === 'query')
        .filter((p) => p.example !== undefined || p.examples !== undefined || p.schema?.example !== undefined)
        .map((p) => `${route} ?${p.name}`),
    );
    expect(prefilled).toEqual([]);
  });

  it('shows each error response its own examples, of its own status', () => {
    const codes = new Set(resolveRef(schemas.ProblemDocumentDto.properties!.code).enum as string[]);
    const members = new Set(Object.keys(schemas.ProblemDocumentDto.properties!));
    const wrong: string[] = [];
    for (const { route, operation } of operations)
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const media = response.content?.['application/problem+json'];
        const examples = Object.values(media?.examples ?? {});
        if (!examples.length) wrong.push(`${route} ${status}: no example`);
        for (const { value } of examples) {
          if (value.status !== Number(status))
            wrong.push(`${route} ${status}: example of ${String(value.status)}`);
          if (!codes.has(value.code as string))
            wrong.push(`${route} ${status}: unknown code ${String(value.code)}`);
          for (const key of Object.keys(value))
            if (!members.has(key)) wrong.push(`${route} ${status}: undocumented member ${key}`);
        }
      }
    expect(wrong).toEqual([]);
  });

  it('lists in the problem schema every extension member the service sends', () => {
    const members = new Set(Object.keys(schemas.ProblemDocumentDto.properties!));
    const sent = extensionMembersInSource('src');
    expect(sent.length).toBeGreaterThan(5);
    expect(sent.filter((member) => !members.has(member))).toEqual([]);
  });

  it('gives every 2xx answer an example built from realistic values', () => {
    const missing: string[] = [];
    for (const { route, operation } of operations)
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!status.startsWith('2')) continue;
        for (const media of Object.values(response.content ?? {}))
          if (media.schema) sampleOf(media.schema, `${route} ${status}`, missing);
      }
    expect(missing).toEqual([]);
  });

  it('keeps 200 examples self-consistent', () => {
    const user = sampleOf(schemas.UserResponseDto, 'user', []) as Record<string, unknown>;
    if (user.status === 'active') {
      expect(user.deactivationReason).toBeNull();
      expect(user.deactivatedAt).toBeNull();
    } else expect(user.deactivationReason).not.toBeNull();
    if (user.roleSource !== 'group_mapping') expect(user.roleSourceGroup).toBeNull();
    const run = sampleOf(schemas.SyncRunResponseDto, 'run', []) as Record<string, unknown>;
    if (run.status !== 'failed') expect(run.errorCode ?? null).toBeNull();
    if (['succeeded', 'failed', 'rejected'].includes(run.status as string))
      expect(run.finishedAt).not.toBeNull();
    const integration = sampleOf(schemas.EntraIntegrationResponseDto, 'integration', []) as Record<
      string,
      unknown
    >;
    if (integration.featuresActive) expect(integration.inactiveReason).toBeNull();
    if (integration.status === 'connected') expect(integration.tenantId).not.toBeNull();
  });
});

describe('request examples, as "Try it out" sends them', () => {
  const dtoClasses = new Map<string, new () => object>();
  beforeAll(async () => {
    const files = [...sourceFiles('src').filter((f) => /\/dto\/|\.dto\.ts$|pagination\.ts$/.test(f))];
    for (const file of files) {
      const exported = (await import(/* @vite-ignore */ pathToFileURL(resolve(file)).href)) as Record<
        string,
        unknown
      >;
      for (const [name, value] of Object.entries(exported))
        if (typeof value === 'function') dtoClasses.set(name, value as new () => object);
    }
  });

  const bodies = operations
    .map(({ route, operation }) => ({ route, body: requestBodyOf(operation) }))
    .filter((entry): entry is { route: string; body: MediaType } => Boolean(entry.body?.schema));

  it('exist for every request body, each property with an example of its own', () => {
    expect(bodies.length).toBeGreaterThan(3);
    const missing: string[] = [];
    for (const { route, body } of bodies) sampleOf(body.schema!, route, missing);
    expect(missing).toEqual([]);
  });

  it('are valid: the server’s own validation accepts each one', async () => {
    for (const { route, body } of bodies) {
      const name = body.schema!.$ref!.replace('#/components/schemas/', '');
      const metatype = dtoClasses.get(name);
      expect(metatype, `${route}: ${name}`).toBeDefined();
      const example = sampleOf(body.schema!, route, []);
      await expect(
        Promise.resolve(createValidationPipe().transform(example, { type: 'body', metatype })),
        `${route}: ${JSON.stringify(example)}`,
      ).resolves.toBeDefined();
    }
  });

  it('are realistic values, never the schema limits', () => {
    const atLimit: string[] = [];
    const walk = (schema: Schema, value: unknown, at: string) => {
      const resolved = resolveRef(schema);
      if (typeof value === 'number') {
        if (resolved.maximum !== undefined && value >= resolved.maximum)
          atLimit.push(`${at} = ${value} (maximum)`);
        if (!Number.isInteger(value) && resolved.type === 'integer')
          atLimit.push(`${at} = ${value} (not whole)`);
      }
      if (typeof value === 'string' && resolved.maxLength !== undefined && value.length >= resolved.maxLength)
        atLimit.push(`${at} (maxLength)`);
      if (value && typeof value === 'object' && !Array.isArray(value))
        for (const [name, property] of Object.entries(resolved.properties ?? {}))
          walk(property, (value as Record<string, unknown>)[name], `${at}.${name}`);
    };
    for (const { route, body } of bodies) walk(body.schema!, sampleOf(body.schema!, route, []), route);
    expect(atLimit).toEqual([]);
  });

  it('are safe to execute: the settings example keeps the sync safety threshold on', () => {
    const settings = bodies.find(({ route }) => route === 'PATCH /api/v1/integrations/entra/settings');
    const example = sampleOf(settings!.body.schema!, 'settings', []) as {
      deprovisionThreshold?: { count?: number; percent?: number };
    };
    const threshold = example.deprovisionThreshold;
    if (threshold) {
      // The defaults are 25 users or 10 %: an example may tighten them, never open the gate.
      expect(threshold.count ?? 25).toBeLessThanOrEqual(100);
      expect(threshold.percent ?? 10).toBeLessThanOrEqual(25);
    }
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/**
 * The extension members of every problem the service builds: the object literal passed as the third argument
 * of `new DomainError(...)` or of a `super(...)` call in a class extending it.
 */
function extensionMembersInSource(dir: string): string[] {
  const members = new Set<string>();
  for (const file of sourceFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('DomainError')) continue;
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node) => {
      const isDomainErrorNew =
        ts.isNewExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'DomainError';
      const isSuperCall = ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword;
      const args = isDomainErrorNew || isSuperCall ? (node as ts.CallExpression).arguments : undefined;
      const extensions = args?.[2];
      if (extensions && ts.isObjectLiteralExpression(extensions))
        for (const property of extensions.properties)
          if (property.name && ts.isIdentifier(property.name)) members.add(property.name.text);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return [...members].sort();
}
