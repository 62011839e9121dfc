import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MSA_TENANT_ID, ROLE } from './constants.js';
import { DEMO } from './fixture.js';
import {
  REDIRECT_URI,
  TEST_CLIENT,
  authorizeUrl,
  call,
  claims,
  pkce,
  postForm,
  redeem,
  redirectParams,
  signInForTokens,
  startTestEmulator,
  type TestEmulator,
} from './test-support.js';

const ADMIN_SCOPES =
  'openid profile offline_access https://graph.microsoft.com/User.Read.All GroupMember.Read.All';

let t: TestEmulator;
beforeAll(async () => {
  t = await startTestEmulator();
});
afterEach(() => t.emulator.store.reset());
afterAll(() => t.emulator.close());

describe('authorize endpoint', () => {
  const authorize = (p: Parameters<typeof authorizeUrl>[1]) =>
    call(authorizeUrl(t.emulator.url, { challenge: pkce().challenge, ...p }), t.ca);

  it('completes at once with a login_hint, matching the UPN case-insensitively', async () => {
    const res = await authorize({ loginHint: 'MEGAN@Contoso.com', state: 'xyz' });
    const location = new URL(res.headers.location);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe('xyz');
    expect(location.searchParams.get('code')).toMatch(/^1\.[A-Za-z0-9_-]{100,}$/);
  });

  it('accepts the mail address as login_hint (guests sign in with their home address)', async () => {
    const { verifier, challenge } = pkce();
    const params = redirectParams(await authorize({ loginHint: DEMO.users.guest.mail, challenge }));
    const tokens = await redeem(t, { code: params.get('code')!, verifier, nonce: '' });
    expect(claims(JSON.parse(tokens.text).id_token).oid).toBe(DEMO.users.guest.id);
  });

  it('shows an error page, not a redirect, for an unknown client or an unregistered redirect URI', async () => {
    const unknownClient = await authorize({ loginHint: DEMO.users.megan.upn, clientId: crypto.randomUUID() });
    expect(unknownClient.status).toBe(400);
    expect(unknownClient.headers.location).toBeUndefined();
    expect(unknownClient.text).toContain('AADSTS700016');

    const badRedirect = await authorize({
      loginHint: DEMO.users.megan.upn,
      redirectUri: 'https://evil.test/cb',
    });
    expect(badRedirect.status).toBe(400);
    expect(badRedirect.headers.location).toBeUndefined();
    expect(badRedirect.text).toContain('AADSTS50011');
    expect(badRedirect.text).toContain('https://evil.test/cb');
  });

  it('requires PKCE with S256 and reports it to the app with the state echoed', async () => {
    const res = await call(
      authorizeUrl(t.emulator.url, { loginHint: DEMO.users.megan.upn, state: 's1' }),
      t.ca,
    );
    const params = redirectParams(res);
    expect(params.get('error')).toBe('invalid_request');
    expect(params.get('error_description')).toMatch(/^AADSTS9002325: /);
    expect(params.get('error_uri')).toContain('/error?code=9002325');
    expect(params.get('state')).toBe('s1');
    expect(params.get('code')).toBeNull();
  });

  it('gives an HTML error with status 400 for an unknown login_hint', async () => {
    const res = await authorize({ loginHint: 'nobody@contoso.com' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('AADSTS50034');
  });

  it('stops a disabled account with AADSTS50057 and does not redirect', async () => {
    const res = await authorize({ loginHint: DEMO.users.disabled.upn });
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('AADSTS50057');
  });

  it('answers prompt=none without a hint with interaction_required', async () => {
    const params = redirectParams(await authorize({ prompt: 'none', state: 'silent' }));
    expect(params.get('error')).toBe('interaction_required');
    expect(params.get('error_description')).toMatch(/^AADSTS50058: /);
    expect(params.get('state')).toBe('silent');
  });

  it('only admits users of the tenant named in the path', async () => {
    const ok = await authorize({ tenant: 'fabrikam.com', loginHint: DEMO.users.lee.upn });
    expect(ok.status).toBe(302);
    const other = await authorize({ tenant: DEMO.tenants.fabrikam.id, loginHint: DEMO.users.megan.upn });
    expect(other.status).toBe(400);
    expect(other.text).toContain('AADSTS50020');
  });

  it('lets a personal account through /organizations so the service has to refuse it itself', async () => {
    const { verifier, challenge } = pkce();
    const params = redirectParams(await authorize({ loginHint: DEMO.users.alex.upn, challenge }));
    const body = JSON.parse((await redeem(t, { code: params.get('code')!, verifier, nonce: '' })).text);
    expect(claims(body.id_token).tid).toBe(MSA_TENANT_ID);
  });

  it('completes a domain_hint at once only when the tenant has a single enabled member', async () => {
    const fabrikamPicker = await authorize({ domainHint: 'fabrikam.com' });
    expect(fabrikamPicker.status).toBe(200);
    expect(fabrikamPicker.text).toContain(DEMO.users.diego.upn);
    expect(fabrikamPicker.text).toContain(DEMO.users.lee.upn);
    expect(fabrikamPicker.text).not.toContain(DEMO.users.megan.upn);

    const tenant = t.emulator.store.addTenant({
      displayName: 'Tailspin',
      verifiedDomains: ['tailspin.test'],
    });
    const only = t.emulator.store.addUser({ tenantId: tenant.id, userPrincipalName: 'only@tailspin.test' });
    t.emulator.store.addUser({
      tenantId: tenant.id,
      userPrincipalName: 'off@tailspin.test',
      accountEnabled: false,
    });
    const { verifier, challenge } = pkce();
    const params = redirectParams(await authorize({ domainHint: 'TAILSPIN.test', challenge }));
    const body = JSON.parse((await redeem(t, { code: params.get('code')!, verifier, nonce: '' })).text);
    expect(claims(body.id_token).oid).toBe(only.id);
  });

  it('renders a self-contained account picker whose buttons complete the flow', async () => {
    const { verifier, challenge } = pkce();
    const page = await authorize({ challenge, state: 'picked' });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.text).not.toMatch(/(src|href)="https?:/);
    expect(page.text).toContain('<h2>Contoso</h2>');
    expect(page.text).toContain('<h2>Fabrikam</h2>');
    expect(page.text).toContain('guest_fabrikam.com#EXT#@Contoso.onmicrosoft.com');

    const action = /<form method="post" action="([^"]+)"/.exec(page.text)![1];
    const hidden = Object.fromEntries(
      [...page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    expect(hidden.code_challenge).toBe(challenge);
    const chosen = await postForm(`${t.emulator.url}${action}`, t.ca, {
      ...hidden,
      emulator_user_id: DEMO.users.lee.id,
    });
    const params = redirectParams(chosen);
    expect(params.get('state')).toBe('picked');
    const body = JSON.parse((await redeem(t, { code: params.get('code')!, verifier, nonce: '' })).text);
    expect(claims(body.id_token).oid).toBe(DEMO.users.lee.id);
  });

  it('shows the picker for prompt=select_account even with a login_hint', async () => {
    const page = await authorize({ prompt: 'select_account', loginHint: DEMO.users.megan.upn });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Pick an account');
  });

  it('puts the result in the fragment for response_mode=fragment', async () => {
    const res = await authorize({ loginHint: DEMO.users.megan.upn, responseMode: 'fragment', state: 'f' });
    const location = new URL(res.headers.location);
    expect(location.search).toBe('');
    const params = new URLSearchParams(location.hash.slice(1));
    expect(params.get('code')).toBeTruthy();
    expect(params.get('state')).toBe('f');
  });

  it('admits only personal accounts through /consumers', async () => {
    expect((await authorize({ tenant: 'consumers', loginHint: DEMO.users.alex.upn })).status).toBe(302);
    expect((await authorize({ tenant: 'consumers', loginHint: DEMO.users.megan.upn })).text).toContain(
      'AADSTS50020',
    );
  });

  it('redirects after logout only to origins the app registered', async () => {
    const logout = (target: string) =>
      call(
        `${t.emulator.url}/organizations/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent(target)}`,
        t.ca,
      );
    expect((await logout('https://app.test/signed-out')).headers.location).toBe(
      'https://app.test/signed-out',
    );
    const refused = await logout('https://evil.test/');
    expect(refused.status).toBe(200);
    expect(refused.headers.location).toBeUndefined();
  });

  it('delivers the result by auto-submitting form for response_mode=form_post', async () => {
    const page = await authorize({
      loginHint: DEMO.users.megan.upn,
      responseMode: 'form_post',
      redirectUri: TEST_CLIENT.redirectUris[1],
      state: 'fp',
    });
    expect(page.status).toBe(200);
    const nonce = /script-src 'nonce-([^']+)'/.exec(page.headers['content-security-policy'])![1];
    expect(page.text).toContain(`<script nonce="${nonce}">document.forms[0].submit();</script>`);
    expect(page.text).toContain('name="state" value="fp"');
  });
});

