import { ConfidentialClientApplication, CryptoProvider } from '@azure/msal-node';
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROLE } from './constants.js';
import { DEMO } from './fixture.js';
import {
  REDIRECT_URI,
  TEST_CLIENT,
  call,
  claims,
  fetchWithCa,
  json,
  msalNetworkClient,
  redirectParams,
  signInForTokens,
  startTestEmulator,
  type TestEmulator,
} from './test-support.js';

interface OpenIdConfig {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint: string;
  id_token_signing_alg_values_supported: string[];
  subject_types_supported: string[];
  response_modes_supported: string[];
  token_endpoint_auth_methods_supported: string[];
}

interface Jwks {
  keys: { kty: string; use: string; kid: string; n: string; e: string; issuer: string }[];
}

let t: TestEmulator;
beforeAll(async () => {
  t = await startTestEmulator();
});
afterEach(() => t.emulator.store.reset());
afterAll(() => t.emulator.close());

describe('discovery', () => {
  const config = async (tenant: string) => {
    const res = await call(`${t.emulator.url}/${tenant}/v2.0/.well-known/openid-configuration`, t.ca);
    return { status: res.status, body: json<OpenIdConfig>(res) };
  };

  it('serves multi-tenant metadata with the {tenantid} issuer template', async () => {
    const { status, body } = await config('organizations');
    expect(status).toBe(200);
    expect(body.issuer).toBe(`${t.emulator.url}/{tenantid}/v2.0`);
    expect(body.authorization_endpoint).toBe(`${t.emulator.url}/organizations/oauth2/v2.0/authorize`);
    expect(body.token_endpoint).toBe(`${t.emulator.url}/organizations/oauth2/v2.0/token`);
    expect(body.jwks_uri).toBe(`${t.emulator.url}/organizations/discovery/v2.0/keys`);
    expect(body.end_session_endpoint).toBe(`${t.emulator.url}/organizations/oauth2/v2.0/logout`);
    expect(body.id_token_signing_alg_values_supported).toEqual(['RS256']);
    expect(body.subject_types_supported).toEqual(['pairwise']);
    expect(body.response_modes_supported).toContain('form_post');
    expect(body.token_endpoint_auth_methods_supported).toContain('client_secret_basic');
    expect((await config('common')).body.issuer).toBe(`${t.emulator.url}/{tenantid}/v2.0`);
  });

  it('resolves a verified domain case-insensitively to the concrete tenant GUID', async () => {
    const { body } = await config('contoso.ONMICROSOFT.com');
    const tid = DEMO.tenants.contoso.id;
    expect(body.issuer).toBe(`${t.emulator.url}/${tid}/v2.0`);
    expect(body.token_endpoint).toBe(`${t.emulator.url}/${tid}/oauth2/v2.0/token`);
  });

  it('rejects an unknown tenant like Entra does', async () => {
    const { status, body } = await config('nowhere.example');
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_tenant', error_codes: [90002] });
  });

  it('publishes RS256 signing keys with the template issuer', async () => {
    const res = await call(`${t.emulator.url}/organizations/discovery/v2.0/keys`, t.ca);
    const { keys } = json<Jwks>(res);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatchObject({
        kty: 'RSA',
        use: 'sig',
        e: 'AQAB',
        issuer: `${t.emulator.url}/{tenantid}/v2.0`,
      });
      expect(key.kid).toMatch(/^[A-Za-z0-9_-]{27}$/);
      expect(Buffer.from(key.n, 'base64url').length).toBe(256);
    }
    const tenantKeys = json<Jwks>(
      await call(`${t.emulator.url}/${DEMO.tenants.fabrikam.id}/discovery/v2.0/keys`, t.ca),
    ).keys;
    expect(tenantKeys[0].issuer).toBe(`${t.emulator.url}/${DEMO.tenants.fabrikam.id}/v2.0`);
  });

  it('answers instance discovery for the emulator host', async () => {
    const endpoint = encodeURIComponent(`${t.emulator.url}/organizations/oauth2/v2.0/authorize`);
    const res = await call(
      `${t.emulator.url}/common/discovery/instance?api-version=1.1&authorization_endpoint=${endpoint}`,
      t.ca,
    );
    const body = json<{ tenant_discovery_endpoint: string; metadata: { aliases: string[] }[] }>(res);
    expect(body.tenant_discovery_endpoint).toBe(
      `${t.emulator.url}/organizations/v2.0/.well-known/openid-configuration`,
    );
    expect(body.metadata[0].aliases).toEqual([new URL(t.emulator.url).host]);
  });
});

