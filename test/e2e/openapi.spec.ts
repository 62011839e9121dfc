import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

const document = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../openapi/openapi.json'), 'utf8'),
) as {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown> };
};
const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({
    route: `${method.toUpperCase()} ${path}`,
    operation,
  })),
);

/** The committed document is what the SPA and integrators generate clients from: hold it to its conventions. */
describe('the committed OpenAPI document', () => {
  it('is OpenAPI 3 with bearer and cookie security schemes', () => {
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['bearer', 'session']);
  });

  it('gives every operation a unique camelCase operationId, a summary and a tag', () => {
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { route, operation } of operations) {
      expect(operation.operationId, route).toMatch(/^[a-z][A-Za-z]+$/);
      expect(operation.summary?.length, route).toBeGreaterThan(5);
      expect(operation.tags?.length, route).toBe(1);
    }
  });

  it('documents security and a 401 on every non-public operation, and error bodies as problem documents', () => {
    for (const { route, operation } of operations) {
      const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
      if (!isPublic) {
        expect(operation.security, route).toEqual([{ bearer: [] }, { session: [] }]);
        expect(Object.keys(operation.responses), route).toContain('401');
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400 || !response.content) continue;
        const schema = Object.values(response.content)[0]?.schema;
        expect(schema?.$ref, `${route} ${status}`).toBe('#/components/schemas/ProblemDocumentDto');
      }
    }
  });

  it('lists the operations the issues ask for', () => {
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(ids).toEqual(
      expect.arrayContaining([
        'signInWithMicrosoft',
        'getMe',
        'listUsers',
        'updateUser',
        'deactivateUser',
        'reactivateUser',
        'listAuditEvents',
        'connectEntra',
        'getEntraIntegration',
        'updateEntraSettings',
        'disconnectEntra',
        'createInvitation',
        'createGroupRoleMapping',
        'searchEntraGroups',
        'startEntraSync',
        'approveEntraSyncRun',
      ]),
    );
  });
});
