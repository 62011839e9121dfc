import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { DEMO } from '@entra-integration/entra-emulator';
import { directoryUser, ownerOf, type TestOwner } from '../support/factory.js';
import { bearer, connectTenant, signIn } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';
import { seatCountDrift } from '../support/seat-counts.js';

const contoso = DEMO.tenants.contoso;

type Owner = TestOwner;
const contosoUser = (ctx: TestContext, upn: string, extra: Record<string, unknown> = {}) =>
  directoryUser(ctx, upn, extra);

async function me(ctx: TestContext, token: string | null) {
  return (await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200)).body;
}

describe('auto-provisioning into the connected organization', () => {
  let ctx: TestContext;
  let owner: Owner;
  const settings = (body: object) =>
    ctx.http().patch('/api/v1/integrations/entra/settings').set(bearer(owner.token)).send(body).expect(200);

  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await ownerOf(ctx, DEMO.users.adele.upn, { plan: 'enterprise' });
    expect((await connectTenant(ctx, owner.token, DEMO.users.adele.upn)).status).toBe('connected');
    await ctx.sql.query('UPDATE organizations SET seat_limit = 50 WHERE id = $1', [owner.organizationId]);
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('lets a member of a verified domain join as Employee, without an invitation', async () => {
    await settings({ autoProvisionUsers: true });
    const result = await signIn(ctx, DEMO.users.megan.upn);
    expect(result.error).toBeNull();
    expect(await me(ctx, result.token)).toMatchObject({
      organizationId: owner.organizationId,
      email: DEMO.users.megan.upn,
      role: 'employee',
      roleSource: 'default',
      roleSourceGroup: null,
    });
    const events = await ctx
      .http()
      .get('/api/v1/audit-events?action=user.created')
      .set(bearer(owner.token))
      .expect(200);
    expect(events.body.items[0].after).toMatchObject({ source: 'auto_provisioning', tenantId: contoso.id });
  });

  it('matches domains case-insensitively, including the initial onmicrosoft domain', async () => {
    for (const upn of ['Olga@CONTOSO.com', 'pat@contoso.onmicrosoft.com']) {
      contosoUser(ctx, upn);
      const result = await signIn(ctx, upn);
      expect((await me(ctx, result.token)).organizationId).toBe(owner.organizationId);
    }
  });

  it('never matches a subdomain implicitly: eu.contoso.com gets an organization of its own', async () => {
    contosoUser(ctx, 'sam@eu.contoso.com');
    const result = await signIn(ctx, 'sam@eu.contoso.com');
    const profile = await me(ctx, result.token);
    expect(profile.organizationId).not.toBe(owner.organizationId);
    expect(profile.role).toBe('owner');
  });

  it('does not provision a guest of the tenant', async () => {
    const result = await signIn(ctx, DEMO.users.guest.upn);
    expect(result.error).toBeNull();
    expect((await me(ctx, result.token)).organizationId).not.toBe(owner.organizationId);
  });

  it('never lets another tenant in by claiming an address on the verified domain', async () => {
    const evil = ctx.emulator.store.addTenant({
      displayName: 'Evil',
      verifiedDomains: [{ name: 'evil.example', isDefault: true, isInitial: false }],
    });
    // Unverified `email` on the victim's domain (xms_edov false), and even a UPN that claims it.
    const mallory = ctx.emulator.store.addUser({
      tenantId: evil.id,
      userPrincipalName: 'mallory@evil.example',
      displayName: 'Mallory',
      mail: 'ceo@contoso.com',
    });
    const forger = ctx.emulator.store.addUser({
      tenantId: evil.id,
      userPrincipalName: 'cfo@contoso.com',
      displayName: 'Forger',
    });
    await ctx
      .http()
      .post('/api/v1/invitations')
      .set(bearer(owner.token))
      .send({ email: 'ceo@contoso.com', role: 'admin' })
      .expect(201);
    await ctx
      .http()
      .post('/api/v1/invitations')
      .set(bearer(owner.token))
      .send({ email: 'cfo@contoso.com', role: 'admin' })
      .expect(201);

    for (const attacker of [mallory, forger]) {
      const result = await signIn(ctx, attacker.userPrincipalName);
      expect(result.error).toBeNull();
      const profile = await me(ctx, result.token);
      expect(profile.organizationId).not.toBe(owner.organizationId);
      expect(profile.role).toBe('owner'); // of its own, new organization
    }
    const users = await ctx.http().get('/api/v1/users?limit=200').set(bearer(owner.token)).expect(200);
    expect(users.body.items.map((u: { email: string }) => u.email)).not.toEqual(
      expect.arrayContaining(['ceo@contoso.com', 'cfo@contoso.com']),
    );
    const pending = await ctx
      .http()
      .get('/api/v1/invitations?status=pending')
      .set(bearer(owner.token))
      .expect(200);
    expect(pending.body.items.map((i: { email: string }) => i.email)).toEqual(
      expect.arrayContaining(['ceo@contoso.com', 'cfo@contoso.com']),
    );
  });

  it('queues a member with seat_limit_reached when the seats are taken, and seats them when the limit rises', async () => {
    const { rows } = await ctx.sql.query(
      "SELECT count(*)::int AS n FROM users WHERE organization_id = $1 AND status = 'active'",
      [owner.organizationId],
    );
    const organizations = ctx.app.get(OrganizationsService);
    await organizations.updateSubscription(owner.organizationId, { seatLimit: rows[0].n }, SYSTEM_ACTOR);
    contosoUser(ctx, 'late.joiner@contoso.com');
    const result = await signIn(ctx, 'late.joiner@contoso.com');
    expect(result.error).toBe('seat_limit_reached');
    expect(new URL(result.location).searchParams.get('reason')).toBe('awaiting_seat');
    expect(result.token).toBeNull();
    const pending = await ctx.http().get('/api/v1/users?status=pending').set(bearer(owner.token)).expect(200);
    expect(pending.body.items).toEqual([
      expect.objectContaining({
        email: 'late.joiner@contoso.com',
        status: 'pending',
        pendingReason: 'awaiting_seat',
        queuePosition: 1,
      }),
    ]);
    const events = await ctx
      .http()
      .get('/api/v1/audit-events?action=user.created')
      .set(bearer(owner.token))
      .expect(200);
    expect(events.body.items[0].after).toMatchObject({
      email: 'late.joiner@contoso.com',
      source: 'auto_provisioning',
      status: 'pending',
      pendingReason: 'awaiting_seat',
    });
    // Queued, not forgotten: a raised limit gives the seat, and the next sign-in gets in.
    await organizations.updateSubscription(owner.organizationId, { seatLimit: 50 }, SYSTEM_ACTOR);
    const again = await signIn(ctx, 'late.joiner@contoso.com');
    expect(again.error).toBeNull();
    expect((await me(ctx, again.token)).status).toBe('active');
  });

  it('turned off, refuses new users with invitation_required (no empty organization) and keeps existing ones', async () => {
    await settings({ autoProvisionUsers: false });
    contosoUser(ctx, 'nina@contoso.com');
    const refused = await signIn(ctx, 'nina@contoso.com');
    expect(refused.error).toBe('invitation_required');
    const nothing = await ctx.sql.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [
      'nina@contoso.com',
    ]);
    expect(nothing.rows[0].n).toBe(0);

    const existing = await signIn(ctx, DEMO.users.megan.upn);
    expect(existing.error).toBeNull();
    expect((await me(ctx, existing.token)).organizationId).toBe(owner.organizationId);
  });

  it('turned off, admits a member with a pending invitation, in the invited role', async () => {
    const invitation = await ctx
      .http()
      .post('/api/v1/invitations')
      .set(bearer(owner.token))
      .send({ email: 'Nina@Contoso.com', role: 'manager' })
      .expect(201);
    expect(invitation.body).toMatchObject({ email: 'nina@contoso.com', role: 'manager', status: 'pending' });
    const result = await signIn(ctx, 'nina@contoso.com');
    expect(result.error).toBeNull();
    const profile = await me(ctx, result.token);
    expect(profile).toMatchObject({
      organizationId: owner.organizationId,
      role: 'manager',
      roleSource: 'invitation',
    });
    const list = await ctx
      .http()
      .get('/api/v1/invitations?status=accepted')
      .set(bearer(owner.token))
      .expect(200);
    expect(list.body.items.find((i: { id: string }) => i.id === invitation.body.id)).toMatchObject({
      status: 'accepted',
      acceptedByUserId: profile.id,
    });
  });

  it('stops provisioning at once when the organization leaves the Enterprise plan', async () => {
    await settings({ autoProvisionUsers: true });
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(owner.organizationId, { plan: 'team' }, SYSTEM_ACTOR);
    contosoUser(ctx, 'omar@contoso.com');
    expect((await signIn(ctx, 'omar@contoso.com')).error).toBe('invitation_required');
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(owner.organizationId, { plan: 'enterprise' }, SYSTEM_ACTOR);
    expect((await signIn(ctx, 'omar@contoso.com')).error).toBeNull();
  });
});