describe('authorization code flow driven by @azure/msal-node', () => {
  let msal: ConfidentialClientApplication;

  beforeAll(() => {
    const host = new URL(t.emulator.url).host;
    msal = new ConfidentialClientApplication({
      auth: {
        clientId: TEST_CLIENT.clientId,
        clientSecret: TEST_CLIENT.clientSecret,
        authority: `${t.emulator.authorityHost}/organizations`,
        knownAuthorities: [host],
      },
      system: { networkClient: msalNetworkClient(t.ca) },
    });
  });

  it('signs Megan in and issues an ID token that validates against the template issuer', async () => {
    const crypto = new CryptoProvider();
    const { verifier, challenge } = await crypto.generatePkceCodes();
    const nonce = crypto.createNewGuid();
    const state = crypto.createNewGuid();
    const authUrl = await msal.getAuthCodeUrl({
      scopes: ['User.Read'],
      redirectUri: REDIRECT_URI,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      nonce,
      state,
      loginHint: DEMO.users.megan.upn,
    });
    expect(authUrl.startsWith(`${t.emulator.url}/organizations/oauth2/v2.0/authorize?`)).toBe(true);

    const back = redirectParams(await call(authUrl, t.ca));
    expect(back.get('state')).toBe(state);
    const code = back.get('code');
    expect(code).toBeTruthy();

    // The confidential client takes the expected nonce from the request, not from the payload.
    const result = await msal.acquireTokenByCode(
      { code: code!, scopes: ['User.Read'], redirectUri: REDIRECT_URI, codeVerifier: verifier, state, nonce },
      { code: code!, state },
    );
    expect(result.account?.homeAccountId).toBe(`${DEMO.users.megan.id}.${DEMO.tenants.contoso.id}`);
    expect(result.account?.username).toBe(DEMO.users.megan.upn);
    expect(result.accessToken).toBeTruthy();

    const config = JSON.parse(
      (await call(`${t.emulator.url}/organizations/v2.0/.well-known/openid-configuration`, t.ca)).text,
    ) as { issuer: string; jwks_uri: string };
    const jwks = createRemoteJWKSet(new URL(config.jwks_uri), { [customFetch]: fetchWithCa(t.ca) });
    const { payload, protectedHeader } = await jwtVerify(result.idToken, jwks, {
      audience: TEST_CLIENT.clientId,
      algorithms: ['RS256'],
    });
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload.iss).toBe(config.issuer.replace('{tenantid}', String(payload.tid)));
    expect(payload).toMatchObject({
      tid: DEMO.tenants.contoso.id,
      oid: DEMO.users.megan.id,
      nonce,
      ver: '2.0',
      preferred_username: DEMO.users.megan.upn,
      name: DEMO.users.megan.displayName,
    });
  });

  it('delivers the code through an auto-submitting form when MSAL asks for form_post', async () => {
    const crypto = new CryptoProvider();
    const { challenge } = await crypto.generatePkceCodes();
    const authUrl = await msal.getAuthCodeUrl({
      scopes: ['User.Read'],
      redirectUri: TEST_CLIENT.redirectUris[1],
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      responseMode: 'form_post',
      state: 'fp-state',
      loginHint: DEMO.users.megan.upn,
    });
    const page = await call(authUrl, t.ca);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'nonce-/);
    expect(page.text).toContain(`action="${TEST_CLIENT.redirectUris[1]}"`);
    expect(page.text).toMatch(/name="code" value="[^"]+"/);
    expect(page.text).toContain('name="state" value="fp-state"');
  });

  it('refreshes through MSAL with the refresh token from the code redemption', async () => {
    const tokens = await signInForTokens(t, { loginHint: DEMO.users.megan.upn });
    const result = await msal.acquireTokenByRefreshToken({
      refreshToken: tokens.refresh_token!,
      scopes: ['User.Read'],
    });
    expect(result?.account?.homeAccountId).toBe(`${DEMO.users.megan.id}.${DEMO.tenants.contoso.id}`);
    expect(claims(result!.accessToken).scp).toBe('User.Read');
  });

  it('gets app-only tokens through MSAL for a consented tenant', async () => {
    t.emulator.store.grantConsent(DEMO.tenants.fabrikam.id, TEST_CLIENT.clientId, {
      roles: ['User.Read.All'],
    });
    const result = await msal.acquireTokenByClientCredential({
      scopes: ['https://graph.microsoft.com/.default'],
      authority: `${t.emulator.authorityHost}/${DEMO.tenants.fabrikam.id}`,
    });
    expect(claims(result!.accessToken)).toMatchObject({
      tid: DEMO.tenants.fabrikam.id,
      roles: ['User.Read.All'],
    });
  });
});

