import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_SCOPES } from '../../src/common/scopes.js';
import { ownerOf, type TestOwner } from '../support/factory.js';
import { addMember } from '../support/seed.js';
import { bearer, signIn } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const { adele, megan, diego } = DEMO.users;

describe('SCIM management: status, tokens, the switch and the provisioning log', () => {
  let ctx: TestContext;
  let contoso: TestOwner;
  let fabrikam: TestOwner;

  const api = (owner: TestOwner) => ({
    get: (path: string) => ctx.http().get(`/api/v1/integrations/scim${path}`).set(bearer(owner.token)),
    post: (path: string, body: object) =>
      ctx.http().post(`/api/v1/integrations/scim${path}`).set(bearer(owner.token)).send(body),
    patch: (path: string, body: object) =>
      ctx.http().patch(`/api/v1/integrations/scim${path}`).set(bearer(owner.token)).send(body),
    delete: (path: string) => ctx.http().delete(`/api/v1/integrations/scim${path}`).set(bearer(owner.token)),
  });
  const scim = (method: 'get' | 'post' | 'patch', path: string, token: string) =>
    ctx.http()[method](`/scim/v2${path}`).set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    ctx = await createTestContext();
    contoso = await ownerOf(ctx, adele.upn, { plan: 'enterprise', seatLimit: 10 });
    fabrikam = await ownerOf(ctx, diego.upn, { plan: 'enterprise' });
  });
  afterAll(() => ctx?.close());

  it('allows two live tokens, refuses a third with 409, and lets rotation free a place; all audited', async () => {
    const first = (await api(contoso).post('/tokens', { name: 'first' }).expect(201)).body;
    const second = (await api(contoso).post('/tokens', { name: 'second' }).expect(201)).body;
    const third = await api(contoso).post('/tokens', { name: 'third' }).expect(409);
    expect(third.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(third.body.code).toBe('SCIM_TOKEN_LIMIT_REACHED');

    await api(contoso).delete(`/tokens/${first.id}`).expect(204);
    const again = await api(contoso).delete(`/tokens/${first.id}`).expect(404);
    expect(again.body.code).toBe('SCIM_TOKEN_NOT_FOUND');
    await api(contoso).delete('/tokens/not-a-uuid').expect(404);
    const replacement = (await api(contoso).post('/tokens', { name: 'replacement' }).expect(201)).body;
    expect(replacement.token).not.toBe(first.token);
    expect((await scim('get', '/ServiceProviderConfig', first.token)).status).toBe(401);
    await scim('get', '/ServiceProviderConfig', second.token).expect(200);

    const created = await ctx
      .http()
      .get(`/api/v1/audit-events?targetId=${first.id}`)
      .set(bearer(contoso.token))
      .expect(200);
    expect(created.body.items.map((e: { action: string }) => e.action).sort()).toEqual([
      'scim_token.created',
      'scim_token.revoked',
    ]);
    expect(JSON.stringify(created.body)).not.toContain(first.token);

    const past = await api(contoso).post('/tokens', { name: 'x', expiresAt: '2020-01-01T00:00:00.000Z' });
    expect({ status: past.status, code: past.body.code }).toEqual({
      status: 400,
      code: 'SCIM_TOKEN_EXPIRY_IN_PAST',
    });
    const noName = await api(contoso).post('/tokens', {});
    expect({ status: noName.status, code: noName.body.code }).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
    });

    await api(contoso).delete(`/tokens/${second.id}`).expect(204);
    await api(contoso).delete(`/tokens/${replacement.id}`).expect(204);
  });

  it('shows the status: switch, Tenant URL, live tokens with their last use, counts, last request and error, expiry warning', async () => {
    const empty = (await api(contoso).get('').expect(200)).body;
    expect(empty).toMatchObject({
      enabled: true,
      tenantUrl: 'http://localhost:3000/scim/v2',
      tokens: [],
      warnings: [{ code: 'no_live_token', tokenId: null }],
    });
    const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const expiring = (await api(contoso).post('/tokens', { name: 'expiring', expiresAt: soon }).expect(201))
      .body;
    await scim('get', '/ServiceProviderConfig', expiring.token).expect(200);
    await scim('get', '/Schemas/urn:nothing', expiring.token).expect(404);

    const status = (await api(contoso).get('').expect(200)).body;
    expect(status.tokens).toHaveLength(1);
    expect(status.tokens[0]).toMatchObject({
      id: expiring.id,
      name: 'expiring',
      expiresSoon: true,
      expiresAt: soon,
    });
    expect(status.tokens[0]).not.toHaveProperty('token');
    expect(status.tokens[0].lastUsedAt).toEqual(expect.any(String));
    expect(status.tokens[0].lastUsedFrom).toMatch(/127\.0\.0\.1|::1/);
    expect(status.warnings).toEqual([
      { code: 'token_expires_soon', tokenId: expiring.id, message: expect.stringContaining('expiring') },
    ]);
    expect(status.lastRequest).toMatchObject({
      method: 'GET',
      path: '/Schemas/urn:nothing',
      status: 404,
      outcome: 'failure',
    });
    expect(status.lastError).toMatchObject({
      path: '/Schemas/urn:nothing',
      status: 404,
      detail: expect.any(String),
    });
    expect(status).toHaveProperty('managedUsers');
    expect(status).toHaveProperty('managedGroups');
    expect(JSON.stringify(status)).not.toContain(expiring.token);
    await api(contoso).delete(`/tokens/${expiring.id}`).expect(204);
  });

  it('switched off refuses every SCIM request with 403 and changes nothing; on again it works', async () => {
    const { token, id } = (await api(fabrikam).post('/tokens', { name: 'switch' }).expect(201)).body;
    expect((await api(fabrikam).patch('/settings', { enabled: false }).expect(200)).body).toEqual({
      enabled: false,
    });
    for (const path of ['/ServiceProviderConfig', '/Schemas', '/ResourceTypes/User']) {
      const refused = await scim('get', path, token);
      expect(refused.status).toBe(403);
      expect(refused.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(refused.body).toMatchObject({ status: '403', detail: expect.stringMatching(/switched off/) });
    }
    expect((await api(fabrikam).get('').expect(200)).body).toMatchObject({ enabled: false, warnings: [] });
    const bad = await api(fabrikam).patch('/settings', { enabled: 'maybe' });
    expect({ status: bad.status, code: bad.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });

    await api(fabrikam).patch('/settings', { enabled: true }).expect(200);
    await scim('get', '/ServiceProviderConfig', token).expect(200);
    const trail = await ctx
      .http()
      .get(`/api/v1/audit-events?targetId=${fabrikam.organizationId}`)
      .set(bearer(fabrikam.token))
      .expect(200);
    expect(trail.body.items.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['scim.disabled', 'scim.enabled']),
    );
    await api(fabrikam).delete(`/tokens/${id}`).expect(204);
  });

  it('keeps a provisioning log per organization: newest first, paged, filtered, refusals included, secrets removed', async () => {
    const { token, id } = (await api(fabrikam).post('/tokens', { name: 'log' }).expect(201)).body;
    const userId = '6f1d2c3b-4a5e-4f70-8b9c-0d1e2f3a4b5c';
    await scim('post', '/Users', token)
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify({ userName: 'megan@fabrikam.com', password: 'Secr3t!pass', active: true }))
      .expect(201);
    await scim('patch', `/Users/${userId}`, token)
      .send({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [
          { op: 'replace', path: 'password', value: 'An0ther!secret' },
          { op: 'Replace', path: 'active', value: 'False' },
        ],
      })
      .expect(404);
    await scim('get', '/ServiceProviderConfig?aadOptscim062020', token).expect(200);
    await api(fabrikam).delete(`/tokens/${id}`).expect(204);
    await scim('get', '/ResourceTypes', token).expect(401);

    const log = (await api(fabrikam).get('/requests').expect(200)).body;
    const mine = log.items.filter((e: { tokenId: string }) => e.tokenId === id);
    expect(
      mine.map((e: { method: string; path: string; status: number }) => `${e.method} ${e.path} ${e.status}`),
    ).toEqual([
      'GET /ResourceTypes 401',
      'GET /ServiceProviderConfig 200',
      `PATCH /Users/${userId} 404`,
      'POST /Users 201',
    ]);
    expect(JSON.stringify(log)).not.toContain('Secr3t');
    expect(JSON.stringify(log)).not.toContain('An0ther');
    const post = mine[3];
    expect(post).toMatchObject({
      resourceType: 'User',
      requestBody: { userName: 'megan@fabrikam.com', active: true },
      outcome: 'success',
      durationMs: expect.any(Number),
    });
    expect(post.requestBody).not.toHaveProperty('password');
    expect(mine[2]).toMatchObject({ resourceType: 'User', resourceId: userId });
    expect(mine[2].requestBody.Operations).toEqual([
      { op: 'replace', path: 'password' },
      { op: 'Replace', path: 'active', value: 'False' },
    ]);
    expect(mine[1]).toMatchObject({ outcome: 'success', scimType: null, query: 'aadOptscim062020' });

    const page1 = (await api(fabrikam).get('/requests?limit=2').expect(200)).body;
    expect(page1.items).toHaveLength(2);
    const page2 = (await api(fabrikam).get(`/requests?limit=2&cursor=${page1.nextCursor}`).expect(200)).body;
    expect(page2.items[0].id).not.toBe(page1.items[1].id);
    expect([...page1.items, ...page2.items].map((e: { id: string }) => e.id)).toEqual(
      log.items.slice(0, 4).map((e: { id: string }) => e.id),
    );
    const successes = (await api(fabrikam).get('/requests?outcome=success').expect(200)).body.items;
    expect(successes.length).toBeGreaterThan(0);
    expect(successes.every((e: { status: number }) => e.status < 400)).toBe(true);
    const failures = (await api(fabrikam).get('/requests?outcome=failure').expect(200)).body.items;
    expect(failures.every((e: { status: number }) => e.status >= 400)).toBe(true);
    const byUser = (await api(fabrikam).get(`/requests?userId=${userId}`).expect(200)).body.items;
    expect(byUser.map((e: { method: string }) => e.method)).toEqual(['PATCH']);
    const badCursor = await api(fabrikam).get('/requests?cursor=nope');
    expect({ status: badCursor.status, code: badCursor.body.code }).toEqual({
      status: 400,
      code: 'INVALID_CURSOR',
    });

    // Another organization's log shows none of it, and its token sees nothing of this one.
    const other = (await api(contoso).get('/requests').expect(200)).body.items;
    expect(other.filter((e: { tokenId: string }) => e.tokenId === id)).toEqual([]);
  });

  it('is for Owners and Admins of Enterprise organizations with a session: never an Employee or an API key', async () => {
    await addMember(ctx, contoso.organizationId, megan, DEMO.tenants.contoso.id, 'employee');
    const employee = await signIn(ctx, megan.upn);
    const refused = await ctx.http().get('/api/v1/integrations/scim').set(bearer(employee.token)).expect(403);
    expect(refused.body.code).toBe('INSUFFICIENT_ROLE');
    const key = (
      await ctx
        .http()
        .post('/api/v1/api-keys')
        .set(bearer(contoso.token))
        .send({ name: 'all', scopes: [...API_KEY_SCOPES] })
        .expect(201)
    ).body.key as string;
    for (const [method, path] of [
      ['get', ''],
      ['post', '/tokens'],
      ['get', '/requests'],
      ['patch', '/settings'],
    ] as const) {
      const response = await ctx
        .http()
        [method](`/api/v1/integrations/scim${path}`)
        .set(bearer(key))
        .send({ name: 'x', enabled: false });
      expect({ path, status: response.status, code: response.body.code }).toEqual({
        path,
        status: 403,
        code: 'API_KEY_NOT_ACCEPTED',
      });
    }
  });

  it('self-tests the live endpoint over HTTP with a throw-away token, reporting each step, and revokes the token', async () => {
    // The request itself keeps the server listening (supertest's ephemeral port): the self-test calls it back.
    const result = (await api(contoso).post('/self-test', {}).expect(200)).body;
    const names = ['test_connection', 'create_user', 'deactivate_user', 'delete_user', 'deleted_user_gone'];
    expect(result.steps.map((s: { name: string }) => s.name)).toEqual(names.slice(0, result.steps.length));
    expect(result.steps[0]).toMatchObject({
      method: 'GET',
      path: expect.stringMatching(/^\/Users\?filter=userName%20eq%20/),
    });
    for (const step of result.steps) expect(step.status).toEqual(expect.any(Number));
    // It stops at the first failure, says why, and is ok only when all five answered as Entra expects.
    const failed = result.steps.findIndex((s: { ok: boolean }) => !s.ok);
    if (failed >= 0) {
      expect(failed).toBe(result.steps.length - 1);
      expect(result.steps[failed].detail).toEqual(expect.any(String));
    }
    expect(result.ok).toBe(failed === -1 && result.steps.length === 5);

    // The requests went through the real endpoint: they are in the log, under a token revoked since.
    const status = (await api(contoso).get('').expect(200)).body;
    expect(status.tokens.filter((t: { name: string }) => t.name.startsWith('Self-test'))).toEqual([]);
    const log = (await api(contoso).get('/requests').expect(200)).body.items;
    const selfTest = log.find((e: { path: string }) => e.path === '/Users');
    expect(selfTest).toBeDefined();
    const trail = await ctx
      .http()
      .get(`/api/v1/audit-events?targetId=${selfTest.tokenId}`)
      .set(bearer(contoso.token))
      .expect(200);
    expect(trail.body.items.map((e: { action: string }) => e.action).sort()).toEqual([
      'scim_token.created',
      'scim_token.revoked',
    ]);
  });
});
