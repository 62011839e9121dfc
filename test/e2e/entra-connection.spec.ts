import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { DomainClaimsService } from '../../src/domain-claims/domain-claims.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { DEMO } from '@entra-integration/entra-emulator';
import { addMember } from '../support/seed.js';
import type { Plan } from '../../src/common/access.js';
import { ownerOf } from '../support/factory.js';
import { bearer, connectTenant, signIn } from '../support/sign-in.js';
import { APP_UI_URL, createTestContext, TEST_KEY_1, type TestContext } from '../support/test-app.js';

const { adele, megan, diego } = DEMO.users;
const contoso = DEMO.tenants.contoso;
const SETTINGS_PAGE = `${APP_UI_URL}/settings/integrations/entra`;

const ownerOfNewOrganization = (ctx: TestContext, upn: string, plan: Plan = 'enterprise') =>
  ownerOf(ctx, upn, { plan });

async function connectionRows(ctx: TestContext, organizationId: string) {
  return (await ctx.sql.query('SELECT * FROM entra_connections WHERE organization_id = $1', [organizationId]))
    .rows;
}

async function claimRows(ctx: TestContext, organizationId: string) {
  return (
    await ctx.sql.query(
      'SELECT tenant_id, domain, display_name, source, is_default, is_initial FROM domain_claims WHERE organization_id = $1 ORDER BY position',
      [organizationId],
    )
  ).rows;
}

/** A tenant domain as Graph lists it, added to (and later removed from) the emulator's Contoso. */
function addContosoDomain(ctx: TestContext, name: string) {
  const tenant = ctx.emulator.store.findTenant(contoso.id)!;
  tenant.verifiedDomains.push({
    name,
    isDefault: false,
    isInitial: false,
    type: 'Managed',
    capabilities: 'Email',
  });
  return () => {
    tenant.verifiedDomains = tenant.verifiedDomains.filter((d) => d.name !== name);
  };
}

/** Makes the cached access token look expired, so the next Graph call must use the refresh token. */
async function expireAccessToken(ctx: TestContext, organizationId: string) {
  await ctx.sql.query(
    "UPDATE entra_connections SET access_token_expires_at = now() - interval '1 minute' WHERE organization_id = $1",
    [organizationId],
  );
}

