import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from './fixture.js';
import { call, json, startTestEmulator, type TestEmulator } from './test-support.js';

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

describe('discovery', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterAll(() => t.emulator.close());

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
