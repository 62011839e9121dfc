import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { DEMO } from '@entra-integration/entra-emulator';
import { deeplyNested } from '../support/openapi-fuzz.js';
import { bearer, connectTenant, signIn } from '../support/sign-in.js';
import { syncNow } from '../support/sync.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const someId = '3f0c7b1e-2a55-4a6b-9c1d-8f1e2d3c4b5a';

/** Cursors a client can craft; each once reached PostgreSQL and came back as a 500. */
const CRAFTED = {
  'a non-UUID id': b64({ createdAt: '2026-01-01T00:00:00.000Z', id: 'x' }),
  'the timestamp "1"': b64({ createdAt: '1', id: someId }),
  'a NUL byte': b64({ createdAt: '2026-01-01T00:00:00.000Z', id: `${someId}\u0000` }),
};

describe('bad input is a 400 problem with a code, never a 500', () => {
  let ctx: TestContext;
  let token: string;
  let runId: string;
  const api = () => ctx.http();

  beforeAll(async () => {
    ctx = await createTestContext();
    token = (await signIn(ctx, DEMO.users.adele.upn)).token!;
    const me = (await api().get('/api/v1/me').set(bearer(token)).expect(200)).body;
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(me.organizationId, { plan: 'enterprise', seatLimit: 100 }, SYSTEM_ACTOR);
    expect((await connectTenant(ctx, token, DEMO.users.adele.upn)).status).toBe('connected');
    await api()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(token))
      .send({ autoDeprovisionSync: true })
      .expect(200);
    runId = (await syncNow(ctx, token)).id;
  });
  afterAll(() => ctx?.close());

  function expectProblem(
    response: { status: number; headers: Record<string, string>; body: unknown },
    code: string,
  ) {
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 400, code });
  }

  it.each([
    '/api/v1/users',
    '/api/v1/invitations',
    '/api/v1/audit-events',
    '/api/v1/integrations/entra/sync-runs',
  ])('%s refuses crafted cursors with INVALID_CURSOR', async (list) => {
    for (const cursor of Object.values(CRAFTED)) {
      expectProblem(await api().get(list).query({ cursor }).set(bearer(token)), 'INVALID_CURSOR');
    }
    // A cursor this API issued still works.
    await api().get(list).query({ limit: 1 }).set(bearer(token)).expect(200);
  });

  it('refuses an outcomes cursor beyond PostgreSQL’s bigint range with INVALID_CURSOR', async () => {
    const outcomes = `/api/v1/integrations/entra/sync-runs/${runId}/outcomes`;
    for (const id of ['9999999999999999999', '9223372036854775808']) {
      expectProblem(
        await api()
          .get(outcomes)
          .query({ cursor: b64(id) })
          .set(bearer(token)),
        'INVALID_CURSOR',
      );
    }
    await api()
      .get(outcomes)
      .query({ cursor: b64('9223372036854775807') })
      .set(bearer(token))
      .expect(200);
  });

  it('refuses a NUL byte in search and action with VALIDATION_FAILED naming the parameter', async () => {
    const users = await api().get('/api/v1/users').query({ search: 'meg\u0000' }).set(bearer(token));
    expectProblem(users, 'VALIDATION_FAILED');
    expect(users.body.errors).toEqual([{ field: 'search', message: expect.any(String) }]);
    const audit = await api().get('/api/v1/audit-events').query({ action: 'user.\u0000' }).set(bearer(token));
    expectProblem(audit, 'VALIDATION_FAILED');
    expect(audit.body.errors).toEqual([{ field: 'action', message: expect.any(String) }]);
  });

  it('refuses null for any setting, and changes nothing', async () => {
    const before = (await api().get('/api/v1/integrations/entra').set(bearer(token)).expect(200)).body
      .settings;
    for (const change of [
      { autoProvisionUsers: null },
      { autoDeprovisionSync: null },
      { groupRoleMapping: null },
      { deprovisionThreshold: null },
      { deprovisionThreshold: { count: null } },
      { deprovisionThreshold: { percent: null } },
    ]) {
      const response = await api()
        .patch('/api/v1/integrations/entra/settings')
        .set(bearer(token))
        .send(change);
      expectProblem(response, 'VALIDATION_FAILED');
      expect(response.body.errors.length).toBeGreaterThan(0);
    }
    const after = (await api().get('/api/v1/integrations/entra').set(bearer(token)).expect(200)).body
      .settings;
    expect(after).toEqual(before);
  });

  it('refuses JSON nested deeper than 32 levels, under the size limit, before validation', async () => {
    for (const [depth, kind] of [
      [33, 'object'],
      [5000, 'object'],
      [15000, 'array'],
    ] as const) {
      const response = await api()
        .post('/api/v1/invitations')
        .set(bearer(token))
        .set('Content-Type', 'application/json')
        .send(deeplyNested(depth, kind));
      expectProblem(response, 'VALIDATION_FAILED');
      expect(response.body.errors[0].message).toContain('nested deeper than 32');
    }
    // 32 levels are still just a body with the wrong shape.
    const fine = await api()
      .post('/api/v1/invitations')
      .set(bearer(token))
      .set('Content-Type', 'application/json')
      .send(deeplyNested(32, 'object'));
    expectProblem(fine, 'VALIDATION_FAILED');
    expect(fine.body.errors[0].message).not.toContain('nested deeper');
  });

  it('refuses a lone surrogate in an email, and stores nothing', async () => {
    const response = await api()
      .post('/api/v1/invitations')
      .set(bearer(token))
      .set('Content-Type', 'application/json')
      .send('{"email":"\\ud800lee@contoso.com","role":"employee"}');
    expectProblem(response, 'VALIDATION_FAILED');
    expect(response.body.errors).toEqual([{ field: 'email', message: expect.any(String) }]);
    const stored = await ctx.sql.query('SELECT count(*)::int AS n FROM invitations');
    expect(stored.rows[0].n).toBe(0);
  });

  describe('the group search', () => {
    const groups = '/api/v1/integrations/entra/groups';
    const search = async (value: string) =>
      (await api().get(groups).query({ search: value }).set(bearer(token)).expect(200)).body.items.map(
        (g: { displayName: string }) => g.displayName,
      );

    it('treats quotes, &, # and $-options as a literal name prefix, never as Graph query syntax', async () => {
      expect(await search("a' or 1 eq 1&$top=1#")).toEqual([]);
      expect(await search('%27')).toEqual([]);
      ctx.emulator.store.addGroup({ tenantId: DEMO.tenants.contoso.id, displayName: "R&D #1 'core' 100%" });
      ctx.emulator.store.addGroup({ tenantId: DEMO.tenants.contoso.id, displayName: 'R&D archive' });
      expect(await search("R&D #1 'co")).toEqual(["R&D #1 'core' 100%"]);
      expect(await search("R&D #1 'core' 100%")).toEqual(["R&D #1 'core' 100%"]);
      expect((await search('R&D')).sort()).toEqual(["R&D #1 'core' 100%", 'R&D archive']);
      expect(await search('%')).toEqual([]);
    });

    it('refuses a cursor that is a Graph groups link with a query Graph rejects as INVALID_CURSOR', async () => {
      for (const link of ['$filter=nonsense', '$skiptoken=forged', '$top=%zz']) {
        const cursor = b64(`${ctx.config.entra.graphBaseUrl}/v1.0/groups?${link}`);
        expectProblem(await api().get(groups).query({ cursor }).set(bearer(token)), 'INVALID_CURSOR');
      }
    });
  });
});
