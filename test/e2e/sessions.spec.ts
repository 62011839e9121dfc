import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/common/tokens.js';
import { DEMO } from '@entra-integration/entra-emulator';
import { bearer, signIn } from '../support/sign-in.js';
import { APP_UI_URL, createTestContext, type TestContext } from '../support/test-app.js';

const { adele, megan } = DEMO.users;

describe('session idle timeout and "sign out everywhere"', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext({ SESSION_IDLE_MINUTES: '30' });
  });
  afterAll(() => ctx?.close());

  const newSession = async (upn: string) => (await signIn(ctx, upn)).token!;
  const lastSeen = async (token: string) =>
    (await ctx.sql.query('SELECT last_seen_at FROM sessions WHERE token_hash = $1', [sha256(token)])).rows[0]
      .last_seen_at as Date;
  const unusedFor = (token: string, interval: string) =>
    ctx.sql.query(`UPDATE sessions SET last_seen_at = now() - $2::interval WHERE token_hash = $1`, [
      sha256(token),
      interval,
    ]);

  it('refuses a session left unused longer than SESSION_IDLE_MINUTES, while a fresh one works', async () => {
    const idle = await newSession(adele.upn);
    const fresh = await newSession(adele.upn);
    await unusedFor(idle, '31 minutes');
    const refused = await ctx.http().get('/api/v1/me').set(bearer(idle));
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('UNAUTHENTICATED');
    await ctx.http().get('/api/v1/me').set(bearer(fresh)).expect(200);
    // Within the idle window a session keeps working, long before its absolute lifetime ends.
    await unusedFor(fresh, '29 minutes');
    await ctx.http().get('/api/v1/me').set(bearer(fresh)).expect(200);
    await ctx.http().get('/api/v1/me').set(bearer(idle)).expect(401);
  });

  it('moves last use forward at most once a minute, not on every request', async () => {
    const token = await newSession(adele.upn);
    await unusedFor(token, '30 seconds');
    const before = await lastSeen(token);
    await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200);
    expect((await lastSeen(token)).getTime()).toBe(before.getTime());

    await unusedFor(token, '20 minutes');
    const stale = await lastSeen(token);
    await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200);
    const moved = await lastSeen(token);
    expect(moved.getTime() - stale.getTime()).toBeGreaterThan(19 * 60_000);
    // Used again, it stays valid for another full idle window.
    await unusedFor(token, '25 minutes');
    await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200);
  });

  it('revokes every session of the caller, clears the cookie, audits it, and leaves other users alone', async () => {
    const browser = await newSession(adele.upn);
    const integration = await newSession(adele.upn);
    const someoneElse = await newSession(megan.upn);

    const response = await ctx
      .http()
      .post('/api/v1/me/sessions/revoke')
      .set('Cookie', `session=${browser}`)
      .set('Origin', APP_UI_URL)
      .expect(204);
    const cleared = (response.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('session='),
    );
    expect(cleared).toMatch(/^session=;/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);

    await ctx.http().get('/api/v1/me').set('Cookie', `session=${browser}`).expect(401);
    await ctx.http().get('/api/v1/me').set(bearer(integration)).expect(401);
    await ctx.http().get('/api/v1/me').set(bearer(someoneElse)).expect(200);

    const { rows } = await ctx.sql.query(
      "SELECT actor_id, after FROM audit_events WHERE action = 'user.sessions_revoked'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].after.revokedSessions).toBeGreaterThanOrEqual(2);
    const revoked = await ctx.sql.query('SELECT revoked_reason FROM sessions WHERE token_hash = $1', [
      sha256(integration),
    ]);
    expect(revoked.rows[0].revoked_reason).toBe('signed_out_everywhere');
  });

  it('needs a session, and a cookie-authenticated call from another origin cannot sign the user out', async () => {
    await ctx.http().post('/api/v1/me/sessions/revoke').expect(401);
    const token = await newSession(adele.upn);
    await ctx
      .http()
      .post('/api/v1/me/sessions/revoke')
      .set('Cookie', `session=${token}`)
      .set('Origin', 'http://evil.localhost:3000')
      .expect(403);
    await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200);
    await ctx.http().post('/api/v1/me/sessions/revoke').set(bearer(token)).expect(204);
    await ctx.http().get('/api/v1/me').set(bearer(token)).expect(401);
  });
});
