import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROLE } from './constants.js';
import { DEMO } from './fixture.js';
import {
  authorizeUrl,
  call,
  claims,
  pkce,
  redirectParams,
  signInForTokens,
  startTestEmulator,
  type TestEmulator,
} from './test-support.js';

let t: TestEmulator;
beforeAll(async () => {
  t = await startTestEmulator();
});
afterEach(() => t.emulator.store.reset());
afterAll(() => t.emulator.close());

const HOUR_MS = 3_600_000;

/** The ID token claims of a sign-in as `loginHint`, with extra authorize parameters. */
async function idTokenOf(loginHint: string, p: { prompt?: string; maxAge?: string; tenant?: string } = {}) {
  const tokens = await signInForTokens(t, {
    loginHint,
    prompt: p.prompt,
    tenant: p.tenant,
    scope: 'openid profile',
    extra: p.maxAge === undefined ? {} : { max_age: p.maxAge },
  });
  return claims(tokens.id_token!);
}

describe('single sign-on sessions, prompt=login and max_age', () => {
  it('reuses the sign-on session: a later sign-in keeps the first auth_time', async () => {
    const first = await idTokenOf(DEMO.users.megan.upn);
    t.emulator.store.advanceClock(HOUR_MS);
    const later = await idTokenOf(DEMO.users.megan.upn);
    expect(later.auth_time).toBe(first.auth_time);
    expect(later.iat as number).toBeGreaterThanOrEqual((first.iat as number) + 3600);
  });

  it('authenticates again with prompt=login, whatever the session', async () => {
    const first = await idTokenOf(DEMO.users.megan.upn);
    t.emulator.store.advanceClock(HOUR_MS);
    const fresh = await idTokenOf(DEMO.users.megan.upn, { prompt: 'login' });
    expect(fresh.auth_time as number).toBeGreaterThanOrEqual((first.auth_time as number) + 3600);
    expect(fresh.auth_time).toBe(fresh.iat);
  });

  it('authenticates again when the session is older than max_age (max_age=0: always)', async () => {
    t.emulator.store.recordAuthentication(DEMO.users.megan.id, t.emulator.store.now() - HOUR_MS);
    const old = Math.floor((t.emulator.store.now() - HOUR_MS) / 1000);
    expect(await idTokenOf(DEMO.users.megan.upn, { maxAge: '7200' })).toMatchObject({ auth_time: old });
    const zero = await idTokenOf(DEMO.users.megan.upn, { maxAge: '0' });
    expect(zero.auth_time as number).toBeGreaterThan(old + 3000);
    t.emulator.store.recordAuthentication(DEMO.users.megan.id, t.emulator.store.now() - HOUR_MS);
    const sixty = await idTokenOf(DEMO.users.megan.upn, { maxAge: '60' });
    expect(sixty.auth_time as number).toBeGreaterThan(old + 3000);
  });

  it('refuses a max_age that is not a number of seconds, to the app', async () => {
    const res = await call(
      authorizeUrl(t.emulator.url, {
        loginHint: DEMO.users.megan.upn,
        challenge: pkce().challenge,
        extra: { max_age: '-5' },
      }),
      t.ca,
    );
    expect(redirectParams(res).get('error')).toBe('invalid_request');
  });
});

describe('what a tenant administrator verification relies on', () => {
  it('signs a member in at the tenant authority with that tenant’s issuer', async () => {
    const token = await idTokenOf(DEMO.users.megan.upn, { tenant: DEMO.tenants.contoso.id, prompt: 'login' });
    expect(token.tid).toBe(DEMO.tenants.contoso.id);
    expect(token.iss).toBe(`${t.emulator.url}/${DEMO.tenants.contoso.id}/v2.0`);
  });

  it('keeps another tenant’s user out of a tenant authority (an error page, no redirect)', async () => {
    const res = await call(
      authorizeUrl(t.emulator.url, {
        tenant: DEMO.tenants.contoso.id,
        loginHint: DEMO.users.diego.upn,
        challenge: pkce().challenge,
      }),
      t.ca,
    );
    expect(res.status).toBe(400);
    expect(res.text).toContain('AADSTS50020');
  });

  it('emits wids for each administrator role, the default User role for members, and the guest role for guests', async () => {
    const store = t.emulator.store;
    for (const role of [
      ROLE.globalAdministrator,
      ROLE.privilegedRoleAdministrator,
      ROLE.applicationAdministrator,
      ROLE.cloudApplicationAdministrator,
      ROLE.helpdeskAdministrator,
      ROLE.userAdministrator,
    ]) {
      const upn = `admin-${role.slice(0, 8)}@contoso.com`;
      store.addUser({ tenantId: DEMO.tenants.contoso.id, userPrincipalName: upn, directoryRoles: [role] });
      expect((await idTokenOf(upn)).wids).toEqual([role, ROLE.user]);
    }
    expect((await idTokenOf(DEMO.users.megan.upn)).wids).toEqual([ROLE.user]);
    const guest = await idTokenOf(DEMO.users.guest.mail);
    expect(guest).toMatchObject({ acct: 1, wids: [ROLE.guestUser], tid: DEMO.tenants.contoso.id });
  });
});
