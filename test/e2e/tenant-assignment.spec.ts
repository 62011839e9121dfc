import { DEMO, MSA_TENANT_ID, ROLE } from '@entra-integration/entra-emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import type { Plan } from '../../src/common/access.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { directoryUser, ownerOf, type TestOwner } from '../support/factory.js';
import { bearer, connectTenant, signIn } from '../support/sign-in.js';
import {
  assignmentStatus,
  finishVerification,
  signInAtMicrosoft,
  startVerification,
  verifyTenantAssignment,
} from '../support/tenant-assignment.js';
import { createTestContext, type TestContext } from '../support/test-app.js';
import { seatCountDrift } from '../support/seat-counts.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx?.close());
// Every status change keeps the organization's seat counts exact.
afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

let tenantCount = 0;

/**
 * A Microsoft tenant of its own for each scenario: `name.test` and its subdomains are verified there, and
 * `ada@<name>.test` is its Global Administrator.
 */
function newTenant(name: string) {
  tenantCount += 1;
  const root = `${name}${tenantCount}.test`;
  const tenant = ctx.emulator.store.addTenant({
    displayName: name,
    verifiedDomains: [root, `consulting.${root}`, `eu.${root}`, `${name}${tenantCount}.onmicrosoft.com`],
  });
  const user = (local: string, extra: Record<string, unknown> = {}, domain = root) => {
    const upn = `${local}@${domain}`;
    directoryUser(ctx, upn, extra, tenant.id);
    return upn;
  };
  const admin = user('ada', { directoryRoles: [ROLE.globalAdministrator], displayName: 'Ada Admin' });
  const initial = `${name}${tenantCount}.onmicrosoft.com`;
  /** A B2B guest of this tenant from Fabrikam, signing in with their home address `mail`. */
  const guest = (local: string, mail: string, extra: Record<string, unknown> = {}) => {
    directoryUser(
      ctx,
      `${local}_fabrikam.com#EXT#@${initial}`,
      { userType: 'Guest', homeTenantId: DEMO.tenants.fabrikam.id, mail, ...extra },
      tenant.id,
    );
    return mail;
  };
  return { id: tenant.id, root, consulting: `consulting.${root}`, eu: `eu.${root}`, user, admin, guest };
}

async function organizationOf(upn: string, plan: Plan = 'team', seatLimit = 100): Promise<TestOwner> {
  return ownerOf(ctx, upn, { plan, seatLimit });
}

async function me(token: string | null) {
  return (await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200)).body as {
    id: string;
    organizationId: string;
    status: string;
    role: string;
  };
}

async function auditActions(owner: TestOwner, action: string) {
  const response = await ctx
    .http()
    .get(`/api/v1/audit-events?action=${action}`)
    .set(bearer(owner.token))
    .expect(200);
  return response.body.items as { action: string; after: Record<string, unknown> | null }[];
}

const claimsOf = async (tenantId: string) =>
  (
    await ctx.sql.query(
      'SELECT domain, organization_id, source FROM domain_claims WHERE tenant_id = $1 ORDER BY domain',
      [tenantId],
    )
  ).rows as { domain: string; organization_id: string; source: string }[];

