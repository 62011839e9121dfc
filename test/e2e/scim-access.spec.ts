import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { ownerOf, type TestOwner } from '../support/factory.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const { adele, diego } = DEMO.users;
const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** A SCIM error answer: the error schema, `status` as a string, as application/scim+json. */
function expectScimError(
  response: { status: number; headers: Record<string, string>; body: unknown },
  status: number,
) {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
  const body = JSON.parse(JSON.stringify(response.body)) as Record<string, unknown>;
  expect(body).toMatchObject({ schemas: [SCIM_ERROR], status: String(status), detail: expect.any(String) });
  return body;
}

describe('SCIM access: tokens and the /scim/v2 edge', () => {
  let ctx: TestContext;
  let contoso: TestOwner;
  let fabrikam: TestOwner;

  const scim = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, token?: string) => {
    const req = ctx.http()[method](`/scim/v2${path}`);
    return token ? req.set('Authorization', `Bearer ${token}`) : req;
  };
  const createToken = (owner: TestOwner, body: Record<string, unknown>) =>
    ctx.http().post('/api/v1/integrations/scim/tokens').set(bearer(owner.token)).send(body);

  const revoke = (owner: TestOwner, id: string) =>
    ctx.http().delete(`/api/v1/integrations/scim/tokens/${id}`).set(bearer(owner.token)).expect(204);

  beforeAll(async () => {
    ctx = await createTestContext();
    contoso = await ownerOf(ctx, adele.upn, { plan: 'enterprise', seatLimit: 10 });
    fabrikam = await ownerOf(ctx, diego.upn, { plan: 'enterprise' });
  });
  afterAll(() => ctx?.close());

  it('mints a token shown once with the Tenant URL, stores only its hash, and opens /scim/v2 with it', async () => {
    const created = await createToken(contoso, { name: 'Entra provisioning' }).expect(201);
    const token = created.body.token as string;
    expect(token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({
      name: 'Entra provisioning',
      tenantUrl: 'http://localhost:3000/scim/v2',
      expiresAt: null,
      createdByUserId: contoso.userId,
    });
    expect(token.startsWith(created.body.prefix as string)).toBe(true);
    const stored = await ctx.sql.query('SELECT * FROM scim_tokens');
    expect(JSON.stringify(stored.rows)).not.toContain(token);

    const config = await scim('get', '/ServiceProviderConfig', token).expect(200);
    expect(config.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(config.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true, maxResults: 200 },
    });
    await ctx
      .http()
      .delete('/api/v1/integrations/scim/tokens/' + created.body.id)
      .set(bearer(contoso.token))
      .expect(204);
  });

  it('answers 401 in the SCIM error schema for a missing, malformed, unknown, revoked or expired token', async () => {
    const { token, id } = (await createToken(contoso, { name: 'soon revoked' }).expect(201)).body;
    await ctx.http().delete(`/api/v1/integrations/scim/tokens/${id}`).set(bearer(contoso.token)).expect(204);
    const expiring = (
      await createToken(contoso, { name: 'expired', expiresAt: new Date(Date.now() + 60_000) }).expect(201)
    ).body;
    await ctx.sql.query(`UPDATE scim_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      expiring.id,
    ]);

    const session = contoso.token;
    for (const authorization of [
      undefined,
      'Basic dXNlcjpwYXNz',
      'Bearer ',
      'Bearer scim_not-a-real-token',
      `Bearer ${token}`,
      `Bearer ${expiring.token}`,
      `Bearer ${session}`,
    ]) {
      const req = ctx.http().get('/scim/v2/ServiceProviderConfig');
      const response = await (authorization ? req.set('Authorization', authorization) : req);
      expectScimError(response, 401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });

  it('never accepts a SCIM token as a session or API key, nor an API key on /scim/v2', async () => {
    const { token } = (await createToken(contoso, { name: 'only scim' }).expect(201)).body;
    const me = await ctx.http().get('/api/v1/me').set(bearer(token)).expect(401);
    expect(me.body.code).toBe('UNAUTHENTICATED');
    await ctx.http().get('/api/v1/users').set(bearer(token)).expect(401);
    const key = (
      await ctx
        .http()
        .post('/api/v1/api-keys')
        .set(bearer(contoso.token))
        .send({ name: 'k', scopes: ['users:read'] })
        .expect(201)
    ).body.key as string;
    expectScimError(await scim('get', '/ServiceProviderConfig', key), 401);
  });

  it('matches endpoint names case-insensitively and ignores Entra’s aadOptscim062020 flag', async () => {
    const { token, id } = (await createToken(fabrikam, { name: 'edge' }).expect(201)).body;
    const lower = await scim('get', '/serviceproviderconfig?aadOptscim062020', token).expect(200);
    expect(lower.body.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig']);
    const types = await scim('get', '/resourcetypes?aadOptscim062020=', token).expect(200);
    expect(types.body.Resources.map((r: { id: string }) => r.id)).toEqual(['User', 'Group']);
    expect(types.body.totalResults).toBe(2);
    const user = await scim('get', '/RESOURCETYPES/user', token).expect(200);
    expect(user.body).toMatchObject({ id: 'User', endpoint: '/Users' });
    await revoke(fabrikam, id);
  });

  it('answers unknown routes 404, a wrong method 405, a wrong body type 415 and an oversized body 413, all as SCIM errors', async () => {
    const { token, id } = (await createToken(fabrikam, { name: 'errors' }).expect(201)).body;
    expectScimError(await scim('get', '/Nothing', token), 404);
    expectScimError(await scim('get', '/Schemas/urn:nothing', token), 404);
    const wrongMethod = await scim('delete', '/ServiceProviderConfig', token);
    expectScimError(wrongMethod, 405);
    expect(wrongMethod.headers['allow']).toBe('GET');
    const text = await scim('post', '/ServiceProviderConfig', token)
      .set('Content-Type', 'text/plain')
      .send('hello');
    expectScimError(text, 415);
    const huge = await scim('post', '/Users', token)
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify({ userName: 'x'.repeat(200_000) }));
    expectScimError(huge, 413);
    const hugeJson = await scim('post', '/Users', token).send({ userName: 'x'.repeat(200_000) });
    expectScimError(hugeJson, 413);
    const malformed = await scim('post', '/Users', token)
      .set('Content-Type', 'application/scim+json')
      .send('{"userName":');
    expect(expectScimError(malformed, 400).scimType).toBe('invalidSyntax');

    // Refused before authentication, yet the token names whose log it is.
    const log = await ctx
      .http()
      .get('/api/v1/integrations/scim/requests')
      .set(bearer(fabrikam.token))
      .expect(200);
    const statuses = log.body.items
      .filter((e: { tokenId: string }) => e.tokenId === id)
      .map((e: { status: number }) => e.status);
    expect(statuses).toEqual([400, 413, 413, 415, 405, 404, 404]);
    expect(log.body.items[0]).toMatchObject({ scimType: 'invalidSyntax', path: '/Users' });
    await revoke(fabrikam, id);
  });

  it('refuses the token of an organization without Enterprise with 403', async () => {
    const { token } = (await createToken(fabrikam, { name: 'downgraded' }).expect(201)).body;
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(fabrikam.organizationId, { plan: 'team' }, SYSTEM_ACTOR);
    try {
      expect(expectScimError(await scim('get', '/ServiceProviderConfig', token), 403).detail).toMatch(
        /enterprise/i,
      );
      const managed = await ctx
        .http()
        .post('/api/v1/integrations/scim/tokens')
        .set(bearer(fabrikam.token))
        .send({ name: 'x' });
      expect({ status: managed.status, code: managed.body.code }).toEqual({
        status: 403,
        code: 'PLAN_REQUIRED',
      });
    } finally {
      await ctx.app
        .get(OrganizationsService)
        .updateSubscription(fabrikam.organizationId, { plan: 'enterprise' }, SYSTEM_ACTOR);
    }
    await scim('get', '/ServiceProviderConfig', token).expect(200);
  });

  it('serves the discovery documents: ServiceProviderConfig, ResourceTypes and Schemas, also by id', async () => {
    const { token, id } = (await createToken(contoso, { name: 'discovery' }).expect(201)).body;
    const config = (await scim('get', '/ServiceProviderConfig', token).expect(200)).body;
    expect(config).toMatchObject({
      etag: { supported: true },
      bulk: { supported: false, maxPayloadSize: 102400 },
      meta: { location: 'http://localhost:3000/scim/v2/ServiceProviderConfig' },
    });
    const schemas = (await scim('get', '/Schemas', token).expect(200)).body;
    expect(schemas.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
    const ids = schemas.Resources.map((s: { id: string }) => s.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'urn:ietf:params:scim:schemas:core:2.0:User',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
        'urn:ietf:params:scim:schemas:core:2.0:Group',
        'urn:entra-integration:params:scim:schemas:extension:product:2.0:User',
      ]),
    );
    expect(schemas.totalResults).toBe(ids.length);
    const user = (await scim('get', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User', token).expect(200))
      .body;
    expect(user.description).toMatch(/User Account/);
    expect(user.attributes.map((a: { name: string }) => a.name)).toContain('userName');
    const group = (await scim('get', '/ResourceTypes/Group', token).expect(200)).body;
    expect(group).toMatchObject({
      endpoint: '/Groups',
      schema: 'urn:ietf:params:scim:schemas:core:2.0:Group',
    });
    expectScimError(await scim('get', '/ResourceTypes/Device', token), 404);
    await revoke(contoso, id);
  });
});
