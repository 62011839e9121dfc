import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from './fixture.js';
import type { Tenant, User } from './types.js';
import {
  TEST_CLIENT,
  authorizeUrl,
  call,
  claims,
  json,
  pkce,
  postJson,
  redirectParams,
  signInForTokens,
  startTestEmulator,
  type TestEmulator,
} from './test-support.js';

interface State {
  tenants: Tenant[];
  users: User[];
  memberships: { groupId: string; memberId: string }[];
  consentDecision: string;
  liveRefreshTokens: number;
  clients: Record<string, unknown>[];
}

describe('control API (/_emulator)', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterAll(() => t.emulator.close());

  const control = (path: string, body?: unknown, method = 'POST') =>
    postJson(`${t.emulator.url}/_emulator${path}`, t.ca, body ?? {}, method);
  const state = async () => json<State>(await call(`${t.emulator.url}/_emulator/state`, t.ca));

  it('builds a directory over HTTP that sign-in then sees', async () => {
    const tenant = json<Tenant>(
      await control('/tenants', {
        displayName: 'Northwind',
        verifiedDomains: ['northwind.test', 'Northwind.onmicrosoft.com'],
      }),
    );
    expect(tenant.verifiedDomains[0]).toMatchObject({
      name: 'northwind.test',
      isDefault: true,
      type: 'Managed',
    });
    const created = await control('/users', {
      tenantId: tenant.id,
      userPrincipalName: 'nina@northwind.test',
      displayName: 'Nina',
    });
    expect(created.status).toBe(201);
    const nina = json<User>(created);
    const group = json<{ id: string }>(await control('/groups', { tenantId: tenant.id, displayName: 'Ops' }));
    expect((await control(`/groups/${group.id}/members`, { memberId: nina.id })).status).toBe(200);

    const tokens = await signInForTokens(t, { loginHint: 'nina@northwind.test' });
    expect(claims(tokens.id_token!)).toMatchObject({ tid: tenant.id, oid: nina.id, groups: [group.id] });

    expect((await control(`/groups/${group.id}/members/${nina.id}`, {}, 'DELETE')).status).toBe(200);
    expect((await state()).memberships.some((m) => m.memberId === nina.id)).toBe(false);

    expect((await control(`/users/${nina.id}`, { accountEnabled: false }, 'PATCH')).status).toBe(200);
    const disabled = await call(
      authorizeUrl(t.emulator.url, { loginHint: 'nina@northwind.test', challenge: pkce().challenge }),
      t.ca,
    );
    expect(disabled.text).toContain('AADSTS50057');

    expect((await control(`/users/${nina.id}`, {}, 'DELETE')).status).toBe(200);
    const deleted = await call(
      authorizeUrl(t.emulator.url, { loginHint: 'nina@northwind.test', challenge: pkce().challenge }),
      t.ca,
    );
    expect(deleted.text).toContain('AADSTS50034');
  });

  it('answers 400 for bad input', async () => {
    expect((await control('/users', { tenantId: 'nope', userPrincipalName: 'x@y.z' })).status).toBe(400);
    expect(
      (await control('/users', { tenantId: DEMO.tenants.contoso.id, userPrincipalName: 'MEGAN@contoso.com' }))
        .status,
    ).toBe(400);
    expect(
      (await control('/users', { tenantId: DEMO.tenants.contoso.id, userPrincipalName: 42 })).status,
    ).toBe(400);
    expect((await control('/tenants', { displayName: 'Dup', verifiedDomains: ['CONTOSO.com'] })).status).toBe(
      400,
    );
    expect((await control('/consent', { decision: 'maybe' })).status).toBe(400);
    expect((await control('/next-id-token', { signature: 'weird' })).status).toBe(400);
    expect(
      (await control(`/groups/${DEMO.groups.engineering.id}/members`, { memberId: DEMO.users.diego.id }))
        .status,
    ).toBe(400);
    const malformed = await call(`${t.emulator.url}/_emulator/users`, t.ca, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(malformed.status).toBe(400);
  });

  it('drives consent, ID-token overrides, key rotation and revocation', async () => {
    expect((await control('/consent', { decision: 'decline' })).status).toBe(200);
    expect((await state()).consentDecision).toBe('decline');
    const declined = redirectParams(
      await call(
        authorizeUrl(t.emulator.url, {
          loginHint: DEMO.users.adele.upn,
          scope: 'openid User.Read.All',
          challenge: pkce().challenge,
        }),
        t.ca,
      ),
    );
    expect(declined.get('error')).toBe('access_denied');

    await control('/next-id-token', { claims: { name: 'Overridden' } });
    expect(claims((await signInForTokens(t, { loginHint: DEMO.users.megan.upn })).id_token!).name).toBe(
      'Overridden',
    );

    const { kid } = json<{ kid: string }>(await control('/keys/rotate'));
    const keys = json<{ keys: { kid: string }[] }>(
      await call(`${t.emulator.url}/common/discovery/v2.0/keys`, t.ca),
    );
    expect(keys.keys.map((k) => k.kid)).toContain(kid);
    expect(keys.keys.length).toBeGreaterThan(1);

    expect((await state()).liveRefreshTokens).toBeGreaterThan(0);
    const revoked = json<{ revoked: number }>(
      await control('/refresh-tokens/revoke', { userId: DEMO.users.megan.id }),
    );
    expect(revoked.revoked).toBeGreaterThan(0);
  });

  it('resets to the fixture and never exposes client secrets', async () => {
    await control('/users', { tenantId: DEMO.tenants.contoso.id, userPrincipalName: 'temp@contoso.com' });
    expect((await control('/reset')).status).toBe(200);
    const s = await state();
    expect(s.users.some((u) => u.userPrincipalName === 'temp@contoso.com')).toBe(false);
    expect(s.consentDecision).toBe('accept');
    expect(s.clients[0]).toEqual({
      clientId: TEST_CLIENT.clientId,
      displayName: TEST_CLIENT.displayName,
      redirectUris: TEST_CLIENT.redirectUris,
    });
    expect(JSON.stringify(s)).not.toContain(TEST_CLIENT.clientSecret);
  });
});
