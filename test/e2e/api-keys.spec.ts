import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerOf, type TestOwner } from '../support/factory.js';
import { addMember } from '../support/seed.js';
import { bearer, signIn } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const { adele, megan, diego } = DEMO.users;

describe('API keys', () => {
  let ctx: TestContext;
  let contoso: TestOwner;
  let fabrikam: TestOwner;
  let meganId: string;

  const createKey = (owner: TestOwner, body: Record<string, unknown>) =>
    ctx.http().post('/api/v1/api-keys').set(bearer(owner.token)).send(body);

  beforeAll(async () => {
    ctx = await createTestContext();
    contoso = await ownerOf(ctx, adele.upn, { seatLimit: 10 });
    fabrikam = await ownerOf(ctx, diego.upn);
    meganId = await addMember(ctx, contoso.organizationId, megan, DEMO.tenants.contoso.id, 'employee');
  });
  afterAll(() => ctx?.close());

  it('shows a new key once, lists it by prefix and never stores it in the clear', async () => {
    const created = await createKey(contoso, { name: 'HR sync', scopes: ['users:read'] }).expect(201);
    expect(created.body).toMatchObject({
      name: 'HR sync',
      scopes: ['users:read'],
      createdByUserId: contoso.userId,
      expiresAt: null,
      lastUsedAt: null,
    });
    const key = created.body.key as string;
    expect(key).toMatch(/^edk_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(created.body.prefix as string)).toBe(true);

    const list = await ctx.http().get('/api/v1/api-keys').set(bearer(contoso.token)).expect(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).not.toHaveProperty('key');
    expect(list.body.items[0].prefix).toBe(created.body.prefix);
    const stored = await ctx.sql.query('SELECT token_hash FROM api_keys');
    expect(JSON.stringify(stored.rows)).not.toContain(key);
  });

  it('refuses unknown scopes, a past expiry and an Employee with problem+json', async () => {
    const unknown = await createKey(contoso, { name: 'x', scopes: ['users:read', 'users:delete'] }).expect(
      400,
    );
    expect(unknown.body.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(unknown.body.errors)).toContain('scopes');
    const none = await createKey(contoso, { name: 'x', scopes: [] }).expect(400);
    expect(none.body.code).toBe('VALIDATION_FAILED');
    const past = await createKey(contoso, {
      name: 'x',
      scopes: ['users:read'],
      expiresAt: '2020-01-01T00:00:00.000Z',
    }).expect(400);
    expect(past.body.code).toBe('API_KEY_EXPIRY_IN_PAST');

    const employee = await signIn(ctx, megan.upn);
    const refused = await ctx
      .http()
      .post('/api/v1/api-keys')
      .set(bearer(employee.token))
      .send({ name: 'mine', scopes: ['users:read'] })
      .expect(403);
    expect(refused.body.code).toBe('INSUFFICIENT_ROLE');
    await ctx.http().get('/api/v1/api-keys').set(bearer(employee.token)).expect(403);
  });

  it('reads with users:read, and names the missing scope for a write', async () => {
    const { key } = (await createKey(contoso, { name: 'reader', scopes: ['users:read'] }).expect(201)).body;
    const users = await ctx.http().get('/api/v1/users').set(bearer(key)).expect(200);
    expect(users.body.items.map((u: { email: string }) => u.email).sort()).toEqual([adele.upn, megan.upn]);
    expect(users.headers['ratelimit']).toMatch(/^limit=600, remaining=\d+, reset=\d+$/);
    expect(users.headers['ratelimit-policy']).toBe('600;w=60');

    const write = await ctx
      .http()
      .patch(`/api/v1/users/${meganId}`)
      .set(bearer(key))
      .send({ role: 'manager' })
      .expect(403);
    expect(write.body).toMatchObject({ code: 'INSUFFICIENT_SCOPE', requiredScopes: ['users:write'] });
    const audit = await ctx.http().get('/api/v1/audit-events').set(bearer(key)).expect(403);
    expect(audit.body).toMatchObject({ code: 'INSUFFICIENT_SCOPE', requiredScopes: ['audit:read'] });

    const listed = await ctx.http().get('/api/v1/api-keys').set(bearer(contoso.token)).expect(200);
    const mine = listed.body.items.find((k: { name: string }) => k.name === 'reader');
    expect(mine.lastUsedAt).toEqual(expect.any(String));
    expect(mine.lastUsedFrom).toMatch(/127\.0\.0\.1|::1/);
  });

  it('acts as an Admin within its scopes, audited as the api_key actor, and never as an Owner', async () => {
    const created = await createKey(contoso, { name: 'writer', scopes: ['users:write', 'audit:read'] });
    const { key, id } = created.body as { key: string; id: string };
    const changed = await ctx
      .http()
      .patch(`/api/v1/users/${meganId}`)
      .set(bearer(key))
      .send({ role: 'manager' })
      .expect(200);
    expect(changed.body.role).toBe('manager');
    const toOwner = await ctx
      .http()
      .patch(`/api/v1/users/${meganId}`)
      .set(bearer(key))
      .send({ role: 'owner' })
      .expect(403);
    expect(toOwner.body.code).toBe('OWNER_ROLE_RESERVED');
    const ownerOut = await ctx
      .http()
      .post(`/api/v1/users/${contoso.userId}/deactivate`)
      .set(bearer(key))
      .expect(403);
    expect(ownerOut.body.code).toBe('OWNER_ROLE_RESERVED');

    const trail = await ctx
      .http()
      .get(`/api/v1/audit-events?targetId=${meganId}`)
      .set(bearer(key))
      .expect(200);
    expect(trail.body.items[0]).toMatchObject({
      action: 'user.role_changed',
      actor: { type: 'api_key', id },
    });
    const made = await ctx
      .http()
      .get(`/api/v1/audit-events?targetId=${id}`)
      .set(bearer(contoso.token))
      .expect(200);
    expect(made.body.items[0]).toMatchObject({
      action: 'api_key.created',
      actor: { type: 'user', id: contoso.userId },
    });
  });

  it('stops working at once when revoked or expired, and never crosses organizations', async () => {
    const { key, id } = (await createKey(contoso, { name: 'short', scopes: ['users:read'] })).body;
    await ctx.http().get('/api/v1/users').set(bearer(key)).expect(200);

    // Another organization can neither see nor revoke it, nor reach Contoso with its own key.
    const other = await ctx.http().get('/api/v1/api-keys').set(bearer(fabrikam.token)).expect(200);
    expect(other.body.items).toEqual([]);
    const foreign = await ctx.http().delete(`/api/v1/api-keys/${id}`).set(bearer(fabrikam.token)).expect(404);
    expect(foreign.body.code).toBe('API_KEY_NOT_FOUND');
    const fabrikamKey = (await createKey(fabrikam, { name: 'f', scopes: ['users:read'] })).body.key;
    const seen = await ctx.http().get('/api/v1/users').set(bearer(fabrikamKey)).expect(200);
    expect(seen.body.items.map((u: { email: string }) => u.email)).toEqual([diego.upn]);
    await ctx.http().get(`/api/v1/users/${meganId}`).set(bearer(fabrikamKey)).expect(404);

    await ctx.http().delete(`/api/v1/api-keys/${id}`).set(bearer(contoso.token)).expect(204);
    const revoked = await ctx.http().get('/api/v1/users').set(bearer(key)).expect(401);
    expect(revoked.body.code).toBe('UNAUTHENTICATED');
    await ctx.http().delete(`/api/v1/api-keys/${id}`).set(bearer(contoso.token)).expect(404);
    const trail = await ctx
      .http()
      .get(`/api/v1/audit-events?targetId=${id}&action=api_key.revoked`)
      .set(bearer(contoso.token))
      .expect(200);
    expect(trail.body.items).toHaveLength(1);

    const later = await createKey(contoso, {
      name: 'expiring',
      scopes: ['users:read'],
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    }).expect(201);
    await ctx.http().get('/api/v1/users').set(bearer(later.body.key)).expect(200);
    // An hour passes.
    await ctx.sql.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      later.body.id,
    ]);
    await ctx.http().get('/api/v1/users').set(bearer(later.body.key)).expect(401);
  });

  it('gives each key its own budget, with Retry-After once it is spent', async () => {
    await ctx.reopen({ API_KEY_REQUESTS_PER_MINUTE: '3' });
    const first = (await createKey(contoso, { name: 'busy', scopes: ['users:read'] })).body.key;
    const second = (await createKey(contoso, { name: 'calm', scopes: ['users:read'] })).body.key;
    for (let i = 0; i < 3; i += 1) await ctx.http().get('/api/v1/users').set(bearer(first)).expect(200);
    const refused = await ctx.http().get('/api/v1/users').set(bearer(first)).expect(429);
    expect(refused.body.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['ratelimit']).toMatch(/^limit=3, remaining=0, reset=\d+$/);
    await ctx.http().get('/api/v1/users').set(bearer(second)).expect(200);
    // A person's session is not counted against any key.
    await ctx.http().get('/api/v1/users').set(bearer(contoso.token)).expect(200);
  });
});