describe('Save & Verify', () => {
  it('is for Owners and Admins of a paid plan', async () => {
    const acme = newTenant('plans');
    const free = await organizationOf(acme.admin, 'free');
    const refused = await startVerification(ctx, free.token, [acme.root]);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'PLAN_REQUIRED', requiredPlan: 'team', currentPlan: 'free' });
    // Reading it is fine on any plan: it shows the tenant it would be for.
    expect(await assignmentStatus(ctx, free.token)).toMatchObject({
      status: 'disabled',
      tenantId: acme.id,
      domains: [],
      verifiedBy: null,
    });
  });

  it('asks Microsoft for a fresh sign-in at the organization’s tenant, with no Graph permission', async () => {
    const acme = newTenant('authorize');
    const owner = await organizationOf(acme.admin);
    const started = await startVerification(ctx, owner.token, [acme.root]);
    expect(started.status).toBe(200);
    const url = new URL(started.body.authorizationUrl as string);
    expect(url.pathname).toBe(`/${acme.id}/oauth2/v2.0/authorize`);
    expect(url.searchParams.get('scope')!.split(' ').sort()).toEqual(['openid', 'profile']);
    expect(url.searchParams.get('prompt')).toBe('login');
    expect(url.searchParams.get('max_age')).toBe('0');
    expect(url.searchParams.get('redirect_uri')).toBe(
      `${ctx.config.appBaseUrl}/auth/microsoft/assignment/callback`,
    );
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    for (const param of ['state', 'nonce', 'code_challenge'])
      expect(url.searchParams.get(param)).toBeTruthy();
    expect(await assignmentStatus(ctx, owner.token)).toMatchObject({
      status: 'pending_verification',
      domains: [],
    });
  });

  it('takes two Saves at once (two tabs), each with its own sign-in link', async () => {
    const acme = newTenant('tabs');
    const owner = await organizationOf(acme.admin);
    const [one, two] = await Promise.all([
      startVerification(ctx, owner.token, [acme.root]),
      startVerification(ctx, owner.token, [acme.root, acme.eu]),
    ]);
    expect([one.status, two.status]).toEqual([200, 200]);
    expect(one.body.authorizationUrl).not.toBe(two.body.authorizationUrl);
    // Each link verifies what it was started for.
    const redirect = await signInAtMicrosoft(two.body.authorizationUrl as string, acme.admin);
    expect((await finishVerification(ctx, redirect, owner.token)).status).toBe('enabled');
    expect((await assignmentStatus(ctx, owner.token)).domains).toEqual([acme.root, acme.eu]);
  });

  it('refuses invalid names and public mail domains, naming each offending entry, before any sign-in', async () => {
    const acme = newTenant('invalid');
    const owner = await organizationOf(acme.admin);
    const refused = await startVerification(ctx, owner.token, [
      acme.root,
      'Gmail.com',
      'outlook.com',
      `*.${acme.root}`,
      'localhost',
    ]);
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('VALIDATION_FAILED');
    expect((refused.body.errors as { field: string }[]).map((e) => e.field)).toEqual([
      'domains[1]',
      'domains[2]',
      'domains[3]',
      'domains[4]',
    ]);
    expect(JSON.stringify(refused.body.errors)).toContain('public mail domain');
    expect((await startVerification(ctx, owner.token, [])).status).toBe(400);
    expect(await assignmentStatus(ctx, owner.token)).toMatchObject({ status: 'disabled' });
  });

  it('enables it on a tenant administrator’s fresh sign-in, recording who verified it, and audits it', async () => {
    const acme = newTenant('enable');
    const owner = await organizationOf(acme.admin);
    // An old sign-on session at Microsoft is not enough: prompt=login makes the administrator sign in again.
    const adminId = ctx.emulator.store.users.find((u) => u.userPrincipalName === acme.admin)!.id;
    ctx.emulator.store.recordAuthentication(adminId, ctx.emulator.store.now() - 3_600_000);
    const outcome = await verifyTenantAssignment(ctx, owner.token, acme.admin, [
      `${acme.root.toUpperCase()}`,
      acme.eu,
    ]);
    expect(outcome.location).toBe(`${ctx.config.appUiUrl}/settings/tenant-assignment?status=enabled`);
    const status = await assignmentStatus(ctx, owner.token);
    expect(status).toMatchObject({
      status: 'enabled',
      tenantId: acme.id,
      domains: [acme.root, acme.eu],
      autoActivate: false,
      verifiedBy: { name: 'Ada Admin', userPrincipalName: acme.admin, role: 'Global Administrator' },
    });
    expect(Date.now() - new Date(status.verifiedAt!).getTime()).toBeLessThan(60_000);
    expect(await claimsOf(acme.id)).toEqual([
      { domain: acme.root, organization_id: owner.organizationId, source: 'tenant_assignment' },
      { domain: acme.eu, organization_id: owner.organizationId, source: 'tenant_assignment' },
    ]);
    const [event] = await auditActions(owner, 'tenant_assignment.enabled');
    expect(event.after).toMatchObject({
      domains: [acme.root, acme.eu],
      verifiedBy: { role: 'Global Administrator' },
    });
  });

  it('accepts each of the four tenant administrator roles', async () => {
    const acme = newTenant('roles');
    const owner = await organizationOf(acme.admin);
    const roles = [
      [ROLE.privilegedRoleAdministrator, 'Privileged Role Administrator'],
      [ROLE.applicationAdministrator, 'Application Administrator'],
      [ROLE.cloudApplicationAdministrator, 'Cloud Application Administrator'],
    ] as const;
    for (const [templateId, name] of roles) {
      const admin = acme.user(`admin-${templateId.slice(0, 6)}`, { directoryRoles: [templateId] });
      const outcome = await verifyTenantAssignment(ctx, owner.token, admin, [acme.root]);
      expect(outcome.status).toBe('enabled');
      expect((await assignmentStatus(ctx, owner.token)).verifiedBy).toMatchObject({ role: name });
    }
  });
});