describe('connecting an Entra tenant', () => {
  let ctx: TestContext;
  let admin: Awaited<ReturnType<typeof ownerOfNewOrganization>>;

  beforeAll(async () => {
    ctx = await createTestContext();
    admin = await ownerOfNewOrganization(ctx, adele.upn);
  });
  afterAll(() => ctx?.close());

  it('starts with no connection', async () => {
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(admin.token)).expect(200);
    expect(status.body).toMatchObject({
      status: 'not_connected',
      tenantId: null,
      verifiedDomains: [],
      lastSync: null,
    });
  });

  it('asks Microsoft for admin consent to read-only permissions, with PKCE and state', async () => {
    const started = await ctx
      .http()
      .post('/api/v1/integrations/entra/connect')
      .set(bearer(admin.token))
      .expect(200);
    const url = new URL(started.body.authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(
      `${ctx.emulator.authorityHost}/organizations/oauth2/v2.0/authorize`,
    );
    expect(url.searchParams.get('prompt')).toBe('consent');
    expect(url.searchParams.get('redirect_uri')).toBe(
      'http://localhost:3000/auth/microsoft/connect/callback',
    );
    expect(url.searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining([
        'openid',
        'profile',
        'offline_access',
        'https://graph.microsoft.com/User.Read.All',
        'https://graph.microsoft.com/Group.Read.All',
      ]),
    );
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('state')).toMatch(/^[\w-]{43}$/);
  });

  it('connects: the status shows the tenant name, verified domains and who connected it; all features off', async () => {
    const result = await connectTenant(ctx, admin.token, adele.upn);
    expect(result.location).toBe(`${SETTINGS_PAGE}?status=connected`);

    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(admin.token)).expect(200);
    expect(status.body).toMatchObject({
      status: 'connected',
      tenantId: contoso.id,
      tenantName: 'Contoso',
      connectedBy: { id: admin.userId, displayName: adele.displayName, email: adele.upn },
      settings: { autoProvisionUsers: false, autoDeprovisionSync: false, groupRoleMapping: false },
      featuresActive: true,
      inactiveReason: null,
    });
    expect(status.body.verifiedDomains).toEqual(
      expect.arrayContaining([
        { name: 'contoso.com', isDefault: true },
        { name: 'Contoso.onmicrosoft.com', isDefault: false },
      ]),
    );
    expect(Date.parse(status.body.connectedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('claims the verified domains for the organization within the tenant, lower-case, in Graph’s order', async () => {
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(admin.token)).expect(200);
    expect(status.body.verifiedDomains).toEqual([
      { name: 'contoso.com', isDefault: true },
      { name: 'Contoso.onmicrosoft.com', isDefault: false },
    ]);
    expect(await claimRows(ctx, admin.organizationId)).toEqual([
      {
        tenant_id: contoso.id,
        domain: 'contoso.com',
        display_name: 'contoso.com',
        source: 'entra_verified_domain',
        is_default: true,
        is_initial: false,
      },
      {
        tenant_id: contoso.id,
        domain: 'contoso.onmicrosoft.com',
        display_name: 'Contoso.onmicrosoft.com',
        source: 'entra_verified_domain',
        is_default: false,
        is_initial: true,
      },
    ]);
    expect(
      await ctx.app.get(DomainClaimsService).findOwner(contoso.id, 'CONTOSO.ONMICROSOFT.COM'),
    ).toMatchObject({
      organizationId: admin.organizationId,
    });
  });

  it('stores the refresh token only as ciphertext and never shows a token anywhere', async () => {
    const [row] = await connectionRows(ctx, admin.organizationId);
    expect(row.refresh_token_ciphertext).toMatch(/^v1\.k1\./);
    expect(row.access_token_ciphertext).toMatch(/^v1\.k1\./);
    // The stored value is the real, live refresh token Microsoft issued, encrypted.
    const { TokenCipher } = await import('../../src/integrations/token-cipher.js');
    const { parseKeyring } = await import('../../src/config/config.js');
    const cipher = new TokenCipher(parseKeyring(`k1:${TEST_KEY_1}`) as never);
    const refreshToken = cipher.decrypt(
      row.refresh_token_ciphertext,
      `entra_connection:${admin.organizationId}:refresh_token`,
    );
    expect(ctx.emulator.store.findRefreshToken(refreshToken)).toBeDefined();
    expect(row.refresh_token_ciphertext).not.toContain(refreshToken);

    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(admin.token)).expect(200);
    const audit = await ctx.http().get('/api/v1/audit-events').set(bearer(admin.token)).expect(200);
    for (const body of [JSON.stringify(status.body), JSON.stringify(audit.body)]) {
      expect(body).not.toContain(refreshToken);
      expect(body).not.toMatch(/ciphertext|refresh_?token|access_?token/i);
    }
    expect(audit.body.items.map((e: { action: string }) => e.action)).toContain('entra.connected');
  });

  it('saves each toggle independently and audits the change', async () => {
    const patch = (body: object) =>
      ctx.http().patch('/api/v1/integrations/entra/settings').set(bearer(admin.token)).send(body);
    expect((await patch({ autoProvisionUsers: true }).expect(200)).body.settings).toMatchObject({
      autoProvisionUsers: true,
      autoDeprovisionSync: false,
      groupRoleMapping: false,
    });
    expect((await patch({ groupRoleMapping: true }).expect(200)).body.settings).toMatchObject({
      autoProvisionUsers: true,
      autoDeprovisionSync: false,
      groupRoleMapping: true,
    });
    expect((await patch({ autoProvisionUsers: false }).expect(200)).body.settings).toMatchObject({
      autoProvisionUsers: false,
      autoDeprovisionSync: false,
      groupRoleMapping: true,
    });
    expect((await patch({}).expect(400)).body.code).toBe('VALIDATION_FAILED');
    expect((await patch({ autoProvisionUsers: 'yes' }).expect(400)).body.errors[0].field).toBe(
      'autoProvisionUsers',
    );
    const events = await ctx
      .http()
      .get('/api/v1/audit-events?action=entra.settings_changed')
      .set(bearer(admin.token))
      .expect(200);
    expect(events.body.items[0]).toMatchObject({
      before: { autoProvisionUsers: true, groupRoleMapping: true },
      after: { autoProvisionUsers: false, groupRoleMapping: true },
    });
    const threshold = await patch({ deprovisionThreshold: { percent: 5 } }).expect(200);
    expect(threshold.body.settings).toMatchObject({
      autoProvisionUsers: false,
      deprovisionThreshold: { count: 25, percent: 5 },
    });
    const badThreshold = await patch({ deprovisionThreshold: { percent: 101, count: -1 } }).expect(400);
    expect(badThreshold.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'deprovisionThreshold.count',
      'deprovisionThreshold.percent',
    ]);
  });

  it('re-reads tenant details from Graph on refresh, renewing the access token with the refresh token', async () => {
    ctx.emulator.store.findTenant(contoso.id)!.displayName = 'Contoso Ltd';
    const before = (await connectionRows(ctx, admin.organizationId))[0];
    await expireAccessToken(ctx, admin.organizationId);
    const refreshed = await ctx
      .http()
      .post('/api/v1/integrations/entra/refresh')
      .set(bearer(admin.token))
      .expect(200);
    expect(refreshed.body.tenantName).toBe('Contoso Ltd');
    const after = (await connectionRows(ctx, admin.organizationId))[0];
    // Microsoft rotated the refresh token; the new one was stored at once.
    expect(after.refresh_token_ciphertext).not.toBe(before.refresh_token_ciphertext);
    await expireAccessToken(ctx, admin.organizationId);
    await ctx.http().post('/api/v1/integrations/entra/refresh').set(bearer(admin.token)).expect(200);
  });

  it('claims a domain added in Entra at refresh, and releases one removed there', async () => {
    const remove = addContosoDomain(ctx, 'Contoso.net');
    try {
      const refreshed = await ctx
        .http()
        .post('/api/v1/integrations/entra/refresh')
        .set(bearer(admin.token))
        .expect(200);
      expect(refreshed.body.verifiedDomains).toEqual([
        { name: 'contoso.com', isDefault: true },
        { name: 'Contoso.onmicrosoft.com', isDefault: false },
        { name: 'Contoso.net', isDefault: false },
      ]);
      expect(await ctx.app.get(DomainClaimsService).findOwner(contoso.id, 'contoso.net')).toMatchObject({
        organizationId: admin.organizationId,
        source: 'entra_verified_domain',
      });
    } finally {
      remove();
    }
    await ctx.http().post('/api/v1/integrations/entra/refresh').set(bearer(admin.token)).expect(200);
    expect((await claimRows(ctx, admin.organizationId)).map((r) => r.domain)).toEqual([
      'contoso.com',
      'contoso.onmicrosoft.com',
    ]);
  });

  it('a refresh whose new domain another organization of the tenant claims changes nothing and says which domain', async () => {
    const claims = ctx.app.get(DomainClaimsService);
    const rival = await ctx.app.get(OrganizationsService).create('Contoso Consulting');
    await claims.claim({
      organizationId: rival.id,
      tenantId: contoso.id,
      source: 'tenant_assignment',
      domains: [{ name: 'consulting.contoso.com' }],
    });
    const remove = addContosoDomain(ctx, 'Consulting.Contoso.com');
    ctx.emulator.store.findTenant(contoso.id)!.displayName = 'Contoso Group';
    const before = await claimRows(ctx, admin.organizationId);
    try {
      const refused = await ctx
        .http()
        .post('/api/v1/integrations/entra/refresh')
        .set(bearer(admin.token))
        .expect(409);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(refused.body).toMatchObject({ code: 'DOMAINS_CLAIMED', domains: ['consulting.contoso.com'] });
      expect(JSON.stringify(refused.body)).not.toContain(rival.id);
      expect(JSON.stringify(refused.body)).not.toContain('Contoso Consulting');
    } finally {
      remove();
      ctx.emulator.store.findTenant(contoso.id)!.displayName = 'Contoso Ltd';
      await claims.release(rival.id, 'tenant_assignment');
    }
    // All or nothing: neither the name nor the domains changed.
    expect(await claimRows(ctx, admin.organizationId)).toEqual(before);
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(admin.token)).expect(200);
    expect(status.body.tenantName).toBe('Contoso Ltd');
  });

  it('keeps working after a key rotation (keys:rotate re-encrypts under the new first key)', async () => {
    const { TokenVault } = await import('../../src/integrations/token-vault.service.js');
    const k2 = Buffer.alloc(32, 22).toString('base64');
    await ctx.reopen({ TOKEN_ENCRYPTION_KEYS: `k2:${k2},k1:${TEST_KEY_1}` });
    expect(await ctx.app.get(TokenVault).reencryptTokens()).toEqual({ reencrypted: 1, total: 1 });
    const [row] = await connectionRows(ctx, admin.organizationId);
    expect(row.refresh_token_ciphertext).toMatch(/^v1\.k2\./);
    expect(row.access_token_ciphertext).toMatch(/^v1\.k2\./);

    // The old key can now be dropped.
    await ctx.reopen({ TOKEN_ENCRYPTION_KEYS: `k2:${k2}` });
    await expireAccessToken(ctx, admin.organizationId);
    await ctx.http().post('/api/v1/integrations/entra/refresh').set(bearer(admin.token)).expect(200);
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(admin.token)).expect(200);
    expect(status.body.status).toBe('connected');
  });

  it('turns into reauthorization_required when Microsoft revokes the grant, and reconnecting keeps the settings', async () => {
    ctx.emulator.store.revokeRefreshTokens({ tenantId: contoso.id });
    await expireAccessToken(ctx, admin.organizationId);
    const refused = await ctx
      .http()
      .post('/api/v1/integrations/entra/refresh')
      .set(bearer(admin.token))
      .expect(409);
    expect(refused.body.code).toBe('ENTRA_REAUTHORIZATION_REQUIRED');
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(admin.token)).expect(200);
    expect(status.body).toMatchObject({
      status: 'reauthorization_required',
      featuresActive: false,
      inactiveReason: 'reauthorization_required',
    });

    const again = await connectTenant(ctx, admin.token, adele.upn);
    expect(again.status).toBe('connected');
    const reconnected = await ctx
      .http()
      .get('/api/v1/integrations/entra')
      .set(bearer(admin.token))
      .expect(200);
    expect(reconnected.body).toMatchObject({
      status: 'connected',
      featuresActive: true,
      settings: { groupRoleMapping: true },
    });
  });

  it('refuses a second organization the same tenant, without saying who holds it', async () => {
    // Organization B is run by someone outside Contoso, who asks a Contoso administrator to consent.
    const secondAdmin = ctx.emulator.store.addUser({
      tenantId: contoso.id,
      userPrincipalName: 'it.admin@contoso.com',
      displayName: 'Second IT Admin',
      directoryRoles: [DEMO.roles.globalAdministrator],
    });
    const other = await ownerOfNewOrganization(ctx, DEMO.users.lee.upn);
    const result = await connectTenant(ctx, other.token, secondAdmin.userPrincipalName);
    expect(result.location).toBe(`${SETTINGS_PAGE}?status=error&code=tenant_already_connected`);
    expect(result.location).not.toContain(admin.organizationId);
    expect(await connectionRows(ctx, other.organizationId)).toHaveLength(0);
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(other.token)).expect(200);
    expect(status.body.status).toBe('not_connected');
  });

  it('after a plan downgrade keeps the connection but its features are inactive and settings locked', async () => {
    const organizations = ctx.app.get(OrganizationsService);
    await organizations.updateSubscription(admin.organizationId, { plan: 'team' }, SYSTEM_ACTOR);
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(admin.token)).expect(200);
    expect(status.body).toMatchObject({
      status: 'connected',
      featuresActive: false,
      inactiveReason: 'plan_required',
    });
    const locked = await ctx
      .http()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(admin.token))
      .send({ autoProvisionUsers: true });
    expect(locked.status).toBe(403);
    expect(locked.body).toMatchObject({ code: 'PLAN_REQUIRED', requiredPlan: 'enterprise' });
    await organizations.updateSubscription(admin.organizationId, { plan: 'enterprise' }, SYSTEM_ACTOR);
  });

  it('disconnects: tokens, tenant and domains are gone; users stay and still sign in with Microsoft', async () => {
    const meganId = await addMember(ctx, admin.organizationId, megan, contoso.id, 'manager');
    await ctx.http().delete('/api/v1/integrations/entra').set(bearer(admin.token)).expect(204);
    expect(await connectionRows(ctx, admin.organizationId)).toHaveLength(0);
    expect(await claimRows(ctx, admin.organizationId)).toEqual([]);
    expect(await ctx.app.get(DomainClaimsService).findOwner(contoso.id, 'contoso.com')).toBeNull();
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(admin.token)).expect(200);
    expect(status.body).toMatchObject({
      status: 'not_connected',
      tenantId: null,
      tenantName: null,
      verifiedDomains: [],
    });

    const users = await ctx.http().get('/api/v1/users').set(bearer(admin.token)).expect(200);
    expect(users.body.items.map((u: { id: string; role: string }) => [u.id, u.role])).toEqual(
      expect.arrayContaining([
        [admin.userId, 'owner'],
        [meganId, 'manager'],
      ]),
    );
    const signedIn = await signIn(ctx, megan.upn);
    expect(signedIn.error).toBeNull();
    const me = await ctx.http().get('/api/v1/me').set(bearer(signedIn.token)).expect(200);
    expect(me.body).toMatchObject({ id: meganId, organizationId: admin.organizationId, role: 'manager' });

    expect(
      (await ctx.http().delete('/api/v1/integrations/entra').set(bearer(admin.token)).expect(409)).body.code,
    ).toBe('ENTRA_NOT_CONNECTED');
    const settings = await ctx
      .http()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(admin.token))
      .send({ groupRoleMapping: true });
    expect(settings.status).toBe(409);
    expect(settings.body.code).toBe('ENTRA_NOT_CONNECTED');
    const audit = await ctx
      .http()
      .get('/api/v1/audit-events?action=entra.disconnected')
      .set(bearer(admin.token))
      .expect(200);
    expect(audit.body.items).toHaveLength(1);
  });
});