describe('invitations', () => {
  let ctx: TestContext;
  let owner: Owner;
  const invite = (token: string, body: object) =>
    ctx.http().post('/api/v1/invitations').set(bearer(token)).send(body);

  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await ownerOf(ctx, DEMO.users.diego.upn);
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('admits the invitee of an unconnected organization at their first Microsoft sign-in', async () => {
    await invite(owner.token, { email: DEMO.users.lee.upn, role: 'admin' }).expect(201);
    const result = await signIn(ctx, DEMO.users.lee.upn);
    expect(await me(ctx, result.token)).toMatchObject({
      organizationId: owner.organizationId,
      role: 'admin',
      roleSource: 'invitation',
    });
  });

  it('validates input and refuses duplicates, existing members and owner invitations by admins', async () => {
    expect(
      (await invite(owner.token, { email: 'not an address', role: 'employee' }).expect(400)).body.errors[0]
        .field,
    ).toBe('email');
    expect(
      (await invite(owner.token, { email: 'x@fabrikam.com', role: 'superuser' }).expect(400)).body.code,
    ).toBe('VALIDATION_FAILED');
    expect(
      (await invite(owner.token, { email: 'x@fabrikam.com', role: 'employee', expiresInDays: 0 }).expect(400))
        .body.code,
    ).toBe('VALIDATION_FAILED');
    await invite(owner.token, { email: 'dup@fabrikam.com', role: 'employee' }).expect(201);
    expect(
      (await invite(owner.token, { email: 'DUP@fabrikam.com', role: 'manager' }).expect(409)).body.code,
    ).toBe('INVITATION_ALREADY_PENDING');
    expect(
      (await invite(owner.token, { email: DEMO.users.lee.upn, role: 'employee' }).expect(409)).body.code,
    ).toBe('USER_ALREADY_EXISTS');

    const lee = (await signIn(ctx, DEMO.users.lee.upn)).token!; // an admin
    expect((await invite(lee, { email: 'boss@fabrikam.com', role: 'owner' }).expect(403)).body.code).toBe(
      'OWNER_ROLE_RESERVED',
    );
    await invite(owner.token, { email: 'boss@fabrikam.com', role: 'owner' }).expect(201);
  });

  it('does not admit with a revoked or an expired invitation', async () => {
    const store = ctx.emulator.store;
    const fabrikam = DEMO.tenants.fabrikam.id;
    const revokedUser = store.addUser({
      tenantId: fabrikam,
      userPrincipalName: 'revoked@fabrikam.com',
      displayName: 'R',
    });
    const expiredUser = store.addUser({
      tenantId: fabrikam,
      userPrincipalName: 'expired@fabrikam.com',
      displayName: 'E',
    });
    const revoked = await invite(owner.token, {
      email: revokedUser.userPrincipalName,
      role: 'manager',
    }).expect(201);
    await ctx.http().delete(`/api/v1/invitations/${revoked.body.id}`).set(bearer(owner.token)).expect(204);
    const again = await ctx
      .http()
      .delete(`/api/v1/invitations/${revoked.body.id}`)
      .set(bearer(owner.token))
      .expect(409);
    expect(again.body.code).toBe('INVITATION_NOT_PENDING');

    const expired = await invite(owner.token, {
      email: expiredUser.userPrincipalName,
      role: 'manager',
    }).expect(201);
    expect(Date.parse(expired.body.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    await ctx.sql.query("UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1", [
      expired.body.id,
    ]);

    for (const upn of [revokedUser.userPrincipalName, expiredUser.userPrincipalName]) {
      const profile = await me(ctx, (await signIn(ctx, upn)).token);
      expect(profile.organizationId).not.toBe(owner.organizationId);
    }
    const list = await ctx.http().get('/api/v1/invitations').set(bearer(owner.token)).expect(200);
    const statusOf = (id: string) => list.body.items.find((i: { id: string }) => i.id === id)?.status;
    expect(statusOf(revoked.body.id)).toBe('revoked');
    expect(statusOf(expired.body.id)).toBe('expired');
    // An expired invitation frees the address for a new one.
    await invite(owner.token, { email: expiredUser.userPrincipalName, role: 'employee' }).expect(201);
  });

  it('keeps invitations to each organization: another organization sees 404, employees 403', async () => {
    const other = await ownerOf(ctx, DEMO.users.megan.upn);
    const mine = await invite(owner.token, { email: 'private@fabrikam.com', role: 'employee' }).expect(201);
    expect(
      (await ctx.http().delete(`/api/v1/invitations/${mine.body.id}`).set(bearer(other.token)).expect(404))
        .body.code,
    ).toBe('INVITATION_NOT_FOUND');
    const theirs = await ctx.http().get('/api/v1/invitations').set(bearer(other.token)).expect(200);
    expect(theirs.body.items).toEqual([]);
    await ctx
      .http()
      .post('/api/v1/invitations')
      .set(bearer(other.token))
      .send({ email: 'emp@contoso.com', role: 'employee' })
      .expect(201);
    const employee = store(ctx).addUser({
      tenantId: contoso.id,
      userPrincipalName: 'emp@contoso.com',
      displayName: 'Emp',
    });
    const token = (await signIn(ctx, employee.userPrincipalName)).token;
    expect((await ctx.http().get('/api/v1/invitations').set(bearer(token)).expect(403)).body.code).toBe(
      'INSUFFICIENT_ROLE',
    );
  });
});

function store(ctx: TestContext) {
  return ctx.emulator.store;
}