describe('tenant-wide admin consent', () => {
  const authorize = (loginHint: string, extra: { prompt?: string; state?: string } = {}) =>
    call(
      authorizeUrl(t.emulator.url, { loginHint, scope: ADMIN_SCOPES, challenge: pkce().challenge, ...extra }),
      t.ca,
    );
  const grant = () => t.emulator.store.findGrant(DEMO.tenants.contoso.id, TEST_CLIENT.clientId);

  it('sends a non-admin back with consent_required', async () => {
    const params = redirectParams(await authorize(DEMO.users.megan.upn, { state: 'c1' }));
    expect(params.get('error')).toBe('consent_required');
    expect(params.get('error_description')).toMatch(/^AADSTS90094: .*only an admin can grant/);
    expect(params.get('state')).toBe('c1');
    expect(grant()).toBeUndefined();
  });

  it('reports an admin who declines as access_denied with error_subcode=cancel', async () => {
    t.emulator.store.setConsentDecision('decline');
    const params = redirectParams(await authorize(DEMO.users.adele.upn, { state: 'c2' }));
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('error_subcode')).toBe('cancel');
    expect(params.get('error_description')).toMatch(/^AADSTS65004: User declined to consent/);
    expect(params.get('state')).toBe('c2');
    expect(grant()).toBeUndefined();
  });

  it('records the grant when an admin accepts, after which non-admins get those scopes', async () => {
    const admin = await signInForTokens(t, { loginHint: DEMO.users.adele.upn, scope: ADMIN_SCOPES });
    expect(claims(admin.access_token).scp).toBe('User.Read.All GroupMember.Read.All');
    expect(grant()?.scopes).toEqual(['User.Read.All', 'GroupMember.Read.All']);
    // A Global Administrator's consent covers the application permissions too.
    expect(grant()?.roles).toEqual(['User.Read.All', 'GroupMember.Read.All']);

    const member = await signInForTokens(t, { loginHint: DEMO.users.megan.upn, scope: ADMIN_SCOPES });
    expect(claims(member.access_token)).toMatchObject({
      oid: DEMO.users.megan.id,
      scp: 'User.Read.All GroupMember.Read.All',
    });

    const fabrikamMember = redirectParams(await authorize(DEMO.users.lee.upn));
    expect(fabrikamMember.get('error')).toBe('consent_required');
  });

  it('lets an Application Administrator grant delegated permissions only', async () => {
    t.emulator.store.updateUser(DEMO.users.megan.id, { directoryRoles: [ROLE.applicationAdministrator] });
    await signInForTokens(t, { loginHint: DEMO.users.megan.upn, scope: ADMIN_SCOPES });
    expect(grant()).toMatchObject({ scopes: ['User.Read.All', 'GroupMember.Read.All'], roles: [] });
  });

  it('always runs the consent step for an admin with prompt=consent', async () => {
    t.emulator.store.grantConsent(DEMO.tenants.contoso.id, TEST_CLIENT.clientId, {
      scopes: ['User.Read.All'],
    });
    expect((await authorize(DEMO.users.adele.upn)).headers.location).toContain('code=');
    t.emulator.store.setConsentDecision('decline');
    expect((await authorize(DEMO.users.adele.upn)).headers.location).toContain('code=');
    const params = redirectParams(await authorize(DEMO.users.adele.upn, { prompt: 'consent' }));
    expect(params.get('error')).toBe('access_denied');
  });

  it('cannot consent silently: prompt=none gives consent_required even to an admin', async () => {
    const params = redirectParams(await authorize(DEMO.users.adele.upn, { prompt: 'none' }));
    expect(params.get('error')).toBe('consent_required');
    expect(params.get('error_description')).toMatch(/^AADSTS65001: /);
  });

  it('asks a person who picked their account on the consent page', async () => {
    const picker = await call(
      authorizeUrl(t.emulator.url, { scope: ADMIN_SCOPES, challenge: pkce().challenge, state: 'i' }),
      t.ca,
    );
    const hidden = (html: string) =>
      Object.fromEntries(
        [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]),
      );
    const endpoint = `${t.emulator.url}/organizations/oauth2/v2.0/authorize`;
    const consentPage = await postForm(endpoint, t.ca, {
      ...hidden(picker.text),
      emulator_user_id: DEMO.users.adele.id,
    });
    expect(consentPage.status).toBe(200);
    expect(consentPage.text).toContain('Permissions requested');
    expect(consentPage.text).toContain('User.Read.All');

    const accepted = await postForm(endpoint, t.ca, {
      ...hidden(consentPage.text),
      emulator_consent: 'accept',
    });
    expect(redirectParams(accepted).get('code')).toBeTruthy();
    expect(grant()?.scopes).toContain('GroupMember.Read.All');
  });
});
