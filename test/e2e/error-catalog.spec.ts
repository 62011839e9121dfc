import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_PROBLEM_CODES } from '../../src/app.setup.js';
import { registeredCodes, registeredErrors } from '../../src/common/domain-error.js';

interface Operation {
  description?: string;
  responses: Record<string, { content?: Record<string, { examples?: Record<string, unknown> }> }>;
}
const document = JSON.parse(readFileSync('openapi/openapi.json', 'utf8')) as {
  info: { description: string };
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, { properties: Record<string, { enum?: string[]; description?: string }> }>;
  };
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

const operations = () => Object.values(document.paths).flatMap((item) => Object.values(item));

describe('the error catalog', () => {
  beforeAll(async () => {
    // Every module's catalog registers itself when its errors file loads.
    for (const file of sourceFiles('src').filter((f) => f.endsWith('.errors.ts')))
      await import(/* @vite-ignore */ pathToFileURL(resolve(file)).href);
  });

  it('documents every problem code on an operation that answers with it, or once for every route', () => {
    const documented = new Set<string>();
    for (const operation of operations())
      for (const response of Object.values(operation.responses))
        for (const examples of Object.values(response.content ?? {}))
          for (const code of Object.keys(examples.examples ?? {})) documented.add(code);
    const global = new Set<string>(GLOBAL_PROBLEM_CODES.map((d) => d.code));
    const missing = registeredErrors()
      .map((d) => d.code)
      .filter(
        (code) => !documented.has(code) && !(global.has(code) && document.info.description.includes(code)),
      );
    expect(missing).toEqual([]);
    // And nothing is documented that the catalogs do not define.
    const known = new Set(registeredErrors().map((d) => d.code));
    expect([...documented].filter((code) => !known.has(code))).toEqual([]);
  });

  it('sends every error response as application/problem+json, one example per code', () => {
    const apiOperations = Object.values(document.paths).flatMap((item) => Object.values(item));
    for (const operation of apiOperations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        expect(Object.keys(response.content ?? {})).toEqual(['application/problem+json']);
        const examples = response.content!['application/problem+json'].examples ?? {};
        for (const [code, example] of Object.entries(examples))
          expect(example).toMatchObject({ value: { code, status: Number(status) } });
      }
    }
  });

  it('lists the closed set of codes in the problem schema', () => {
    const codes = document.components.schemas.ProblemDocumentDto.properties.code.enum;
    expect(codes).toEqual(
      registeredErrors()
        .map((d) => d.code)
        .sort(),
    );
  });

  it('documents the sign-in, connect and sync-run failure codes where they are rendered', () => {
    const callback = (path: string) => document.paths[path].get.description ?? '';
    const runCode = document.components.schemas.SyncRunResponseDto.properties.errorCode;
    const renderedIn: Record<string, string> = {
      sign_in_redirect: callback('/auth/microsoft/callback'),
      connect_redirect: callback('/auth/microsoft/connect/callback'),
      assignment_redirect: callback('/auth/microsoft/assignment/callback'),
      sync_run: `${runCode.description ?? ''} ${(runCode.enum ?? []).join(' ')}`,
    };
    const missing = registeredCodes().filter(
      ({ channel, code }) => !renderedIn[channel].includes(`\`${code}\``),
    );
    expect(missing).toEqual([]);
    expect(registeredCodes().length).toBeGreaterThan(20);
  });

  it('throws no code from src/ that a catalog does not define', () => {
    const known = new Set([
      ...registeredErrors().map((d) => d.code),
      ...registeredCodes().map((c) => c.code),
    ]);
    // Problem and run codes are UPPER_SNAKE values of `code` / `errorCode`, or a run failure's first argument.
    // (Lower-case redirect codes are typed by their catalogs; OAuth error values from Microsoft are not ours.)
    const literal = /\b(?:code|errorCode)\s*[:=]\s*'([A-Z][A-Z0-9_]+)'|new SyncFailure\('([A-Z][A-Z0-9_]+)'/g;
    const unknown: string[] = [];
    for (const file of sourceFiles('src')) {
      for (const match of readFileSync(file, 'utf8').matchAll(literal)) {
        const code = match[1] ?? match[2];
        if (!known.has(code)) unknown.push(`${relative('.', file)}: ${code}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
