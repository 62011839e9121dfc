import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROLE } from './constants.js';
import { DEMO } from './fixture.js';
import {
  TEST_CLIENT,
  authorizeUrl,
  call,
  claims,
  pkce,
  postForm,
  redirectParams,
  signInForTokens,
  startTestEmulator,
  type TestEmulator,
} from './test-support.js';

const ADMIN_SCOPES =
  'openid profile offline_access https://graph.microsoft.com/User.Read.All GroupMember.Read.All';

describe('tenant-wide admin consent', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterEach(() => t.emulator.store.reset());
  afterAll(() => t.emulator.close());

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