describe('a verification that fails changes nothing', () => {
  let acme: ReturnType<typeof newTenant>;
  let owner: TestOwner;

  beforeAll(async () => {
    acme = newTenant('codes');
    owner = await organizationOf(acme.admin);
    expect((await verifyTenantAssignment(ctx, owner.token, acme.admin, [acme.root])).status).toBe('enabled');
  });

  /** Tries to add the eu subdomain; asserts the failure left the enabled assignment as it was. */
  async function failsWith(
    code: string,
    loginHint: string,
    options: Parameters<typeof verifyTenantAssignment>[4] = {},
  ) {
    const outcome = await verifyTenantAssignment(ctx, owner.token, loginHint, [acme.root, acme.eu], options);
    expect(outcome.location).toBe(
      `${ctx.config.appUiUrl}/settings/tenant-assignment?status=error&code=${code}`,
    );
    expect(await assignmentStatus(ctx, owner.token)).toMatchObject({
      status: 'enabled',
      domains: [acme.root],
    });
    expect((await claimsOf(acme.id)).map((c) => c.domain)).toEqual([acme.root]);
    const [event] = await auditActions(owner, 'tenant_assignment.verification_failed');
    expect(event.after).toMatchObject({ code });
  }

  it('not_tenant_admin: a member without an administrator role, or with one that cannot consent', async () => {
    await failsWith('not_tenant_admin', acme.user('mia'));
    await failsWith('not_tenant_admin', acme.user('hal', { directoryRoles: [ROLE.helpdeskAdministrator] }));
    await failsWith('not_tenant_admin', acme.user('uma', { directoryRoles: [ROLE.userAdministrator] }));
  });

  it('roles_claim_missing: a token without a wids claim at all', async () => {
    await failsWith('roles_claim_missing', acme.admin, { idToken: { removeClaims: ['wids'] } });
  });

  it('stale_sign_in: an auth_time older than ten minutes, or no auth_time and an old iat', async () => {
    const eleven = Math.floor(Date.now() / 1000) - 11 * 60;
    await failsWith('stale_sign_in', acme.admin, { idToken: { claims: { auth_time: eleven } } });
    // Without auth_time the token's iat decides; an old iat still validates within its lifetime.
    await failsWith('stale_sign_in', acme.admin, {
      idToken: { removeClaims: ['auth_time'], claims: { iat: eleven, nbf: eleven } },
    });
  });

  it('tenant_mismatch: a guest, a personal account, or another tenant’s account', async () => {
    const guest = acme.guest('gil', `gil@${acme.root}`, { directoryRoles: [ROLE.globalAdministrator] });
    await failsWith('tenant_mismatch', guest);
    const other = DEMO.tenants.fabrikam.id;
    await failsWith('tenant_mismatch', acme.admin, {
      idToken: { claims: { tid: other, iss: `${ctx.emulator.url}/${other}/v2.0` } },
    });
    await failsWith('tenant_mismatch', acme.admin, {
      idToken: { claims: { tid: MSA_TENANT_ID, iss: `${ctx.emulator.url}/${MSA_TENANT_ID}/v2.0` } },
    });
  });

  it('invalid_state: a callback in another user’s session, or without one, spends nothing', async () => {
    const other = await organizationOf(newTenant('other').admin);
    const started = await startVerification(ctx, owner.token, [acme.root, acme.eu]);
    const redirect = await signInAtMicrosoft(started.body.authorizationUrl as string, acme.admin);
    expect((await finishVerification(ctx, redirect, other.token)).code).toBe('invalid_state');
    expect((await finishVerification(ctx, redirect, null)).code).toBe('invalid_state');
    // The flow was not burnt: its own user still finishes it.
    expect((await finishVerification(ctx, redirect, owner.token)).status).toBe('enabled');
    expect((await assignmentStatus(ctx, owner.token)).domains).toEqual([acme.root, acme.eu]);
    // A flow is single use.
    expect((await finishVerification(ctx, redirect, owner.token)).code).toBe('invalid_state');
  });

  it('verification_cancelled: the administrator cancelled at Microsoft', async () => {
    const started = await startVerification(ctx, owner.token, [acme.root]);
    const state = new URL(started.body.authorizationUrl as string).searchParams.get('state')!;
    const redirect = new URL(`${ctx.config.appBaseUrl}/auth/microsoft/assignment/callback`);
    redirect.search = new URLSearchParams({
      error: 'access_denied',
      error_description: 'AADSTS65004',
      state,
    }).toString();
    expect((await finishVerification(ctx, redirect, owner.token)).code).toBe('verification_cancelled');
  });
});

