import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { DEMO } from '@entra-integration/entra-emulator';
import { bearer, connectTenant, signIn } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

type Method = 'get' | 'patch' | 'post' | 'put' | 'delete';

/** Every route with an id in its path: what it answers for an id that names nothing. */
const ROUTES: { method: Method; path: (id: string) => string; body?: object; code: string }[] = [
  { method: 'get', path: (id) => `/api/v1/users/${id}`, code: 'USER_NOT_FOUND' },
  { method: 'patch', path: (id) => `/api/v1/users/${id}`, body: { role: 'manager' }, code: 'USER_NOT_FOUND' },
  { method: 'post', path: (id) => `/api/v1/users/${id}/deactivate`, code: 'USER_NOT_FOUND' },
  { method: 'post', path: (id) => `/api/v1/users/${id}/reactivate`, code: 'USER_NOT_FOUND' },
  { method: 'delete', path: (id) => `/api/v1/invitations/${id}`, code: 'INVITATION_NOT_FOUND' },
  {
    method: 'put',
    path: (id) => `/api/v1/integrations/entra/group-role-mappings/${id}`,
    body: { groupId: DEMO.groups.engineering.id, role: 'manager' },
    code: 'GROUP_ROLE_MAPPING_NOT_FOUND',
  },
  {
    method: 'delete',
    path: (id) => `/api/v1/integrations/entra/group-role-mappings/${id}`,
    code: 'GROUP_ROLE_MAPPING_NOT_FOUND',
  },
  { method: 'get', path: (id) => `/api/v1/integrations/entra/sync-runs/${id}`, code: 'SYNC_RUN_NOT_FOUND' },
  {
    method: 'get',
    path: (id) => `/api/v1/integrations/entra/sync-runs/${id}/outcomes`,
    code: 'SYNC_RUN_NOT_FOUND',
  },
  {
    method: 'post',
    path: (id) => `/api/v1/integrations/entra/sync-runs/${id}/approve`,
    code: 'SYNC_RUN_NOT_FOUND',
  },
  {
    method: 'post',
    path: (id) => `/api/v1/integrations/entra/sync-runs/${id}/reject`,
    code: 'SYNC_RUN_NOT_FOUND',
  },
];

const MALFORMED = [
  'not-a-uuid',
  '1',
  '00000000-0000-0000-0000-00000000000g',
  `${randomUUID()}x`,
  "x'%20OR%201=1",
];

describe('ids in paths', () => {
  let ctx: TestContext;
  let token: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    const signedIn = await signIn(ctx, DEMO.users.adele.upn);
    token = signedIn.token!;
    const me = await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200);
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(me.body.organizationId, { plan: 'enterprise', seatLimit: 50 }, SYSTEM_ACTOR);
    expect((await connectTenant(ctx, token, DEMO.users.adele.upn)).status).toBe('connected');
  });
  afterAll(() => ctx?.close());

  // What names the request itself (its path and id) differs; the answer does not.
  const withoutRequest = ({
    instance: _instance,
    requestId: _requestId,
    ...problem
  }: Record<string, unknown>) => problem;

  const call = (route: (typeof ROUTES)[number], id: string) => {
    const request = ctx.http()[route.method](route.path(id)).set(bearer(token));
    return route.body ? request.send(route.body) : request;
  };

  it('documents every path id as a uuid', async () => {
    const document = (await ctx.http().get('/docs/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, { parameters?: { in: string; schema: { format?: string } }[] }>>;
    };
    const pathParams = Object.values(document.paths)
      .flatMap((item) => Object.values(item))
      .flatMap((operation) => operation.parameters ?? [])
      .filter((p) => p.in === 'path');
    // Every id route below, and any other (the invitation choice's accept), is documented as a uuid.
    expect(pathParams.length).toBeGreaterThanOrEqual(ROUTES.length);
    for (const param of pathParams) expect(param.schema.format).toBe('uuid');
  });

  for (const route of ROUTES) {
    it(`${route.method.toUpperCase()} ${route.path(':id')} answers ${route.code} for a malformed id, as for an unknown one`, async () => {
      const unknown = await call(route, randomUUID());
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe(route.code);
      for (const id of MALFORMED) {
        const malformed = await call(route, id);
        expect(malformed.status).toBe(404);
        expect(malformed.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(withoutRequest(malformed.body)).toEqual(withoutRequest(unknown.body));
      }
    });
  }
});
