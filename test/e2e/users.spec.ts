import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/common/tokens.js';
import { DEMO } from '@entra-integration/entra-emulator';
import { addMember } from '../support/seed.js';
import { bearer, signIn } from '../support/sign-in.js';
import { statementsSentDuring } from '../support/statements.js';
import { createTestContext, type TestContext } from '../support/test-app.js';
import { seatCountDrift } from '../support/seat-counts.js';

const { adele, megan, diego, lee } = DEMO.users;
const contoso = DEMO.tenants.contoso.id;

describe('users, roles and deactivation', () => {
  let ctx: TestContext;
  let owner: string;
  let organizationId: string;
  let ownerId: string;
  let meganId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    const signedIn = await signIn(ctx, adele.upn);
    owner = signedIn.token!;
    const me = await ctx.http().get('/api/v1/me').set(bearer(owner)).expect(200);
    organizationId = me.body.organizationId;
    ownerId = me.body.id;
    meganId = await addMember(ctx, organizationId, megan, contoso, 'employee');
    await ctx.sql.query('UPDATE organizations SET seat_limit = 10 WHERE id = $1', [organizationId]);
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('lists the organization’s users with filters and cursor pagination', async () => {
    const all = await ctx.http().get('/api/v1/users').set(bearer(owner)).expect(200);
    expect(all.body.items.map((u: { email: string }) => u.email).sort()).toEqual([adele.upn, megan.upn]);
    expect(all.body.nextCursor).toBeNull();

    const owners = await ctx.http().get('/api/v1/users?role=owner').set(bearer(owner)).expect(200);
    expect(owners.body.items.map((u: { email: string }) => u.email)).toEqual([adele.upn]);
    const search = await ctx.http().get('/api/v1/users?search=MEGAN').set(bearer(owner)).expect(200);
    expect(search.body.items.map((u: { id: string }) => u.id)).toEqual([meganId]);

    const first = await ctx.http().get('/api/v1/users?limit=1').set(bearer(owner)).expect(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await ctx
      .http()
      .get(`/api/v1/users?limit=1&cursor=${first.body.nextCursor}`)
      .set(bearer(owner))
      .expect(200);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    expect(second.body.nextCursor).toBeNull();
  });

  it('answers GET /me with the one statement that authenticates it, reading what changed at once', async () => {
    /** The statements sent to PostgreSQL while answering, but the job queue's polls (its own schema). */
    const statementsOf = async (send: () => Promise<unknown>) =>
      (await statementsSentDuring(send)).filter((s) => !s.text.includes('pgboss.'));
    // Used just now: no once-a-minute write of the last use.
    await ctx.sql.query('UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1', [sha256(owner)]);
    const { rows } = await ctx.sql.query('SELECT display_name FROM users WHERE id = $1', [ownerId]);
    await ctx.sql.query("UPDATE users SET display_name = 'Adele V.' WHERE id = $1", [ownerId]);
    const secondAccount = randomUUID();
    await ctx.sql.query(
      `INSERT INTO microsoft_identities (user_id, tenant_id, object_id, user_principal_name, created_at)
       VALUES ($1, $2, $3, 'adele.second@contoso.com', now() + interval '1 second')`,
      [ownerId, contoso, secondAccount],
    );
    try {
      let me: { body: Record<string, unknown> } | undefined;
      const statements = await statementsOf(async () => {
        me = await ctx.http().get('/api/v1/me').set(bearer(owner)).expect(200);
      });
      expect(statements).toHaveLength(1);
      expect(statements[0].text).toMatch(/FROM sessions/);
      // A named prepared statement (DATABASE_PREPARED_STATEMENTS defaults to true).
      expect(statements[0].name).toMatch(/^s_[0-9a-f]{32}$/);
      expect(me!.body).toMatchObject({
        id: ownerId,
        displayName: 'Adele V.',
        role: 'owner',
        status: 'active',
      });
      const accounts = me!.body.microsoftIdentities as { objectId: string; userPrincipalName: string }[];
      expect(accounts).toHaveLength(2);
      expect(accounts[1]).toEqual({
        tenantId: contoso,
        objectId: secondAccount,
        userPrincipalName: 'adele.second@contoso.com',
      });
      // Every other route still reads what it needs itself: the users list is authenticated, then read.
      const listed = await statementsOf(() => ctx.http().get('/api/v1/users').set(bearer(owner)).expect(200));
      expect(listed).toHaveLength(2);
    } finally {
      await ctx.sql.query('DELETE FROM microsoft_identities WHERE object_id = $1', [secondAccount]);
      await ctx.sql.query('UPDATE users SET display_name = $2 WHERE id = $1', [
        ownerId,
        rows[0].display_name,
      ]);
    }
  });

  it('answers bad input with problem+json and a stable code, never a 500', async () => {
    const badRole = await ctx
      .http()
      .patch(`/api/v1/users/${meganId}`)
      .set(bearer(owner))
      .send({ role: 'superuser' })
      .expect(400);
    expect(badRole.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(badRole.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(badRole.body.errors[0].field).toBe('role');

    const unknownField = await ctx
      .http()
      .patch(`/api/v1/users/${meganId}`)
      .set(bearer(owner))
      .send({ role: 'manager', isAdmin: true });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.errors.map((e: { field: string }) => e.field)).toContain('isAdmin');

    const malformed = await ctx
      .http()
      .patch(`/api/v1/users/${meganId}`)
      .set(bearer(owner))
      .set('Content-Type', 'application/json')
      .send('{"role":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('MALFORMED_JSON');

    expect((await ctx.http().get('/api/v1/users/not-a-uuid').set(bearer(owner))).body.code).toBe(
      'USER_NOT_FOUND',
    );
    expect(
      (await ctx.http().get('/api/v1/users?cursor=garbage').set(bearer(owner)).expect(400)).body.code,
    ).toBe('INVALID_CURSOR');
    expect(
      (await ctx.http().get('/api/v1/users?limit=100000').set(bearer(owner)).expect(400)).body.code,
    ).toBe('VALIDATION_FAILED');
    expect((await ctx.http().get('/api/v1/nowhere').set(bearer(owner)).expect(404)).body.code).toBe(
      'NOT_FOUND',
    );

    const unchanged = await ctx.http().get(`/api/v1/users/${meganId}`).set(bearer(owner)).expect(200);
    expect(unchanged.body.role).toBe('employee');
  });

  it('lets an Owner change roles, with an audit event recording before and after', async () => {
    const changed = await ctx
      .http()
      .patch(`/api/v1/users/${meganId}`)
      .set(bearer(owner))
      .send({ role: 'manager' })
      .expect(200);
    expect(changed.body.role).toBe('manager');
    const events = await ctx
      .http()
      .get(`/api/v1/audit-events?targetId=${meganId}&action=user.role_changed`)
      .set(bearer(owner))
      .expect(200);
    expect(events.body.items[0]).toMatchObject({
      actor: { type: 'user', id: ownerId },
      target: { type: 'user', id: meganId },
      before: { role: 'employee' },
      after: { role: 'manager' },
    });
  });

  it('never lets the organization lose its last active Owner', async () => {
    const demote = await ctx
      .http()
      .patch(`/api/v1/users/${ownerId}`)
      .set(bearer(owner))
      .send({ role: 'admin' })
      .expect(409);
    expect(demote.body.code).toBe('LAST_OWNER');
    const deactivate = await ctx
      .http()
      .post(`/api/v1/users/${ownerId}/deactivate`)
      .set(bearer(owner))
      .expect(409);
    expect(deactivate.body.code).toBe('LAST_OWNER');
    const me = await ctx.http().get('/api/v1/me').set(bearer(owner)).expect(200);
    expect(me.body).toMatchObject({ role: 'owner', status: 'active' });
  });

  it('keeps Manager and Employee out of admin actions, and Admins from touching the Owner role', async () => {
    const member = await signIn(ctx, megan.upn);
    expect(member.error).toBeNull();
    const forbidden = await ctx
      .http()
      .patch(`/api/v1/users/${ownerId}`)
      .set(bearer(member.token))
      .send({ role: 'employee' })
      .expect(403);
    expect(forbidden.body.code).toBe('INSUFFICIENT_ROLE');
    expect(
      (await ctx.http().get('/api/v1/audit-events').set(bearer(member.token)).expect(403)).body.code,
    ).toBe('INSUFFICIENT_ROLE');
    // Everyone may read the directory of their own organization.
    await ctx.http().get('/api/v1/users').set(bearer(member.token)).expect(200);

    await ctx.http().patch(`/api/v1/users/${meganId}`).set(bearer(owner)).send({ role: 'admin' }).expect(200);
    const grantOwner = await ctx
      .http()
      .patch(`/api/v1/users/${meganId}`)
      .set(bearer(member.token))
      .send({ role: 'owner' })
      .expect(403);
    expect(grantOwner.body.code).toBe('OWNER_ROLE_RESERVED');
    const demoteOwner = await ctx
      .http()
      .patch(`/api/v1/users/${ownerId}`)
      .set(bearer(member.token))
      .send({ role: 'employee' })
      .expect(403);
    expect(demoteOwner.body.code).toBe('OWNER_ROLE_RESERVED');
    await ctx
      .http()
      .patch(`/api/v1/users/${meganId}`)
      .set(bearer(owner))
      .send({ role: 'employee' })
      .expect(200);
  });

  it('deactivation ends open sessions at once, refuses sign-in, keeps the user and its data', async () => {
    const member = await signIn(ctx, megan.upn);
    await ctx.http().get('/api/v1/me').set(bearer(member.token)).expect(200);

    const deactivated = await ctx
      .http()
      .post(`/api/v1/users/${meganId}/deactivate`)
      .set(bearer(owner))
      .expect(200);
    expect(deactivated.body).toMatchObject({ status: 'deactivated', deactivationReason: 'manual' });
    expect(deactivated.body.deactivatedAt).toEqual(expect.any(String));

    const refused = await ctx.http().get('/api/v1/me').set(bearer(member.token)).expect(401);
    expect(refused.body.code).toBe('UNAUTHENTICATED');
    const sessions = await ctx.sql.query(
      'SELECT revoked_at, revoked_reason FROM sessions WHERE user_id = $1',
      [meganId],
    );
    expect(sessions.rows.every((s: { revoked_at: Date | null }) => s.revoked_at !== null)).toBe(true);

    const again = await signIn(ctx, megan.upn);
    expect(again.error).toBe('account_deactivated');
    expect(again.token).toBeNull();

    // Deactivation is not deletion: the user, the identity link and the audit trail remain.
    const still = await ctx.http().get(`/api/v1/users/${meganId}`).set(bearer(owner)).expect(200);
    expect(still.body.email).toBe(megan.upn);
    const identity = await ctx.sql.query(
      'SELECT count(*)::int AS n FROM microsoft_identities WHERE user_id = $1',
      [meganId],
    );
    expect(identity.rows[0].n).toBe(1);
    const twice = await ctx.http().post(`/api/v1/users/${meganId}/deactivate`).set(bearer(owner)).expect(409);
    expect(twice.body.code).toBe('INVALID_USER_STATE');
  });

  it('reactivation respects the seat limit, then lets the user sign in again', async () => {
    await ctx.sql.query('UPDATE organizations SET seat_limit = 1 WHERE id = $1', [organizationId]);
    const full = await ctx.http().post(`/api/v1/users/${meganId}/reactivate`).set(bearer(owner)).expect(409);
    expect(full.body).toMatchObject({ code: 'SEAT_LIMIT_REACHED', seatLimit: 1 });

    await ctx.sql.query('UPDATE organizations SET seat_limit = 2 WHERE id = $1', [organizationId]);
    const reactivated = await ctx
      .http()
      .post(`/api/v1/users/${meganId}/reactivate`)
      .set(bearer(owner))
      .expect(200);
    expect(reactivated.body).toMatchObject({ status: 'active', deactivationReason: null });
    expect((await signIn(ctx, megan.upn)).error).toBeNull();
  });

  it('keeps the audit trail append-only at the database', async () => {
    await expect(ctx.sql.query('UPDATE audit_events SET action = $1', ['forged'])).rejects.toThrow(
      /append-only/,
    );
    await expect(ctx.sql.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
  });

  describe('another organization', () => {
    let other: string;

    beforeAll(async () => {
      other = (await signIn(ctx, diego.upn)).token!;
    });

    it('cannot see, change, deactivate or reactivate this organization’s users: 404, never data', async () => {
      const list = await ctx.http().get('/api/v1/users').set(bearer(other)).expect(200);
      expect(list.body.items.map((u: { email: string }) => u.email)).toEqual([diego.upn]);
      for (const call of [
        ctx.http().get(`/api/v1/users/${meganId}`),
        ctx.http().patch(`/api/v1/users/${meganId}`).send({ role: 'admin' }),
        ctx.http().post(`/api/v1/users/${meganId}/deactivate`),
        ctx.http().post(`/api/v1/users/${meganId}/reactivate`),
      ]) {
        const response = await call.set(bearer(other));
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('USER_NOT_FOUND');
        expect(JSON.stringify(response.body)).not.toContain(megan.upn);
      }
      const events = await ctx.http().get('/api/v1/audit-events').set(bearer(other)).expect(200);
      expect(
        events.body.items.every((e: { target: { id: string } | null }) => e.target?.id !== meganId),
      ).toBe(true);
      const megansState = await ctx.http().get(`/api/v1/users/${meganId}`).set(bearer(owner)).expect(200);
      expect(megansState.body).toMatchObject({ role: 'employee', status: 'active' });
    });

    it('a user of another tenant with the same name is a different account', async () => {
      const result = await signIn(ctx, lee.upn);
      const me = await ctx.http().get('/api/v1/me').set(bearer(result.token)).expect(200);
      expect(me.body.organizationId).not.toBe(organizationId);
    });
  });
});