describe('two organizations of one tenant', () => {
  let acme: ReturnType<typeof newTenant>;
  let hq: TestOwner;
  let consulting: TestOwner;

  beforeAll(async () => {
    acme = newTenant('acme');
    hq = await organizationOf(acme.admin);
    consulting = await organizationOf(acme.user('cleo', {}, `consulting.${acme.root}`));
  });

  it('with disjoint domains: each new member lands in the right one, case-insensitively', async () => {
    expect(
      (await verifyTenantAssignment(ctx, hq.token, acme.admin, [acme.root], { autoActivate: true })).status,
    ).toBe('enabled');
    expect(
      (
        await verifyTenantAssignment(ctx, consulting.token, acme.admin, [acme.consulting], {
          autoActivate: true,
        })
      ).status,
    ).toBe('enabled');
    const dan = await signIn(ctx, acme.user('dan'));
    expect(await me(dan.token)).toMatchObject({
      organizationId: hq.organizationId,
      status: 'active',
      role: 'employee',
    });
    const eve = await signIn(ctx, acme.user('eve', {}, acme.consulting));
    expect((await me(eve.token)).organizationId).toBe(consulting.organizationId);
    const gus = await signIn(ctx, acme.user('Gus', {}, acme.root.toUpperCase()));
    expect((await me(gus.token)).organizationId).toBe(hq.organizationId);
    const [created] = await auditActions(hq, 'user.created');
    expect(created.after).toMatchObject({ source: 'tenant_assignment', tenantId: acme.id, status: 'active' });
  });

  it('never by an implicit subdomain, a guest, or another tenant’s user on a listed domain', async () => {
    const fay = await signIn(ctx, acme.user('fay', {}, acme.eu));
    const landed = [await me(fay.token)];
    // A guest of the tenant whose home address is on a listed domain.
    landed.push(await me((await signIn(ctx, acme.guest('ivy', `ivy@${acme.root}`))).token));
    // Another tenant's member whose sign-in name is on a listed domain.
    const outsider = `joe@${acme.root}`;
    directoryUser(ctx, outsider, {}, DEMO.tenants.fabrikam.id);
    landed.push(await me((await signIn(ctx, outsider)).token));
    for (const user of landed) {
      expect([hq.organizationId, consulting.organizationId]).not.toContain(user.organizationId);
      expect(user.role).toBe('owner');
    }
  });

  it('conflict: a domain the other holds is refused at Save (409), listing only the domain', async () => {
    const refused = await startVerification(ctx, consulting.token, [acme.consulting, acme.root]);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'DOMAINS_CLAIMED', domains: [acme.root] });
    expect(JSON.stringify(refused.body)).not.toContain(hq.organizationId);
  });

  it('conflict the other way round: a domain claimed between Save and the callback fails it, changing nothing', async () => {
    const started = await startVerification(ctx, consulting.token, [acme.consulting, acme.eu]);
    expect(started.status).toBe(200);
    expect((await verifyTenantAssignment(ctx, hq.token, acme.admin, [acme.root, acme.eu])).status).toBe(
      'enabled',
    );
    const redirect = await signInAtMicrosoft(started.body.authorizationUrl as string, acme.admin);
    const outcome = await finishVerification(ctx, redirect, consulting.token);
    expect(outcome).toMatchObject({ status: 'error', code: 'domains_claimed', domains: acme.eu });
    expect((await assignmentStatus(ctx, consulting.token)).domains).toEqual([acme.consulting]);
  });

  it('a race between two organizations ends with exactly one winner', async () => {
    const contested = `race.${acme.root}`;
    const one = await startVerification(ctx, hq.token, [acme.root, acme.eu, contested]);
    const two = await startVerification(ctx, consulting.token, [acme.consulting, contested]);
    const redirects = [
      await signInAtMicrosoft(one.body.authorizationUrl as string, acme.admin),
      await signInAtMicrosoft(two.body.authorizationUrl as string, acme.admin),
    ];
    const outcomes = await Promise.all([
      finishVerification(ctx, redirects[0], hq.token),
      finishVerification(ctx, redirects[1], consulting.token),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['enabled', 'error']);
    expect(outcomes.find((o) => o.status === 'error')).toMatchObject({
      code: 'domains_claimed',
      domains: contested,
    });
    const holders = (await claimsOf(acme.id)).filter((c) => c.domain === contested);
    expect(holders).toHaveLength(1);
  });

  it('removing a domain needs no sign-in and frees it; adding one is refused without Save & Verify', async () => {
    const added = await ctx
      .http()
      .patch('/api/v1/tenant-assignment')
      .set(bearer(consulting.token))
      .send({ domains: [acme.consulting, 'new.example.org'] });
    expect(added.status).toBe(400);
    expect(added.body).toMatchObject({ code: 'DOMAINS_REQUIRE_VERIFICATION', domains: ['new.example.org'] });

    const hqStatus = await assignmentStatus(ctx, hq.token);
    const kept = hqStatus.domains.filter((d) => d !== acme.eu);
    const removed = await ctx
      .http()
      .patch('/api/v1/tenant-assignment')
      .set(bearer(hq.token))
      .send({ domains: kept.map((d) => d.toUpperCase()) })
      .expect(200);
    expect(removed.body).toMatchObject({ status: 'enabled', domains: kept });
    expect((await claimsOf(acme.id)).find((c) => c.domain === acme.eu)).toBeUndefined();
    expect((await startVerification(ctx, consulting.token, [acme.consulting, acme.eu])).status).toBe(200);
    const [event] = await auditActions(hq, 'tenant_assignment.updated');
    expect(event.after).toMatchObject({ domains: kept });
  });
});

