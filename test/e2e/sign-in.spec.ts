import type { Response } from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JWKS_REFETCH_COOLDOWN_MS } from '../../src/microsoft/microsoft-identity.client.js';
import { DEMO } from '@entra-integration/entra-emulator';
import { bearer, callCallback, followAuthorize, signIn, startSignIn } from '../support/sign-in.js';
import { APP_UI_URL, createTestContext, type TestContext } from '../support/test-app.js';
import { seatCountDrift } from '../support/seat-counts.js';

const { megan, adele, alex, diego } = DEMO.users;

function setCookies(response: Response): string[] {
  return (response.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
}

function flowCookieOf(response: Response, name = 'ms_auth_flow'): string | null {
  const cookie = setCookies(response).find((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`));
  return cookie ? decodeURIComponent(cookie.split(';')[0].slice(name.length + 1)) : null;
}

function clearsFlowCookie(response: Response): boolean {
  return setCookies(response).some((c) => c.startsWith('ms_auth_flow=;'));
}

describe('Continue with Microsoft', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('redirects to the organizations authorize endpoint with state, nonce, PKCE and the hints', async () => {
    const { authorizeUrl, flowCookie } = await startSignIn(ctx, {
      login_hint: megan.upn,
      domain_hint: 'contoso.com',
    });
    const url = new URL(authorizeUrl);
    expect(`${url.origin}${url.pathname}`).toBe(
      `${ctx.emulator.authorityHost}/organizations/oauth2/v2.0/authorize`,
    );
    const params = url.searchParams;
    expect(params.get('client_id')).toBe(DEMO.client.clientId);
    expect(params.get('response_type')).toBe('code');
    expect(params.get('redirect_uri')).toBe('http://localhost:3000/auth/microsoft/callback');
    expect(params.get('state')).toMatch(/^[\w-]{43}$/);
    expect(params.get('nonce')).toMatch(/^[\w-]{43}$/);
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(params.get('login_hint')).toBe(megan.upn);
    expect(params.get('domain_hint')).toBe('contoso.com');
    expect(params.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['openid', 'profile', 'email']));
    expect(flowCookie).toBeTruthy();
  });

  it('signs a new user in as Owner of a new free organization and returns to the UI', async () => {
    const result = await signIn(ctx, megan.upn, { returnTo: '/assets?tab=laptops' });
    expect(result.error).toBeNull();
    expect(result.location).toBe(`${APP_UI_URL}/assets?tab=laptops`);
    const cookie = (result.callback.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('session='),
    );
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);

    const me = await ctx.http().get('/api/v1/me').set(bearer(result.token)).expect(200);
    expect(me.body).toMatchObject({
      email: megan.upn,
      displayName: megan.displayName,
      role: 'owner',
      status: 'active',
      microsoftIdentities: [
        { tenantId: DEMO.tenants.contoso.id, objectId: megan.id, userPrincipalName: megan.upn },
      ],
    });
    const organization = await ctx.http().get('/api/v1/organization').set(bearer(result.token)).expect(200);
    expect(organization.body).toMatchObject({ plan: 'free', seatsUsed: 1 });
    expect(me.body.organizationId).toBe(organization.body.id);
  });

  it('accepts the session as the HttpOnly cookie too', async () => {
    const result = await signIn(ctx, megan.upn);
    await ctx.http().get('/api/v1/me').set('Cookie', `session=${result.token}`).expect(200);
  });

  it('signs a returning user into the same account and organization', async () => {
    const first = await signIn(ctx, adele.upn);
    const second = await signIn(ctx, adele.upn);
    const a = await ctx.http().get('/api/v1/me').set(bearer(first.token)).expect(200);
    const b = await ctx.http().get('/api/v1/me').set(bearer(second.token)).expect(200);
    expect(b.body.id).toBe(a.body.id);
    expect(b.body.organizationId).toBe(a.body.organizationId);
    const organizations = await ctx.sql.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [
      adele.upn,
    ]);
    expect(organizations.rows[0].n).toBe(1);
  });

  it.each([
    ['an absolute URL', 'https://evil.example/phish'],
    ['a protocol-relative URL', '//evil.example/phish'],
    ['a backslash trick', '/\\evil.example'],
  ])('never redirects off-site: %s becomes /', async (_label, returnTo) => {
    const result = await signIn(ctx, megan.upn, { returnTo });
    expect(result.error).toBeNull();
    expect(result.location).toBe(`${APP_UI_URL}/`);
  });

  it('refuses a forged state without a session', async () => {
    const { authorizeUrl, flowCookie } = await startSignIn(ctx, { login_hint: megan.upn });
    const redirect = await followAuthorize(authorizeUrl);
    redirect.searchParams.set('state', 'forged-state-value');
    const result = await callCallback(ctx, redirect, flowCookie);
    expect(result.location).toBe(`${APP_UI_URL}/sign-in?error=invalid_state`);
    expect(result.token).toBeNull();
  });

  it('refuses a callback replayed with an already used state', async () => {
    const { authorizeUrl, flowCookie } = await startSignIn(ctx, { login_hint: megan.upn });
    const redirect = await followAuthorize(authorizeUrl);
    expect((await callCallback(ctx, redirect, flowCookie)).error).toBeNull();
    const replay = await callCallback(ctx, redirect, flowCookie);
    expect(replay.error).toBe('invalid_state');
    expect(replay.token).toBeNull();
  });

  it('refuses a callback arriving in a browser that did not start the flow (login CSRF), without spending it', async () => {
    const { authorizeUrl, flowCookie } = await startSignIn(ctx, { login_hint: megan.upn });
    const redirect = await followAuthorize(authorizeUrl);
    for (const otherBrowser of [null, 'x'.repeat(43)]) {
      const result = await callCallback(ctx, redirect, otherBrowser);
      expect(result.error).toBe('invalid_state');
      expect(result.token).toBeNull();
    }
    // The browser that started it still finishes it.
    const own = await callCallback(ctx, redirect, flowCookie);
    expect(own.error).toBeNull();
    expect(own.token).toBeTruthy();
  });

  it('never adopts a flow cookie it did not issue as the browser binding', async () => {
    const planted = 'p'.repeat(43);
    const login = await ctx
      .http()
      .get('/auth/microsoft/login')
      .query({ login_hint: megan.upn })
      .set('Cookie', `ms_auth_flow=${planted}`);
    expect(login.status).toBe(302);
    const issued = flowCookieOf(login);
    expect(issued).toMatch(/^[\w-]{43}$/);
    expect(issued).not.toBe(planted);
    const redirect = await followAuthorize(login.headers.location as string);
    expect((await callCallback(ctx, redirect, planted)).error).toBe('invalid_state');
    expect((await callCallback(ctx, redirect, issued)).error).toBeNull();
  });

  it('keeps parallel sign-ins of one browser alive: a forged callback does not clear the flow cookie', async () => {
    const first = await startSignIn(ctx, { login_hint: megan.upn });
    // A second tab of the same browser reuses the binding it was issued.
    const secondLogin = await ctx
      .http()
      .get('/auth/microsoft/login')
      .query({ login_hint: adele.upn })
      .set('Cookie', `ms_auth_flow=${first.flowCookie}`);
    expect(flowCookieOf(secondLogin)).toBe(first.flowCookie);

    const firstRedirect = await followAuthorize(first.authorizeUrl);
    const forged = new URL(firstRedirect);
    forged.searchParams.set('state', 'forged-state-value');
    const forgedResult = await callCallback(ctx, forged, first.flowCookie);
    expect(forgedResult.error).toBe('invalid_state');
    expect(clearsFlowCookie(forgedResult.callback)).toBe(false);

    const one = await callCallback(ctx, firstRedirect, first.flowCookie);
    expect(one.error).toBeNull();
    expect(clearsFlowCookie(one.callback)).toBe(false); // the second tab is still pending
    const secondRedirect = await followAuthorize(secondLogin.headers.location as string);
    const two = await callCallback(ctx, secondRedirect, first.flowCookie);
    expect(two.error).toBeNull();
    expect(clearsFlowCookie(two.callback)).toBe(true); // the last flow it bound is done
  });

  it('refuses a replayed authorization code', async () => {
    const first = await startSignIn(ctx, { login_hint: megan.upn });
    const firstRedirect = await followAuthorize(first.authorizeUrl);
    expect((await callCallback(ctx, firstRedirect, first.flowCookie)).error).toBeNull();

    // A fresh, valid state, but the code Microsoft already redeemed.
    const second = await startSignIn(ctx, { login_hint: megan.upn });
    const secondRedirect = await followAuthorize(second.authorizeUrl);
    secondRedirect.searchParams.set('code', firstRedirect.searchParams.get('code')!);
    const result = await callCallback(ctx, secondRedirect, second.flowCookie);
    expect(result.error).toBe('microsoft_error');
    expect(result.token).toBeNull();
  });

  describe('ID token validation', () => {
    const now = () => Math.floor(Date.now() / 1000);
    it.each([
      ['a tampered payload', { signature: 'tampered' as const }],
      ['a signature by an unknown key', { signature: 'foreign-key' as const }],
      ['an expired token', { claims: { exp: now() - 600, iat: now() - 4200, nbf: now() - 4200 } }],
      ['a token not yet valid', { claims: { nbf: now() + 3600, iat: now() + 3600, exp: now() + 7200 } }],
      ['a wrong audience', { claims: { aud: '00000000-0000-0000-0000-000000000001' } }],
      [
        'a wrong issuer',
        { claims: { iss: 'https://login.microsoftonline.com/1b78af38-2c37-44d9-a1df-fad64adb86d9/v2.0' } },
      ],
      [
        'an issuer of another tenant than its tid',
        { claims: { iss: `https://127.0.0.1/${DEMO.tenants.fabrikam.id}/v2.0` } },
      ],
      ['a nonce mismatch', { claims: { nonce: 'not-the-nonce-we-sent' } }],
      ['a missing oid', { removeClaims: ['oid'] }],
    ])('refuses %s without a session', async (_label, override) => {
      ctx.emulator.store.setNextIdTokenOverride(override);
      const result = await signIn(ctx, megan.upn);
      expect(result.location).toBe(`${APP_UI_URL}/sign-in?error=invalid_id_token`);
      expect(result.token).toBeNull();
    });

    it('follows a signing-key rotation (re-fetches the key set on an unknown kid)', async () => {
      expect((await signIn(ctx, megan.upn)).error).toBeNull();
      ctx.emulator.rotateKeys();
      // The key set was fetched moments ago; the re-fetch waits out the anti-flood cooldown.
      await new Promise((resolve) => setTimeout(resolve, JWKS_REFETCH_COOLDOWN_MS + 200));
      const result = await signIn(ctx, megan.upn);
      expect(result.error).toBeNull();
      expect(result.token).toBeTruthy();
    });
  });

  it('refuses a personal Microsoft account', async () => {
    const result = await signIn(ctx, alex.upn);
    expect(result.location).toBe(`${APP_UI_URL}/sign-in?error=personal_account_not_supported`);
    expect(result.token).toBeNull();
    const rows = await ctx.sql.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [alex.upn]);
    expect(rows.rows[0].n).toBe(0);
  });

  it('reports a sign-in cancelled at Microsoft', async () => {
    const { authorizeUrl, flowCookie } = await startSignIn(ctx, { login_hint: diego.upn });
    const redirect = new URL('http://localhost:3000/auth/microsoft/callback');
    redirect.searchParams.set('error', 'access_denied');
    redirect.searchParams.set(
      'error_description',
      'AADSTS65004: User declined to consent to access the app.',
    );
    redirect.searchParams.set('state', new URL(authorizeUrl).searchParams.get('state')!);
    const result = await callCallback(ctx, redirect, flowCookie);
    expect(result.error).toBe('sign_in_cancelled');
    expect(result.token).toBeNull();
  });

  it('signs out: the session stops working', async () => {
    const { token } = await signIn(ctx, megan.upn);
    await ctx.http().post('/auth/logout').set(bearer(token)).expect(204);
    const after = await ctx.http().get('/api/v1/me').set(bearer(token)).expect(401);
    expect(after.body.code).toBe('UNAUTHENTICATED');
  });

  it('stores sessions hashed, never the token itself', async () => {
    const { token } = await signIn(ctx, megan.upn);
    const rows = await ctx.sql.query('SELECT token_hash FROM sessions');
    expect(rows.rows.length).toBeGreaterThan(0);
    expect(rows.rows.map((r: { token_hash: string }) => r.token_hash)).not.toContain(token);
  });
});

