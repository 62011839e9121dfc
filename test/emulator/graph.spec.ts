import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from './fixture.js';
import {
  TEST_CLIENT,
  call,
  json,
  postForm,
  signInForTokens,
  startTestEmulator,
  tokenUrl,
  type TestEmulator,
  type TokenResponse,
} from './test-support.js';

interface GraphError {
  error: {
    code: string;
    message: string;
    innerError: { date: string; 'request-id': string; 'client-request-id': string };
  };
}

describe('Graph (/v1.0)', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterEach(() => t.emulator.store.reset());
  afterAll(() => t.emulator.close());

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

    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({
      tid: DEMO.tenants.contoso.id,
      oid: DEMO.users.megan.id,
      scp: 'User.Read',
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'made-up' })
      .setAudience('https://graph.microsoft.com')
      .setIssuer(`https://sts.windows.net/${DEMO.tenants.contoso.id}/`)
      .setExpirationTime('1h')
      .sign(privateKey);
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

  it('answers unknown resources like Graph does', async () => {
    const res = await graph('/nonsense', await signInMegan());
    expect(res.status).toBe(400);
    expect(json<GraphError>(res).error.message).toContain("segment 'nonsense'");
  });
});
