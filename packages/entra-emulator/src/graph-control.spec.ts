import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from './fixture.js';
import {
  TEST_CLIENT,
  authorizeUrl,
  call,
  claims,
  json,
  pkce,
  postForm,
  postJson,
  redirectParams,
  signInForTokens,
  startTestEmulator,
  tokenUrl,
  type TestEmulator,
  type TokenResponse,
} from './test-support.js';
import type { Tenant, User } from './types.js';

interface GraphError {
  error: {
    code: string;
    message: string;
    innerError: { date: string; 'request-id': string; 'client-request-id': string };
  };
}

interface State {
  tenants: Tenant[];
  users: User[];
  memberships: { groupId: string; memberId: string }[];
  consentDecision: string;
  liveRefreshTokens: number;
  clients: Record<string, unknown>[];
}

let t: TestEmulator;
beforeAll(async () => {
  t = await startTestEmulator();
});
afterEach(() => t.emulator.store.reset());
afterAll(() => t.emulator.close());

describe('Graph (/v1.0)', () => {
  const graph = (path: string, token?: string, headers: Record<string, string> = {}) =>
    call(`${t.emulator.graphBaseUrl}/v1.0${path}`, t.ca, {
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
  const signInMegan = async () =>
    (await signInForTokens(t, { loginHint: DEMO.users.megan.upn })).access_token;
  const appToken = async (roles: string[]) => {
    t.emulator.store.grantConsent(DEMO.tenants.contoso.id, TEST_CLIENT.clientId, { roles });
    const res = await postForm(tokenUrl(t.emulator.url, DEMO.tenants.contoso.id), t.ca, {
      client_id: TEST_CLIENT.clientId,
      client_secret: TEST_CLIENT.clientSecret,
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
    });
    return json<TokenResponse>(res).access_token;
  };

  it('returns the signed-in tenant from /organization with domains as stored (mixed case)', async () => {
    const res = await graph('/organization', await signInMegan());
    expect(res.status).toBe(200);
    expect(res.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const body = json<{ value: { id: string; displayName: string; verifiedDomains: { name: string }[] }[] }>(
      res,
    );
    expect(body.value).toHaveLength(1);
    expect(body.value[0]).toMatchObject({ id: DEMO.tenants.contoso.id, displayName: 'Contoso' });
    expect(body.value[0].verifiedDomains.map((d) => d.name)).toEqual([
      'contoso.com',
      'Contoso.onmicrosoft.com',
    ]);
  });

  it('returns /me with default properties, and accountEnabled/userType only when selected', async () => {
    const token = await signInMegan();
    const me = json(await graph('/me', token));
    expect(me).toMatchObject({
      id: DEMO.users.megan.id,
      userPrincipalName: DEMO.users.megan.upn,
      mail: 'megan@contoso.com',
    });
    expect(me).not.toHaveProperty('accountEnabled');
    const selected = json(await graph('/me?$select=id,accountEnabled,userType', token));
    expect(selected).toEqual({
      '@odata.context': expect.any(String),
      id: DEMO.users.megan.id,
      accountEnabled: true,
      userType: 'Member',
    });
    t.emulator.store.deleteUser(DEMO.users.megan.id);
    expect(json<GraphError>(await graph('/me', token)).error.code).toBe('Request_ResourceNotFound');
  });

  it('answers 401 InvalidAuthenticationToken in Graph format for missing, garbage or forged tokens', async () => {
    const clientRequestId = crypto.randomUUID();
    const garbage = await graph('/organization', 'not-a-jwt', { 'client-request-id': clientRequestId });
    expect(garbage.status).toBe(401);
    const body = json<GraphError>(garbage);
    expect(body.error.code).toBe('InvalidAuthenticationToken');
    expect(body.error.innerError['client-request-id']).toBe(clientRequestId);
    expect(body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);

    expect((await graph('/organization')).status).toBe(401);

    // A genuine token whose payload was edited after signing.
    const [header, payload, signature] = (await signInMegan()).split('.');
    const original = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const edited = Buffer.from(JSON.stringify({ ...original, oid: DEMO.users.adele.id })).toString(
      'base64url',
    );
    const forged = `${header}.${edited}.${signature}`;
    expect(json<GraphError>(await graph('/organization', forged)).error.code).toBe(
      'InvalidAuthenticationToken',
    );
  });

  it('rejects expired access tokens and ID tokens used as bearer tokens', async () => {
    const tokens = await signInForTokens(t, { loginHint: DEMO.users.megan.upn });
    const wrongAudience = await graph('/organization', tokens.id_token);
    expect(wrongAudience.status).toBe(401);
    expect(json<GraphError>(wrongAudience).error.message).toContain('audience');

    t.emulator.store.advanceClock(2 * 3600 * 1000);
    const expired = await graph('/organization', tokens.access_token);
    expect(expired.status).toBe(401);
    expect(json<GraphError>(expired).error).toMatchObject({ code: 'InvalidAuthenticationToken' });
    expect(json<GraphError>(expired).error.message).toContain('expired');
  });

  it('enforces app-only permissions', async () => {
    const withoutRole = await appToken(['User.Read.All']);
    expect((await graph('/organization', withoutRole)).status).toBe(403);
    expect(json<GraphError>(await graph('/me', withoutRole)).error.code).toBe('BadRequest');
    const withRole = await appToken(['Organization.Read.All']);
    expect((await graph('/organization', withRole)).status).toBe(200);
  });

  it('injects throttling faults with Retry-After, then recovers', async () => {
    const token = await signInMegan();
    t.emulator.store.addFault({ path: '/v1.0/organization', kind: 'status', status: 429, retryAfter: 2.128 });
    const throttled = await graph('/organization', token);
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('2.128');
    expect(json<GraphError>(throttled).error.code).toBe('TooManyRequests');
    expect((await graph('/organization', token)).status).toBe(200);
  });

  it('injects latency and hanging requests through the control API', async () => {
    const token = await signInMegan();
    const faults = `${t.emulator.url}/_emulator/faults`;
    await postJson(faults, t.ca, { path: '/v1.0/me', kind: 'timeout' });
    const hanging = call(`${t.emulator.graphBaseUrl}/v1.0/me`, t.ca, {
      headers: { authorization: `Bearer ${token}` },
      timeoutMs: 150,
    });
    await expect(hanging).rejects.toThrow('client timeout');

    await postJson(faults, t.ca, { pathRegex: '^/v1\\.0/org', kind: 'latency', delayMs: 120 });
    const started = performance.now();
    expect((await graph('/organization', token)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);

    await postJson(faults, t.ca, { path: '/v1.0/', kind: 'status', status: 503, times: 'always' });
    expect((await graph('/me', token)).status).toBe(503);
    expect((await graph('/organization', token)).status).toBe(503);
    expect((await call(faults, t.ca, { method: 'DELETE' })).status).toBe(200);
    expect((await graph('/me', token)).status).toBe(200);
  });

  it('answers unknown resources like Graph does', async () => {
    const res = await graph('/nonsense', await signInMegan());
    expect(res.status).toBe(400);
    expect(json<GraphError>(res).error.message).toContain("segment 'nonsense'");
  });
});

describe('control API (/_emulator)', () => {
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