describe('over https', () => {
  let ctx: TestContext;
  const base = 'https://api.example.com';

  beforeAll(async () => {
    ctx = await createTestContext({ APP_BASE_URL: base });
    ctx.emulator.store.clients[0].redirectUris.push(`${base}/auth/microsoft/callback`);
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('uses __Host- cookies (Secure, Path=/, no Domain) and reads the session from __Host-session', async () => {
    const login = await ctx.http().get('/auth/microsoft/login').query({ login_hint: megan.upn }).expect(302);
    const [flow] = setCookies(login).filter((c) => c.startsWith('__Host-flow='));
    expect(flow).toMatch(/; Secure/i);
    expect(flow).toMatch(/; Path=\/(;|$)/);
    expect(flow).not.toMatch(/Domain=/i);
    const binding = flowCookieOf(login, '__Host-flow');

    const redirect = await followAuthorize(login.headers.location as string);
    const callback = await ctx
      .http()
      .get(`${redirect.pathname}${redirect.search}`)
      .set('Cookie', `__Host-flow=${binding}`);
    expect(callback.headers.location).toBe(`${APP_UI_URL}/`);
    const [session] = setCookies(callback).filter((c) => c.startsWith('__Host-session='));
    expect(session).toMatch(/; Secure/i);
    expect(session).toMatch(/; Path=\/(;|$)/);
    expect(session).not.toMatch(/Domain=/i);
    expect(setCookies(callback).some((c) => c.startsWith('session='))).toBe(false);

    const token = flowCookieOf(callback, '__Host-session');
    await ctx.http().get('/api/v1/me').set('Cookie', `__Host-session=${token}`).expect(200);
    await ctx.http().get('/api/v1/me').set('Cookie', `session=${token}`).expect(401);
  });
});