describe('ID token claims', () => {
  const idToken = async (loginHint: string) => (await signInForTokens(t, { loginHint })).id_token!;
  /** Verifies like a relying party: JWKS from the emulator, template issuer with the token's tid. */
  const verify = async (token: string) => {
    const jwks = createRemoteJWKSet(new URL(`${t.emulator.url}/organizations/discovery/v2.0/keys`), {
      [customFetch]: fetchWithCa(t.ca),
      cooldownDuration: 0,
    });
    const { payload } = await jwtVerify(token, jwks, {
      audience: TEST_CLIENT.clientId,
      algorithms: ['RS256'],
    });
    if (payload.iss !== `${t.emulator.url}/${String(payload.tid)}/v2.0`) throw new Error('issuer mismatch');
    return payload;
  };

  it('describes a member: tid/oid, pairwise sub, roles, groups, verified email', async () => {
    const adele = claims(await idToken(DEMO.users.adele.upn));
    expect(adele).toMatchObject({
      ver: '2.0',
      tid: DEMO.tenants.contoso.id,
      oid: DEMO.users.adele.id,
      preferred_username: DEMO.users.adele.upn,
      name: DEMO.users.adele.displayName,
      email: DEMO.users.adele.upn,
      xms_edov: true,
      acct: 0,
      groups: [],
    });
    expect(adele.wids).toContain(ROLE.globalAdministrator);
    expect(adele.idp).toBeUndefined();
    expect(adele.sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(adele.sub).not.toBe(adele.oid);
    expect(Number(adele.exp) - Number(adele.iat)).toBe(3600);

    const megan = claims(await idToken(DEMO.users.megan.upn));
    expect(megan.groups).toEqual([DEMO.groups.engineering.id]);
    expect(megan.wids).not.toContain(ROLE.globalAdministrator);
  });

  it('includes nested groups transitively', async () => {
    const { store } = t.emulator;
    const parent = store.addGroup({ tenantId: DEMO.tenants.contoso.id, displayName: 'All Staff' });
    store.addMember(parent.id, DEMO.groups.engineering.id);
    store.addMember(DEMO.groups.engineering.id, parent.id);
    const groups = claims(await idToken(DEMO.users.megan.upn)).groups as string[];
    expect(groups.sort()).toEqual([DEMO.groups.engineering.id, parent.id].sort());
  });

  it('marks guests: acct 1, idp of the home tenant, unverified email domain', async () => {
    const guest = claims(await idToken(DEMO.users.guest.upn));
    expect(guest).toMatchObject({
      tid: DEMO.tenants.contoso.id,
      oid: DEMO.users.guest.id,
      acct: 1,
      idp: `https://sts.windows.net/${DEMO.tenants.fabrikam.id}/`,
      email: DEMO.users.guest.mail,
      xms_edov: false,
    });
    expect(guest.idp).not.toBe(guest.iss);
  });

  it('replaces groups with an overage pointer beyond 200 groups', async () => {
    const { store } = t.emulator;
    for (let i = 0; i < 200; i++) {
      const g = store.addGroup({ tenantId: DEMO.tenants.contoso.id, displayName: `Team ${i}` });
      store.addMember(g.id, DEMO.users.megan.id);
    }
    const token = claims(await idToken(DEMO.users.megan.upn));
    expect(token.groups).toBeUndefined();
    expect(token._claim_names).toEqual({ groups: 'src1' });
    expect(token._claim_sources).toEqual({
      src1: { endpoint: `${t.emulator.graphBaseUrl}/v1.0/users/${DEMO.users.megan.id}/getMemberObjects` },
    });

    store.removeMember(DEMO.groups.engineering.id, DEMO.users.megan.id);
    expect((claims(await idToken(DEMO.users.megan.upn)).groups as string[]).length).toBe(200);
  });

  describe('next-ID-token overrides', () => {
    it('changes and removes claims, for the next token only', async () => {
      t.emulator.store.setNextIdTokenOverride({
        claims: { aud: 'someone-else', nonce: 'evil' },
        removeClaims: ['tid'],
      });
      const overridden = await idToken(DEMO.users.megan.upn);
      expect(claims(overridden)).toMatchObject({ aud: 'someone-else', nonce: 'evil' });
      expect(claims(overridden).tid).toBeUndefined();
      await expect(verify(overridden)).rejects.toThrow(errors.JWTClaimValidationFailed);

      const next = await idToken(DEMO.users.megan.upn);
      expect(claims(next).aud).toBe(TEST_CLIENT.clientId);
      await expect(verify(next)).resolves.toMatchObject({ oid: DEMO.users.megan.id });
    });

    it('produces expired tokens that still carry a valid signature', async () => {
      const past = Math.floor(Date.now() / 1000) - 7200;
      t.emulator.store.setNextIdTokenOverride({ claims: { iat: past, nbf: past, exp: past + 3600 } });
      await expect(verify(await idToken(DEMO.users.megan.upn))).rejects.toThrow(errors.JWTExpired);
    });

    it('signs with an unpublished key under a plausible kid', async () => {
      t.emulator.store.setNextIdTokenOverride({ signature: 'foreign-key' });
      const token = await idToken(DEMO.users.megan.upn);
      expect(decodeProtectedHeader(token).kid).toMatch(/^[A-Za-z0-9_-]{27}$/);
      await expect(verify(token)).rejects.toThrow(errors.JWKSNoMatchingKey);
    });

    it('tampers with the payload after signing', async () => {
      t.emulator.store.setNextIdTokenOverride({
        signature: 'tampered',
        claims: { oid: DEMO.users.adele.id },
      });
      const token = await idToken(DEMO.users.megan.upn);
      expect(claims(token).oid).toBe(DEMO.users.adele.id);
      await expect(verify(token)).rejects.toThrow(errors.JWSSignatureVerificationFailed);
    });
  });

  describe('key rotation', () => {
    it('signs with the new key and keeps old tokens verifiable until the old key is dropped', async () => {
      const before = await idToken(DEMO.users.megan.upn);
      t.emulator.rotateKeys();
      const after = await idToken(DEMO.users.megan.upn);
      expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
      await expect(verify(before)).resolves.toBeTruthy();
      await expect(verify(after)).resolves.toBeTruthy();

      t.emulator.rotateKeys({ dropOld: true });
      await expect(verify(before)).rejects.toThrow(errors.JWKSNoMatchingKey);
      await expect(verify(await idToken(DEMO.users.megan.upn))).resolves.toBeTruthy();
    });
  });
});
