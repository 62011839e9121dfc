import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const DOCUMENT = resolve('openapi/openapi.json');

/** A few lines a client team would write against the generated types: they must compile. */
const CLIENT = `
import type { components, paths } from './api.js';

type UserPage = paths['/api/v1/users']['get']['responses']['200']['content']['application/json'];
type ListUsersQuery = NonNullable<paths['/api/v1/users']['get']['parameters']['query']>;
type User = components['schemas']['UserResponseDto'];
type Problem = components['schemas']['ProblemDocumentDto'];

export const query: ListUsersQuery = { limit: 50, status: 'active', role: 'admin' };
export const emails = (page: UserPage): string[] => page.items.map((user: User) => user.email);
export const next = (page: UserPage): string | null => page.nextCursor;
export const codeOf = (problem: Problem): string => problem.code;
`;

/** The same client with a mistake the generated types must catch. */
const WRONG_CLIENT = `
import type { paths } from './api.js';
type ListUsersQuery = NonNullable<paths['/api/v1/users']['get']['parameters']['query']>;
export const query: ListUsersQuery = { limit: 'fifty', status: 'sleeping' };
`;

function compile(file: string): string[] {
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('the committed OpenAPI document, as client teams use it', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openapi-client-'));
    const types = astToString(await openapiTS(new URL(`file://${DOCUMENT}`)));
    await writeFile(join(dir, 'api.ts'), types);
    await writeFile(join(dir, 'client.ts'), CLIENT);
    await writeFile(join(dir, 'wrong-client.ts'), WRONG_CLIENT);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('passes redocly lint with zero errors', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [resolve('node_modules/@redocly/cli/bin/cli.js'), 'lint', DOCUMENT, '--format=json'],
      { maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const report = JSON.parse(stdout) as {
      totals: { errors: number };
      problems: { ruleId: string; severity: string; message: string }[];
    };
    const errors = report.problems
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.ruleId}: ${p.message}`);
    expect(errors).toEqual([]);
    expect(report.totals.errors).toBe(0);
  });

  it('generates types with openapi-typescript that a small client compiles against', () => {
    expect(compile(join(dir, 'client.ts'))).toEqual([]);
  });

  it('and those types catch a client that sends what the API refuses', () => {
    const diagnostics = compile(join(dir, 'wrong-client.ts'));
    expect(diagnostics.join('\n')).toMatch(/Type 'string' is not assignable to type 'number'/);
    expect(diagnostics.join('\n')).toMatch(/'"sleeping"' is not assignable/);
  });
});