describe('activation of tenant-assigned users', () => {
  let acme: ReturnType<typeof newTenant>;
  let owner: TestOwner;

  beforeAll(async () => {
    acme = newTenant('activation');
    owner = await organizationOf(acme.admin);
    expect((await verifyTenantAssignment(ctx, owner.token, acme.admin, [acme.root])).status).toBe('enabled');
  });

  it('auto-activate off (the default): the user waits for approval and cannot sign in until activated', async () => {
    const kim = acme.user('kim');
    const first = await signIn(ctx, kim);
    expect(first.location).toBe(
      `${ctx.config.appUiUrl}/sign-in?error=account_pending&reason=awaiting_approval`,
    );
    expect(first.token).toBeNull();
    const pending = await ctx.http().get('/api/v1/users?status=pending').set(bearer(owner.token)).expect(200);
    expect(pending.body.items).toEqual([
      expect.objectContaining({
        email: kim,
        status: 'pending',
        pendingReason: 'awaiting_approval',
        queuePosition: null,
      }),
    ]);
    const seats = await ctx.http().get('/api/v1/organization').set(bearer(owner.token)).expect(200);
    expect(seats.body.seatsUsed).toBe(1);
    expect((await signIn(ctx, kim)).error).toBe('account_pending');

    const id = pending.body.items[0].id as string;
    const activated = await ctx
      .http()
      .post(`/api/v1/users/${id}/activate`)
      .set(bearer(owner.token))
      .expect(200);
    expect(activated.body).toMatchObject({ status: 'active', pendingReason: null });
    expect((await ctx.http().post(`/api/v1/users/${id}/activate`).set(bearer(owner.token))).body.code).toBe(
      'INVALID_USER_STATE',
    );
    expect(await me((await signIn(ctx, kim)).token)).toMatchObject({
      organizationId: owner.organizationId,
      status: 'active',
    });
  });

  it('switching auto-activate on applies to new arrivals; those awaiting approval stay pending', async () => {
    const lou = acme.user('lou');
    expect((await signIn(ctx, lou)).error).toBe('account_pending');
    await ctx
      .http()
      .patch('/api/v1/tenant-assignment')
      .set(bearer(owner.token))
      .send({ autoActivate: true })
      .expect(200);
    const max = acme.user('max');
    expect(await me((await signIn(ctx, max)).token)).toMatchObject({ status: 'active' });
    expect((await signIn(ctx, lou)).location).toContain('error=account_pending&reason=awaiting_approval');
  });

  it('only Owners and Admins activate, and no seat means 409 SEAT_LIMIT_REACHED', async () => {
    const ned = acme.user('ned');
    await ctx
      .http()
      .patch('/api/v1/tenant-assignment')
      .set(bearer(owner.token))
      .send({ autoActivate: false })
      .expect(200);
    await signIn(ctx, ned);
    const pending = await ctx.http().get('/api/v1/users?status=pending').set(bearer(owner.token)).expect(200);
    const nedId = (pending.body.items as { id: string; email: string }[]).find((u) => u.email === ned)!.id;
    const organizations = ctx.app.get(OrganizationsService);
    const used = (await ctx.http().get('/api/v1/organization').set(bearer(owner.token)).expect(200)).body
      .seatsUsed;
    await organizations.updateSubscription(owner.organizationId, { seatLimit: used }, SYSTEM_ACTOR);
    const full = await ctx.http().post(`/api/v1/users/${nedId}/activate`).set(bearer(owner.token));
    expect(full.status).toBe(409);
    expect(full.body).toMatchObject({ code: 'SEAT_LIMIT_REACHED', seatLimit: used });
    // Raising the limit does not approve anyone: approval is an administrator's.
    await organizations.updateSubscription(owner.organizationId, { seatLimit: 100 }, SYSTEM_ACTOR);
    expect(
      (await ctx.http().get(`/api/v1/users/${nedId}`).set(bearer(owner.token)).expect(200)).body.status,
    ).toBe('pending');
    const employee = (await signIn(ctx, `max@${acme.root}`)).token;
    expect((await me(employee)).role).toBe('employee');
    const denied = await ctx.http().post(`/api/v1/users/${nedId}/activate`).set(bearer(employee));
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('INSUFFICIENT_ROLE');
  });
});

