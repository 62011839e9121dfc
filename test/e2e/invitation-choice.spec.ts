import type { Response } from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DEMO } from '@entra-integration/entra-emulator';
import { TransactionHost } from '@nestjs-cls/transactional';
import { InvitationNoLongerPendingError } from '../../src/users/invitations.errors.js';
import { InvitationsService } from '../../src/users/invitations.service.js';
import { bearer, callCallback, followAuthorize, signIn, startSignIn } from '../support/sign-in.js';
import { APP_UI_URL, createTestContext, type TestContext } from '../support/test-app.js';
import { seatCountDrift } from '../support/seat-counts.js';

const CHOICE_COOKIE = 'invitation_choice';

interface Owner {
  token: string;
  organizationId: string;
  organizationName: string;
}

function setCookies(response: Response): string[] {
  return (response.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
}

function cookieOf(response: Response, name: string): string | null {
  const cookie = setCookies(response).find((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`));
  return cookie ? decodeURIComponent(cookie.split(';')[0].slice(name.length + 1)) : null;
}

describe('choosing among several inviting organizations', () => {
  let ctx: TestContext;
  let first: Owner;
  let second: Owner;

  const owner = async (loginHint: string): Promise<Owner> => {
    const { token } = await signIn(ctx, loginHint);
    const organization = await ctx.http().get('/api/v1/organization').set(bearer(token)).expect(200);
    return { token: token!, organizationId: organization.body.id, organizationName: organization.body.name };
  };
  const invite = async (from: Owner, email: string, role: string): Promise<string> =>
    (await ctx.http().post('/api/v1/invitations').set(bearer(from.token)).send({ email, role }).expect(201))
      .body.id;
  const person = (upn: string) =>
    ctx.emulator.store.addUser({
      tenantId: DEMO.tenants.fabrikam.id,
      userPrincipalName: upn,
      displayName: upn.split('@')[0],
    }).userPrincipalName;
  const statusOf = async (invitationId: string) =>
    (await ctx.sql.query('SELECT status FROM invitations WHERE id = $1', [invitationId])).rows[0]?.status;
  const usersWith = async (email: string) =>
    Number((await ctx.sql.query('SELECT count(*) FROM users WHERE email = $1', [email])).rows[0].count);

  /** A first sign-in up to our callback; returns the callback's answer and the choice cookie it set. */
  const signInUntilChoice = async (upn: string, extra: Record<string, string> = {}) => {
    const { authorizeUrl, flowCookie } = await startSignIn(ctx, { login_hint: upn, ...extra });
    const result = await callCallback(ctx, await followAuthorize(authorizeUrl), flowCookie);
    return { ...result, choice: cookieOf(result.callback, CHOICE_COOKIE) };
  };
  const list = (choice: string | null) => {
    const call = ctx.http().get('/auth/invitations');
    return choice ? call.set('Cookie', `${CHOICE_COOKIE}=${choice}`) : call;
  };
  /** As the SPA calls it: from its own origin. */
  const accept = (choice: string | null, invitationId: string, origin = APP_UI_URL) => {
    const call = ctx.http().post(`/auth/invitations/${invitationId}/accept`).set('Origin', origin);
    return choice ? call.set('Cookie', `${CHOICE_COOKIE}=${choice}`) : call;
  };
  /** Two organizations invite a new person: the first as Employee, then the second as Manager. */
  const invitedTwice = async (upn: string) => {
    const address = person(upn);
    const fromFirst = await invite(first, address, 'employee');
    const fromSecond = await invite(second, address, 'manager');
    return { address, fromFirst, fromSecond };
  };

  beforeAll(async () => {
    ctx = await createTestContext();
    first = await owner(DEMO.users.diego.upn);
    second = await owner(DEMO.users.megan.upn);
    await ctx.sql.query('UPDATE organizations SET seat_limit = 50 WHERE id = ANY($1)', [
      [first.organizationId, second.organizationId],
    ]);
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('ends the callback on the choice page with a browser-bound cookie, creating nobody', async () => {
    const { address, fromFirst, fromSecond } = await invitedTwice('pat@fabrikam.com');
    const result = await signInUntilChoice(address, { returnTo: '/assets' });

    expect(result.location).toBe(`${APP_UI_URL}/sign-in/choose-organization`);
    expect(result.token).toBeNull();
    const [cookie] = setCookies(result.callback).filter((c) => c.startsWith(`${CHOICE_COOKIE}=`));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\/auth\/invitations/);
    expect(result.choice).toMatch(/^[\w-]{43}$/);
    expect(await usersWith(address)).toBe(0);
    expect(await statusOf(fromFirst)).toBe('pending');
    expect(await statusOf(fromSecond)).toBe('pending');
    // Only the hash of the cookie is stored.
    const stored = await ctx.sql.query('SELECT binding_hash FROM invitation_choices');
    expect(stored.rows.map((r: { binding_hash: string }) => r.binding_hash)).not.toContain(result.choice);
  });

  it('lists both organizations with the roles they offer, nothing about inviters or addresses', async () => {
    const { address, fromFirst, fromSecond } = await invitedTwice('robin@fabrikam.com');
    const { choice } = await signInUntilChoice(address);

    const listed = await list(choice).expect(200);
    expect(listed.headers['cache-control']).toBe('no-store');
    expect(listed.body).toEqual({
      expiresAt: expect.any(String),
      invitations: [
        { id: fromSecond, organizationName: second.organizationName, role: 'manager' },
        { id: fromFirst, organizationName: first.organizationName, role: 'employee' },
      ],
    });
    const expiresIn = Date.parse(listed.body.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60_000);
  });

  it('accepting one completes the sign-in there; the other invitation stays pending', async () => {
    const { address, fromFirst, fromSecond } = await invitedTwice('sam@fabrikam.com');
    const { choice } = await signInUntilChoice(address, { returnTo: '/assets?tab=1' });

    // The older invitation: the newest inviter no longer wins by default.
    const accepted = await accept(choice, fromFirst).expect(200);
    expect(accepted.body).toEqual({ redirectTo: `${APP_UI_URL}/assets?tab=1` });
    expect(setCookies(accepted).some((c) => c.startsWith(`${CHOICE_COOKIE}=;`))).toBe(true);
    const token = cookieOf(accepted, 'session');
    expect(setCookies(accepted).find((c) => c.startsWith('session='))).toMatch(/HttpOnly/i);

    const me = await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200);
    expect(me.body).toMatchObject({
      organizationId: first.organizationId,
      email: address,
      role: 'employee',
      roleSource: 'invitation',
      status: 'active',
    });
    expect(await usersWith(address)).toBe(1);
    expect(await statusOf(fromFirst)).toBe('accepted');
    expect(await statusOf(fromSecond)).toBe('pending');

    const audit = await ctx.http().get('/api/v1/audit-events').set(bearer(first.token)).expect(200);
    const actions = (audit.body.items as { action: string; targetId?: string }[]).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.created', 'auth.signed_in']));

    // Signing in again goes straight to the account: the other invitation does not move the person.
    const again = await signIn(ctx, address);
    expect(again.location).toBe(`${APP_UI_URL}/`);
    const meAgain = await ctx.http().get('/api/v1/me').set(bearer(again.token)).expect(200);
    expect(meAgain.body.organizationId).toBe(first.organizationId);
    expect(await statusOf(fromSecond)).toBe('pending');
  });

  it('refuses the choice from another browser, after use and after expiry', async () => {
    const { address, fromFirst, fromSecond } = await invitedTwice('alex.r@fabrikam.com');
    const { choice } = await signInUntilChoice(address);

    for (const other of [null, 'x'.repeat(43), 'not-a-binding']) {
      expect((await list(other).expect(401)).body.code).toBe('INVITATION_CHOICE_INVALID');
      const refused = await accept(other, fromFirst).expect(401);
      expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(refused.body.code).toBe('INVITATION_CHOICE_INVALID');
    }
    expect(await usersWith(address)).toBe(0);

    await accept(choice, fromSecond).expect(200);
    // Single use: the same cookie cannot accept the other invitation, nor the same one again.
    expect((await accept(choice, fromFirst).expect(401)).body.code).toBe('INVITATION_CHOICE_INVALID');
    expect((await accept(choice, fromSecond).expect(401)).body.code).toBe('INVITATION_CHOICE_INVALID');
    expect(await statusOf(fromFirst)).toBe('pending');

    const late = await invitedTwice('late@fabrikam.com');
    const expiring = await signInUntilChoice(late.address);
    await list(expiring.choice).expect(200);
    await ctx.sql.query("UPDATE invitation_choices SET expires_at = now() - interval '1 second'");
    expect((await list(expiring.choice).expect(401)).body.code).toBe('INVITATION_CHOICE_INVALID');
    expect((await accept(expiring.choice, late.fromFirst).expect(401)).body.code).toBe(
      'INVITATION_CHOICE_INVALID',
    );
    expect(await usersWith(late.address)).toBe(0);
    expect(await statusOf(late.fromFirst)).toBe('pending');
  });

  it('refuses an accept from another origin of the same site, without spending the choice', async () => {
    const { address, fromFirst } = await invitedTwice('ori@fabrikam.com');
    const { choice } = await signInUntilChoice(address);
    const refused = await accept(choice, fromFirst, 'http://evil.localhost:5173').expect(403);
    expect(refused.body.code).toBe('ORIGIN_NOT_ALLOWED');
    expect(await usersWith(address)).toBe(0);
    await accept(choice, fromFirst).expect(200);
  });

  it('answers 404 for an invitation the choice did not offer, without spending the choice', async () => {
    const mine = await invitedTwice('kim@fabrikam.com');
    const theirs = await invitedTwice('lou@fabrikam.com');
    const { choice } = await signInUntilChoice(mine.address);

    for (const id of [theirs.fromFirst, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      expect((await accept(choice, id).expect(404)).body.code).toBe('INVITATION_NOT_FOUND');
    }
    expect(await statusOf(theirs.fromFirst)).toBe('pending');
    await accept(choice, mine.fromSecond).expect(200);
  });

  it('refuses an invitation revoked meanwhile with a clear error; the other can still be chosen', async () => {
    const { address, fromFirst, fromSecond } = await invitedTwice('max@fabrikam.com');
    const { choice } = await signInUntilChoice(address);
    await ctx.http().delete(`/api/v1/invitations/${fromSecond}`).set(bearer(second.token)).expect(204);

    const listed = await list(choice).expect(200);
    expect(listed.body.invitations.map((i: { id: string }) => i.id)).toEqual([fromFirst]);
    const refused = await accept(choice, fromSecond).expect(409);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body.code).toBe('INVITATION_NO_LONGER_PENDING');
    expect(await usersWith(address)).toBe(0);

    const accepted = await accept(choice, fromFirst).expect(200);
    const me = await ctx
      .http()
      .get('/api/v1/me')
      .set(bearer(cookieOf(accepted, 'session')))
      .expect(200);
    expect(me.body.organizationId).toBe(first.organizationId);
  });

  it('keeps the seat limit: a full organization refuses and creates nobody', async () => {
    const { address, fromFirst } = await invitedTwice('nat@fabrikam.com');
    const { choice } = await signInUntilChoice(address);
    const seats = await ctx.sql.query('SELECT seat_limit FROM organizations WHERE id = $1', [
      first.organizationId,
    ]);
    const active = await ctx.sql.query(
      "SELECT count(*) FROM users WHERE organization_id = $1 AND status = 'active'",
      [first.organizationId],
    );
    await ctx.sql.query('UPDATE organizations SET seat_limit = $2 WHERE id = $1', [
      first.organizationId,
      Number(active.rows[0].count),
    ]);
    try {
      const refused = await accept(choice, fromFirst).expect(403);
      expect(refused.body).toMatchObject({ code: 'SIGN_IN_REFUSED', reason: 'seat_limit_reached' });
      expect(await usersWith(address)).toBe(0);
      expect(await statusOf(fromFirst)).toBe('pending');
    } finally {
      await ctx.sql.query('UPDATE organizations SET seat_limit = $2 WHERE id = $1', [
        first.organizationId,
        seats.rows[0].seat_limit,
      ]);
    }
  });

  it('accepts an invitation only while it is pending, even when it was read before a revocation', async () => {
    const address = person('race@fabrikam.com');
    const invitationId = await invite(first, address, 'employee');
    const invitations = ctx.app.get(InvitationsService);
    const read = (await invitations.findPending(address))!;
    expect(read.id).toBe(invitationId);
    await ctx.http().delete(`/api/v1/invitations/${invitationId}`).set(bearer(first.token)).expect(204);

    await expect(
      ctx.app.get(TransactionHost).withTransaction(() => invitations.markAccepted(read, randomUUID())),
    ).rejects.toBeInstanceOf(InvitationNoLongerPendingError);
    expect(await statusOf(invitationId)).toBe('revoked');
  });

  it('keeps today’s behaviour for one invitation: straight into that organization', async () => {
    const address = person('one@fabrikam.com');
    const invitation = await invite(second, address, 'admin');
    const result = await signInUntilChoice(address, { returnTo: '/team' });
    expect(result.location).toBe(`${APP_UI_URL}/team`);
    expect(result.choice).toBeNull();
    const me = await ctx.http().get('/api/v1/me').set(bearer(result.token)).expect(200);
    expect(me.body).toMatchObject({ organizationId: second.organizationId, role: 'admin' });
    expect(await statusOf(invitation)).toBe('accepted');
  });
});

describe('the organization choice over https', () => {
  let ctx: TestContext;
  const base = 'https://api.example.com';

  /** A whole sign-in with the `__Host-` cookies; returns the callback's answer. */
  const httpsSignIn = async (upn: string) => {
    const login = await ctx.http().get('/auth/microsoft/login').query({ login_hint: upn }).expect(302);
    const redirect = await followAuthorize(login.headers.location as string);
    return ctx
      .http()
      .get(`${redirect.pathname}${redirect.search}`)
      .set('Cookie', `__Host-flow=${cookieOf(login, '__Host-flow')}`);
  };
  const ownerToken = async (upn: string) => cookieOf(await httpsSignIn(upn), '__Host-session');

  beforeAll(async () => {
    ctx = await createTestContext({ APP_BASE_URL: base });
    ctx.emulator.store.clients[0].redirectUris.push(`${base}/auth/microsoft/callback`);
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('binds the choice with a __Host- cookie (Secure, Path=/, no Domain) and reads only that name', async () => {
    const address = ctx.emulator.store.addUser({
      tenantId: DEMO.tenants.fabrikam.id,
      userPrincipalName: 'secure@fabrikam.com',
      displayName: 'Secure',
    }).userPrincipalName;
    for (const upn of [DEMO.users.diego.upn, DEMO.users.megan.upn]) {
      const token = await ownerToken(upn);
      await ctx
        .http()
        .post('/api/v1/invitations')
        .set(bearer(token))
        .send({ email: address, role: 'employee' })
        .expect(201);
    }

    const callback = await httpsSignIn(address);
    expect(callback.headers.location).toBe(`${APP_UI_URL}/sign-in/choose-organization`);
    const [cookie] = setCookies(callback).filter((c) => c.startsWith('__Host-invitation-choice='));
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; Path=\/(;|$)/);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(setCookies(callback).some((c) => c.startsWith(`${CHOICE_COOKIE}=`))).toBe(false);

    const choice = cookieOf(callback, '__Host-invitation-choice');
    const listed = await ctx
      .http()
      .get('/auth/invitations')
      .set('Cookie', `__Host-invitation-choice=${choice}`)
      .expect(200);
    expect(listed.body.invitations).toHaveLength(2);
    await ctx.http().get('/auth/invitations').set('Cookie', `${CHOICE_COOKIE}=${choice}`).expect(401);
  });
});

describe('the organization choice under the sign-in limits', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ TRUST_PROXY: '1', SIGN_IN_FAILURES_PER_ADDRESS: '3' });
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('counts forged choice cookies as failures of the address and then answers 429 with Retry-After', async () => {
    const forged = (address: string) =>
      ctx
        .http()
        .post('/auth/invitations/00000000-0000-4000-8000-000000000000/accept')
        .set('X-Forwarded-For', address)
        .set('Origin', APP_UI_URL)
        .set('Cookie', `${CHOICE_COOKIE}=${'f'.repeat(43)}`);
    for (let i = 0; i < 3; i++) await forged('203.0.113.7').expect(401);
    const limited = await forged('203.0.113.7').expect(429);
    expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const listed = await ctx
      .http()
      .get('/auth/invitations')
      .set('X-Forwarded-For', '203.0.113.7')
      .expect(429);
    expect(listed.body.code).toBe('RATE_LIMITED');
    // Another address keeps its own budget.
    expect((await forged('198.51.100.20').expect(401)).body.code).toBe('INVITATION_CHOICE_INVALID');
  });
});
