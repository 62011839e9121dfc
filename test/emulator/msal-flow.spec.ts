import { ConfidentialClientApplication, CryptoProvider } from '@azure/msal-node';
import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from './fixture.js';
import {
  REDIRECT_URI,
  TEST_CLIENT,
  call,
  fetchWithCa,
  msalNetworkClient,
  redirectParams,
  startTestEmulator,
  type TestEmulator,
} from './test-support.js';

describe('authorization code flow driven by @azure/msal-node', () => {
  let t: TestEmulator;
  let msal: ConfidentialClientApplication;

  beforeAll(async () => {
    t = await startTestEmulator();
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
  afterAll(() => t.emulator.close());

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

  it('answers the authorize redirect with the code even when MSAL asks for form_post', async () => {
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
});