describe('disable, downgrade and upgrade', () => {
  let acme: ReturnType<typeof newTenant>;
  let owner: TestOwner;

  beforeAll(async () => {
    acme = newTenant('lifecycle');
    owner = await organizationOf(acme.admin);
    expect(
      (await verifyTenantAssignment(ctx, owner.token, acme.admin, [acme.root], { autoActivate: true }))
        .status,
    ).toBe('enabled');
  });

  it('a downgrade to free suspends it (sign-ins are no longer assigned); an upgrade resumes it', async () => {
    const organizations = ctx.app.get(OrganizationsService);
    await organizations.updateSubscription(owner.organizationId, { plan: 'free' }, SYSTEM_ACTOR);
    expect(await assignmentStatus(ctx, owner.token)).toMatchObject({
      status: 'suspended',
      domains: [acme.root],
    });
    const elsewhere = await me((await signIn(ctx, acme.user('oli'))).token);
    expect(elsewhere.organizationId).not.toBe(owner.organizationId);
    // The domains stay claimed while suspended, so the upgrade resumes without a conflict.
    expect((await claimsOf(acme.id)).map((c) => c.organization_id)).toEqual([owner.organizationId]);
    await organizations.updateSubscription(owner.organizationId, { plan: 'team' }, SYSTEM_ACTOR);
    expect((await assignmentStatus(ctx, owner.token)).status).toBe('enabled');
    expect((await me((await signIn(ctx, acme.user('pia'))).token)).organizationId).toBe(owner.organizationId);
  });

  it('disable clears the list and releases the claims; assigned users keep their accounts and seats', async () => {
    const pia = await me((await signIn(ctx, `pia@${acme.root}`)).token);
    await ctx.http().delete('/api/v1/tenant-assignment').set(bearer(owner.token)).expect(204);
    expect(await assignmentStatus(ctx, owner.token)).toMatchObject({
      status: 'disabled',
      domains: [],
      verifiedBy: null,
    });
    expect(await claimsOf(acme.id)).toEqual([]);
    const again = await me((await signIn(ctx, `pia@${acme.root}`)).token);
    expect(again).toMatchObject({ id: pia.id, organizationId: owner.organizationId, status: 'active' });
    const newcomer = await me((await signIn(ctx, acme.user('quinn'))).token);
    expect(newcomer.organizationId).not.toBe(owner.organizationId);
    const [event] = await auditActions(owner, 'tenant_assignment.disabled');
    expect(event).toBeDefined();
    await ctx.http().delete('/api/v1/tenant-assignment').set(bearer(owner.token)).expect(204);
  });
});