describe('failed connections store nothing', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('a user who cannot grant admin consent gets admin_consent_required', async () => {
    const member = await ownerOfNewOrganization(ctx, megan.upn);
    const result = await connectTenant(ctx, member.token, megan.upn);
    expect(result.location).toBe(`${SETTINGS_PAGE}?status=error&code=admin_consent_required`);
    expect(await connectionRows(ctx, member.organizationId)).toHaveLength(0);
  });

  it('an admin who declines gets consent_declined', async () => {
    const admin = await ownerOfNewOrganization(ctx, diego.upn);
    ctx.emulator.store.setConsentDecision('decline');
    try {
      const result = await connectTenant(ctx, admin.token, diego.upn);
      expect(result.code).toBe('consent_declined');
    } finally {
      ctx.emulator.store.setConsentDecision('accept');
    }
    expect(await connectionRows(ctx, admin.organizationId)).toHaveLength(0);
    const audit = await ctx
      .http()
      .get('/api/v1/audit-events?action=entra.connect_failed')
      .set(bearer(admin.token))
      .expect(200);
    expect(audit.body.items[0].after).toEqual({ code: 'consent_declined' });
  });

  it('a forged, expired, or someone else’s state gets invalid_state', async () => {
    const admin = await ownerOfNewOrganization(ctx, adele.upn);
    const start = async () => {
      const started = await ctx
        .http()
        .post('/api/v1/integrations/entra/connect')
        .set(bearer(admin.token))
        .expect(200);
      const url = new URL(started.body.authorizationUrl);
      url.searchParams.set('login_hint', adele.upn);
      const { followAuthorize } = await import('../support/sign-in.js');
      return followAuthorize(url.toString());
    };
    const callback = (redirect: URL, token: string | null) =>
      ctx.http().get(`${redirect.pathname}${redirect.search}`).set('Cookie', `session=${token}`);
    const codeOf = (response: { headers: Record<string, string> }) =>
      new URL(response.headers.location).searchParams.get('code');

    const forged = await start();
    forged.searchParams.set('state', randomUUID());
    expect(codeOf(await callback(forged, admin.token))).toBe('invalid_state');

    const expired = await start();
    await ctx.sql.query(
      "UPDATE auth_flows SET expires_at = now() - interval '1 second' WHERE purpose = 'connect'",
    );
    expect(codeOf(await callback(expired, admin.token))).toBe('invalid_state');

    // Bound to the admin who started it: another signed-in user cannot finish it into their session.
    const stolen = await start();
    const intruder = await ownerOfNewOrganization(ctx, DEMO.users.lee.upn);
    expect(codeOf(await callback(stolen, intruder.token))).toBe('invalid_state');
    expect(codeOf(await callback(stolen, null))).toBe('invalid_state');
    expect(await connectionRows(ctx, admin.organizationId)).toHaveLength(0);
    expect(await connectionRows(ctx, intruder.organizationId)).toHaveLength(0);

    // Nor can they burn it: the state is checked before it is spent, so the admin still finishes it once.
    const finished = await callback(stolen, admin.token);
    expect(new URL(finished.headers.location).searchParams.get('status')).toBe('connected');
    expect(codeOf(await callback(stolen, admin.token))).toBe('invalid_state');
    await ctx.http().delete('/api/v1/integrations/entra').set(bearer(admin.token)).expect(204);
    expect(await connectionRows(ctx, admin.organizationId)).toHaveLength(0);
  });

  it('a connect state presented at the sign-in callback is refused there and not spent', async () => {
    const admin = await ownerOfNewOrganization(ctx, adele.upn);
    const started = await ctx
      .http()
      .post('/api/v1/integrations/entra/connect')
      .set(bearer(admin.token))
      .expect(200);
    const url = new URL(started.body.authorizationUrl);
    url.searchParams.set('login_hint', adele.upn);
    const { followAuthorize } = await import('../support/sign-in.js');
    const redirect = await followAuthorize(url.toString());
    const atSignIn = await ctx
      .http()
      .get(`/auth/microsoft/callback${redirect.search}`)
      .set('Cookie', `session=${admin.token}`);
    expect(atSignIn.headers.location).toBe(`${APP_UI_URL}/sign-in?error=invalid_state`);

    const finished = await ctx
      .http()
      .get(`${redirect.pathname}${redirect.search}`)
      .set('Cookie', `session=${admin.token}`);
    expect(new URL(finished.headers.location).searchParams.get('status')).toBe('connected');
    await ctx.http().delete('/api/v1/integrations/entra').set(bearer(admin.token)).expect(204);
  });

  it('a Graph outage during the connection gets connection_failed', async () => {
    const admin = await ownerOfNewOrganization(ctx, adele.upn);
    ctx.emulator.store.addFault({ path: '/v1.0/organization', kind: 'status', status: 500, times: Infinity });
    try {
      const result = await connectTenant(ctx, admin.token, adele.upn);
      expect(result.code).toBe('connection_failed');
    } finally {
      ctx.emulator.store.clearFaults();
    }
    expect(await connectionRows(ctx, admin.organizationId)).toHaveLength(0);
  });

  it('verified domains another organization claims in the tenant get domains_claimed, without naming it', async () => {
    const admin = await ownerOfNewOrganization(ctx, adele.upn);
    const rival = await ctx.app.get(OrganizationsService).create('Contoso Consulting');
    const claims = ctx.app.get(DomainClaimsService);
    await claims.claim({
      organizationId: rival.id,
      tenantId: contoso.id,
      source: 'tenant_assignment',
      domains: [{ name: 'CONTOSO.com' }],
    });
    try {
      const result = await connectTenant(ctx, admin.token, adele.upn);
      expect(result.location).toBe(`${SETTINGS_PAGE}?status=error&code=domains_claimed`);
      expect(result.location).not.toContain(rival.id);
      expect(await connectionRows(ctx, admin.organizationId)).toHaveLength(0);
      expect(await claimRows(ctx, admin.organizationId)).toEqual([]);
      expect(await claims.findOwner(contoso.id, 'contoso.com')).toMatchObject({ organizationId: rival.id });
    } finally {
      await claims.release(rival.id, 'tenant_assignment');
    }
    // Once the rival lets go, the same admin connects.
    expect((await connectTenant(ctx, admin.token, adele.upn)).status).toBe('connected');
    expect(await claimRows(ctx, admin.organizationId)).toHaveLength(2);
    await ctx.http().delete('/api/v1/integrations/entra').set(bearer(admin.token)).expect(204);
  });
});

