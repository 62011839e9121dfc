import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from './fixture.js';
import {
  REDIRECT_URI,
  TEST_CLIENT,
  claims,
  json,
  postForm,
  redeem,
  signIn,
  signInForTokens,
  startTestEmulator,
  tokenUrl,
  type TestEmulator,
  type TokenResponse,
} from './test-support.js';

interface TokenError {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
  suberror?: string;
}

let t: TestEmulator;
beforeAll(async () => {
  t = await startTestEmulator();
});
afterEach(() => t.emulator.store.reset());
afterAll(() => t.emulator.close());

describe('token endpoint', () => {
  const megan = { loginHint: DEMO.users.megan.upn };
  const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
    postForm(tokenUrl(t.emulator.url), t.ca, {
      client_id: TEST_CLIENT.clientId,
      client_secret: TEST_CLIENT.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      scope: 'openid profile offline_access User.Read',
      ...extra,
    });

  describe('authorization_code', () => {
    it('returns Bearer tokens, client_info and a Graph access token', async () => {
      const s = await signIn(t, megan);
      const res = await redeem(t, s, { client_info: '1' });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toContain('no-store');
      const body = json<TokenResponse>(res);
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
      expect(body.scope?.split(' ')).toEqual(
        expect.arrayContaining(['User.Read', 'openid', 'profile', 'email']),
      );
      expect(JSON.parse(Buffer.from(body.client_info!, 'base64url').toString())).toEqual({
        uid: DEMO.users.megan.id,
        utid: DEMO.tenants.contoso.id,
      });
      expect(claims(body.access_token)).toMatchObject({
        aud: 'https://graph.microsoft.com',
        iss: `https://sts.windows.net/${DEMO.tenants.contoso.id}/`,
        tid: DEMO.tenants.contoso.id,
        oid: DEMO.users.megan.id,
        scp: 'User.Read',
        appid: TEST_CLIENT.clientId,
        ver: '1.0',
      });
      expect(claims(body.id_token!).nonce).toBe(s.nonce);
      expect(body.refresh_token).toBeTruthy();
    });

    it('issues no refresh token without offline_access and no ID token without openid', async () => {
      const body = await signInForTokens(t, { ...megan, scope: 'User.Read' });
      expect(body.refresh_token).toBeUndefined();
      expect(body.id_token).toBeUndefined();
      expect(body.access_token).toBeTruthy();
    });

    it('refuses a replayed code with AADSTS54005 in the Entra error shape', async () => {
      const s = await signIn(t, megan);
      expect((await redeem(t, s)).status).toBe(200);
      const correlation = crypto.randomUUID();
      const replay = await postForm(`${tokenUrl(t.emulator.url)}?client-request-id=${correlation}`, t.ca, {
        client_id: TEST_CLIENT.clientId,
        client_secret: TEST_CLIENT.clientSecret,
        grant_type: 'authorization_code',
        code: s.code,
        redirect_uri: REDIRECT_URI,
        code_verifier: s.verifier,
      });
      expect(replay.status).toBe(400);
      const body = json<TokenError>(replay);
      expect(body.error).toBe('invalid_grant');
      expect(body.error_codes).toEqual([54005]);
      expect(body.error_description).toMatch(
        /^AADSTS54005: OAuth2 Authorization code was already redeemed.*\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/s,
      );
      expect(body.trace_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.correlation_id).toBe(correlation);
      expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
      expect(body.error_uri).toBe(`${t.emulator.url}/error?code=54005`);
    });

    it('checks the PKCE verifier, and a failed attempt does not burn the code', async () => {
      const s = await signIn(t, megan);
      const wrong = json<TokenError>(await redeem(t, { ...s, verifier: 'x'.repeat(43) }));
      expect(wrong).toMatchObject({ error: 'invalid_grant', error_codes: [501481] });
      const none = json<TokenError>(await redeem(t, { ...s, verifier: '' }));
      expect(none).toMatchObject({ error: 'invalid_grant', error_codes: [50148] });
      expect((await redeem(t, s)).status).toBe(200);
    });

    it('expires codes after ten minutes', async () => {
      const s = await signIn(t, megan);
      t.emulator.store.advanceClock(10 * 60 * 1000 + 1000);
      expect(json<TokenError>(await redeem(t, s))).toMatchObject({
        error: 'invalid_grant',
        error_codes: [70008],
      });
    });

    it('binds the code to its redirect URI and tenant', async () => {
      const s = await signIn(t, megan);
      const otherRedirect = await redeem(t, s, { redirect_uri: TEST_CLIENT.redirectUris[1] });
      expect(json<TokenError>(otherRedirect).error).toBe('invalid_grant');
      const otherTenant = await postForm(tokenUrl(t.emulator.url, DEMO.tenants.fabrikam.id), t.ca, {
        client_id: TEST_CLIENT.clientId,
        client_secret: TEST_CLIENT.clientSecret,
        grant_type: 'authorization_code',
        code: s.code,
        redirect_uri: REDIRECT_URI,
        code_verifier: s.verifier,
      });
      expect(json<TokenError>(otherTenant).error).toBe('invalid_grant');
    });
  });

  describe('client authentication', () => {
    it('rejects a wrong secret with 401 invalid_client AADSTS7000215', async () => {
      const s = await signIn(t, megan);
      const res = await redeem(t, s, { client_secret: 'nope' });
      expect(res.status).toBe(401);
      expect(json<TokenError>(res)).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    });

    it('accepts HTTP Basic client authentication', async () => {
      const s = await signIn(t, megan);
      const basic = Buffer.from(
        `${encodeURIComponent(TEST_CLIENT.clientId)}:${encodeURIComponent(TEST_CLIENT.clientSecret)}`,
      ).toString('base64');
      const res = await postForm(
        tokenUrl(t.emulator.url),
        t.ca,
        {
          grant_type: 'authorization_code',
          code: s.code,
          redirect_uri: REDIRECT_URI,
          code_verifier: s.verifier,
        },
        { authorization: `Basic ${basic}` },
      );
      expect(res.status).toBe(200);
    });

    it('rejects unsupported grant types', async () => {
      const res = await postForm(tokenUrl(t.emulator.url), t.ca, {
        client_id: TEST_CLIENT.clientId,
        client_secret: TEST_CLIENT.clientSecret,
        grant_type: 'password',
      });
      expect(json<TokenError>(res)).toMatchObject({ error: 'unsupported_grant_type', error_codes: [70003] });
    });
  });

  describe('refresh_token', () => {
    it('rotates: each use returns a new token and the used one stops working', async () => {
      const first = await signInForTokens(t, megan);
      const second = json<TokenResponse>(await refresh(first.refresh_token!));
      expect(second.refresh_token).toBeTruthy();
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(claims(second.id_token!).nonce).toBeUndefined();
      expect(claims(second.access_token).oid).toBe(DEMO.users.megan.id);

      const reuse = json<TokenError>(await refresh(first.refresh_token!));
      expect(reuse).toMatchObject({ error: 'invalid_grant', error_codes: [70000] });
      expect((await refresh(second.refresh_token!)).status).toBe(200);
    });

    it('stops working once revoked, with AADSTS50173', async () => {
      const { refresh_token } = await signInForTokens(t, megan);
      expect(t.emulator.store.revokeRefreshTokens({ userId: DEMO.users.megan.id })).toBe(1);
      expect(json<TokenError>(await refresh(refresh_token!))).toMatchObject({
        error: 'invalid_grant',
        error_codes: [50173],
      });
    });

    it('stops working when the user is disabled or deleted', async () => {
      const a = await signInForTokens(t, megan);
      t.emulator.store.updateUser(DEMO.users.megan.id, { accountEnabled: false });
      expect(json<TokenError>(await refresh(a.refresh_token!))).toMatchObject({ error: 'invalid_grant' });

      const b = await signInForTokens(t, { loginHint: DEMO.users.adele.upn });
      t.emulator.store.deleteUser(DEMO.users.adele.id);
      expect(json<TokenError>(await refresh(b.refresh_token!))).toMatchObject({ error: 'invalid_grant' });
    });

    it('only narrows scopes, never widens them', async () => {
      const { refresh_token } = await signInForTokens(t, megan);
      const wider = json<TokenError>(await refresh(refresh_token!, { scope: 'openid User.Read Mail.Read' }));
      expect(wider).toMatchObject({
        error: 'invalid_grant',
        suberror: 'consent_required',
        error_codes: [65001],
      });
      const same = json<TokenResponse>(
        await refresh(refresh_token!, { scope: 'https://graph.microsoft.com/User.Read' }),
      );
      expect(claims(same.access_token).scp).toBe('User.Read');
      expect(same.id_token).toBeUndefined();
    });

    it('rejects garbage with AADSTS9002313', async () => {
      expect(json<TokenError>(await refresh('garbage'))).toMatchObject({
        error: 'invalid_grant',
        error_codes: [9002313],
      });
    });
  });

  describe('client_credentials', () => {
    const credentials = (tenant: string, scope = 'https://graph.microsoft.com/.default') =>
      postForm(tokenUrl(t.emulator.url, tenant), t.ca, {
        client_id: TEST_CLIENT.clientId,
        client_secret: TEST_CLIENT.clientSecret,
        grant_type: 'client_credentials',
        scope,
      });

    it('needs a concrete tenant in the path', async () => {
      const res = await credentials('organizations');
      expect(res.status).toBe(400);
      expect(json<TokenError>(res).error).toBe('invalid_request');
    });

    it('needs the app to be consented in that tenant', async () => {
      expect(json<TokenError>(await credentials(DEMO.tenants.contoso.id))).toMatchObject({
        error: 'unauthorized_client',
        error_codes: [700016],
      });
    });

    it('needs a /.default scope', async () => {
      t.emulator.store.grantConsent(DEMO.tenants.contoso.id, TEST_CLIENT.clientId, {
        roles: ['User.Read.All'],
      });
      const res = await credentials(DEMO.tenants.contoso.id, 'https://graph.microsoft.com/User.Read.All');
      expect(json<TokenError>(res).error).toBe('invalid_scope');
    });

    it('issues an app-only token carrying the granted roles and no refresh token', async () => {
      t.emulator.store.grantConsent(DEMO.tenants.contoso.id, TEST_CLIENT.clientId, {
        roles: ['User.Read.All', 'Group.Read.All'],
      });
      const res = await credentials('Contoso.onmicrosoft.com');
      expect(res.status).toBe(200);
      const body = json<TokenResponse>(res);
      expect(body.refresh_token).toBeUndefined();
      expect(body.id_token).toBeUndefined();
      expect(claims(body.access_token)).toMatchObject({
        aud: 'https://graph.microsoft.com',
        tid: DEMO.tenants.contoso.id,
        idtyp: 'app',
        roles: ['User.Read.All', 'Group.Read.All'],
        appid: TEST_CLIENT.clientId,
      });
      expect(claims(body.access_token).scp).toBeUndefined();
    });
  });
});