describe('with the Entra connection’s auto-provisioning claims', () => {
  let contosoOwner: TestOwner;

  it('a connected tenant’s verified domains are claimed: another organization cannot publish them', async () => {
    contosoOwner = await ownerOf(ctx, DEMO.users.adele.upn, { plan: 'enterprise', seatLimit: 100 });
    expect((await connectTenant(ctx, contosoOwner.token, DEMO.users.adele.upn)).status).toBe('connected');
    // The connected organization's own tenant is its connection's.
    expect((await assignmentStatus(ctx, contosoOwner.token)).tenantId).toBe(DEMO.tenants.contoso.id);
    const rival = directoryUser(ctx, 'rita@eu.contoso.com', { directoryRoles: [ROLE.globalAdministrator] });
    const rivalOrg = await organizationOf(rival.userPrincipalName);
    const refused = await startVerification(ctx, rivalOrg.token, ['contoso.com', 'eu.contoso.com']);
    expect(refused.body).toMatchObject({ code: 'DOMAINS_CLAIMED', domains: ['contoso.com'] });
    // A domain the connection does not verify is free to publish, and its users land there.
    expect(
      (
        await verifyTenantAssignment(ctx, rivalOrg.token, rival.userPrincipalName, ['eu.contoso.com'], {
          autoActivate: true,
        })
      ).status,
    ).toBe('enabled');
    directoryUser(ctx, 'sam@eu.contoso.com');
    expect((await me((await signIn(ctx, 'sam@eu.contoso.com')).token)).organizationId).toBe(
      rivalOrg.organizationId,
    );
  });

  it('the connected organization may publish its own verified domains: assignment admits when auto-provisioning is off', async () => {
    const settings = (body: object) =>
      ctx
        .http()
        .patch('/api/v1/integrations/entra/settings')
        .set(bearer(contosoOwner.token))
        .send(body)
        .expect(200);
    await settings({ autoProvisionUsers: false });
    directoryUser(ctx, 'tia@contoso.com');
    expect((await signIn(ctx, 'tia@contoso.com')).error).toBe('invitation_required');

    const outcome = await verifyTenantAssignment(ctx, contosoOwner.token, DEMO.users.adele.upn, [
      'contoso.com',
    ]);
    expect(outcome.status).toBe('enabled');
    // Through the assignment: waits for approval, in the connected organization, not a new one.
    expect((await signIn(ctx, 'tia@contoso.com')).location).toContain(
      'error=account_pending&reason=awaiting_approval',
    );
    const pending = await ctx
      .http()
      .get('/api/v1/users?status=pending')
      .set(bearer(contosoOwner.token))
      .expect(200);
    expect(pending.body.items.map((u: { email: string }) => u.email)).toEqual(['tia@contoso.com']);

    // Auto-provisioning, once on, admits at once: the connection's route comes first.
    await settings({ autoProvisionUsers: true });
    directoryUser(ctx, 'ugo@contoso.com');
    expect(await me((await signIn(ctx, 'ugo@contoso.com')).token)).toMatchObject({
      organizationId: contosoOwner.organizationId,
      status: 'active',
    });

    // Disabling the assignment releases its claims only: the connection's verified domains stay claimed.
    await ctx.http().delete('/api/v1/tenant-assignment').set(bearer(contosoOwner.token)).expect(204);
    expect((await claimsOf(DEMO.tenants.contoso.id)).filter((c) => c.domain === 'contoso.com')).toEqual([
      {
        domain: 'contoso.com',
        organization_id: contosoOwner.organizationId,
        source: 'entra_verified_domain',
      },
    ]);
  });

  it('a tenant whose verified domain another organization published cannot be connected (domains_claimed)', async () => {
    const acme = newTenant('interplay');
    const consulting = await organizationOf(
      acme.user('cy', { directoryRoles: [ROLE.globalAdministrator] }, acme.consulting),
    );
    expect((await verifyTenantAssignment(ctx, consulting.token, acme.admin, [acme.consulting])).status).toBe(
      'enabled',
    );
    const hq = await organizationOf(acme.admin, 'enterprise');
    const connected = await connectTenant(ctx, hq.token, acme.admin);
    expect(connected).toMatchObject({ status: 'error', code: 'domains_claimed' });
  });

  it('MICROSOFT_SIGN_IN_REQUIRED for an Owner without a Microsoft account', async () => {
    const acme = newTenant('nosignin');
    const owner = await organizationOf(acme.admin);
    await ctx.sql.query('DELETE FROM microsoft_identities WHERE user_id = $1', [owner.userId]);
    const refused = await startVerification(ctx, owner.token, [acme.root]);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('MICROSOFT_SIGN_IN_REQUIRED');
  });
});