describe('who may connect', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('refuses Free and Team organizations with PLAN_REQUIRED naming the plan', async () => {
    for (const [user, plan] of [
      [adele, 'free'],
      [DEMO.users.lee, 'team'],
    ] as const) {
      const owner = await ownerOfNewOrganization(ctx, user.upn, plan);
      for (const call of [
        ctx.http().post('/api/v1/integrations/entra/connect'),
        ctx.http().patch('/api/v1/integrations/entra/settings').send({ autoProvisionUsers: true }),
      ]) {
        const response = await call.set(bearer(owner.token));
        expect(response.status).toBe(403);
        expect(response.headers['content-type']).toMatch(/problem\+json/);
        expect(response.body).toMatchObject({
          code: 'PLAN_REQUIRED',
          requiredPlan: 'enterprise',
          currentPlan: plan,
        });
      }
    }
  });

  it('refuses Managers and Employees with INSUFFICIENT_ROLE', async () => {
    const owner = await ownerOfNewOrganization(ctx, diego.upn);
    const manager = ctx.emulator.store.addUser({
      tenantId: DEMO.tenants.fabrikam.id,
      userPrincipalName: 'pat@fabrikam.com',
      displayName: 'Pat',
    });
    for (const [member, role] of [
      [{ id: manager.id, upn: manager.userPrincipalName, displayName: manager.displayName }, 'manager'],
      [megan, 'employee'],
    ] as const) {
      await addMember(
        ctx,
        owner.organizationId,
        member,
        member === megan ? contoso.id : DEMO.tenants.fabrikam.id,
        role,
      );
      const { token } = await signIn(ctx, member.upn);
      for (const call of [
        ctx.http().get('/api/v1/integrations/entra'),
        ctx.http().post('/api/v1/integrations/entra/connect'),
        ctx.http().patch('/api/v1/integrations/entra/settings').send({ autoProvisionUsers: true }),
        ctx.http().post('/api/v1/integrations/entra/refresh'),
        ctx.http().delete('/api/v1/integrations/entra'),
      ]) {
        const response = await call.set(bearer(token));
        expect(response.status).toBe(403);
        expect(response.body.code).toBe('INSUFFICIENT_ROLE');
      }
    }
  });
});

describe('only a tenant administrator can bind a tenant', () => {
  let ctx: TestContext;
  let admin: Awaited<ReturnType<typeof ownerOfNewOrganization>>;
  let member: Awaited<ReturnType<typeof ownerOfNewOrganization>>;

  const disconnect = (token: string) =>
    ctx.http().delete('/api/v1/integrations/entra').set(bearer(token)).expect(204);
  const failedConnects = async (token: string) =>
    (
      await ctx.http().get('/api/v1/audit-events?action=entra.connect_failed').set(bearer(token)).expect(200)
    ).body.items.map((e: { after: { code: string } }) => e.after.code);

  beforeAll(async () => {
    ctx = await createTestContext();
    // Both own an organization here before the tenant is connected anywhere.
    admin = await ownerOfNewOrganization(ctx, adele.upn);
    member = await ownerOfNewOrganization(ctx, megan.upn);
    // Adele grants tenant-wide consent once; it stays granted at Microsoft after the disconnect.
    expect((await connectTenant(ctx, admin.token, adele.upn)).status).toBe('connected');
    await disconnect(admin.token);
  });
  afterAll(() => ctx?.close());

  it('a member without an admin role, after the consent was granted, gets admin_role_required and nothing is stored', async () => {
    const result = await connectTenant(ctx, member.token, megan.upn);
    expect(result.location).toBe(`${SETTINGS_PAGE}?status=error&code=admin_role_required`);
    expect(await connectionRows(ctx, member.organizationId)).toHaveLength(0);
    expect(await failedConnects(member.token)).toEqual(['admin_role_required']);

    // The tenant is still free for the real administrator.
    expect((await connectTenant(ctx, admin.token, adele.upn)).status).toBe('connected');
    await disconnect(admin.token);
  });

  it.each([
    ['Global Administrator', DEMO.roles.globalAdministrator],
    ['Privileged Role Administrator', DEMO.roles.privilegedRoleAdministrator],
    ['Application Administrator', DEMO.roles.applicationAdministrator],
    ['Cloud Application Administrator', DEMO.roles.cloudApplicationAdministrator],
  ])('accepts a %s', async (role, templateId) => {
    const user = ctx.emulator.store.addUser({
      tenantId: contoso.id,
      userPrincipalName: `${role.toLowerCase().replace(/ /g, '.')}@contoso.com`,
      displayName: role,
      directoryRoles: [templateId],
    });
    const owner = await ownerOfNewOrganization(ctx, user.userPrincipalName);
    const result = await connectTenant(ctx, owner.token, user.userPrincipalName);
    expect(result.status).toBe('connected');
    const audit = await ctx
      .http()
      .get('/api/v1/audit-events?action=entra.connected')
      .set(bearer(owner.token))
      .expect(200);
    expect(audit.body.items[0].after).toMatchObject({ tenantId: contoso.id, administratorRole: role });
    await disconnect(owner.token);
  });

  it.each([
    ['Helpdesk Administrator', '729827e3-9c14-49f7-bb1b-9608f156bbb8'],
    ['User Administrator', 'fe930be7-5e62-47db-91af-98c3a49a38b1'],
    ['Global Reader', DEMO.roles.globalReader],
  ])('refuses a %s', async (role, templateId) => {
    const user = ctx.emulator.store.addUser({
      tenantId: contoso.id,
      userPrincipalName: `${role.toLowerCase().replace(/ /g, '.')}@contoso.com`,
      displayName: role,
      directoryRoles: [templateId],
    });
    const owner = await ownerOfNewOrganization(ctx, user.userPrincipalName);
    const result = await connectTenant(ctx, owner.token, user.userPrincipalName);
    expect(result.code).toBe('admin_role_required');
    expect(await connectionRows(ctx, owner.organizationId)).toHaveLength(0);
  });

  it('a token without a wids claim gets roles_claim_missing, even for a Global Administrator', async () => {
    ctx.emulator.store.setNextIdTokenOverride({ removeClaims: ['wids'] });
    const result = await connectTenant(ctx, admin.token, adele.upn);
    expect(result.code).toBe('roles_claim_missing');
    expect(await connectionRows(ctx, admin.organizationId)).toHaveLength(0);
    expect(await failedConnects(admin.token)).toContain('roles_claim_missing');
  });
});
