import { createHash, randomBytes } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { decodeJwt, type FetchImplementation } from 'jose';
import { ensureCertificates } from './certificates.js';
import { startEntraEmulator, type EntraEmulator, type StartOptions } from './server.js';

/*
 * Helpers for the emulator's own specs (left out of the package build, like the specs). Kept free of vitest
 * imports so that any spec runner can use them.
 */

export const TEST_CLIENT = {
  clientId: 'da6aaa6b-5914-4f89-93f2-06c49b2e5f49',
  clientSecret: 'spec-secret~0123456789',
  displayName: 'Emulator Spec App',
  redirectUris: ['https://app.test/callback', 'http://localhost:4000/form-post'],
};
export const REDIRECT_URI = TEST_CLIENT.redirectUris[0];

export interface TestEmulator {
  emulator: EntraEmulator;
  ca: string;
  caPath: string;
}

/** One certificate set shared by all spec workers; ensureCertificates copes with the race. */
export async function startTestEmulator(options: Partial<StartOptions> = {}): Promise<TestEmulator> {
  const certs = await ensureCertificates(join(tmpdir(), 'entra-emulator-spec-certs'));
  const emulator = await startEntraEmulator({ tls: certs, clients: [TEST_CLIENT], ...options });
  return { emulator, ca: certs.ca, caPath: certs.caPath };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export function json<T = Record<string, unknown>>(result: HttpResult): T {
  return JSON.parse(result.text) as T;
}

/** Raw HTTPS with an explicit CA (NODE_EXTRA_CA_CERTS is read at process start only); never follows redirects. */
export function call(
  url: string,
  ca: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    // An explicit length: Node sends DELETE bodies neither chunked nor sized, which desyncs keep-alive.
    const headers = {
      ...init.headers,
      ...(init.body ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}),
    };
    const req = httpsRequest(url, { method: init.method ?? 'GET', headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = String(v);
        resolve({ status: res.statusCode ?? 0, headers, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    if (init.timeoutMs) req.setTimeout(init.timeoutMs, () => req.destroy(new Error('client timeout')));
    if (init.body) req.write(init.body);
    req.end();
  });
}

export function postForm(
  url: string,
  ca: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return call(url, ca, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

export function postJson(url: string, ca: string, body: unknown, method = 'POST') {
  return call(url, ca, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizeParams {
  tenant?: string;
  scope?: string;
  loginHint?: string;
  domainHint?: string;
  prompt?: string;
  nonce?: string;
  state?: string;
  challenge?: string;
  responseMode?: string;
  redirectUri?: string;
  clientId?: string;
  extra?: Record<string, string>;
}

export function authorizeUrl(baseUrl: string, p: AuthorizeParams): string {
  const url = new URL(`${baseUrl}/${p.tenant ?? 'organizations'}/oauth2/v2.0/authorize`);
  const params: Record<string, string | undefined> = {
    client_id: p.clientId ?? TEST_CLIENT.clientId,
    response_type: 'code',
    redirect_uri: p.redirectUri ?? REDIRECT_URI,
    scope: p.scope ?? 'openid profile email offline_access User.Read',
    state: p.state ?? 'state-123',
    nonce: p.nonce ?? 'nonce-123',
    code_challenge: p.challenge,
    code_challenge_method: p.challenge ? 'S256' : undefined,
    login_hint: p.loginHint,
    domain_hint: p.domainHint,
    prompt: p.prompt,
    response_mode: p.responseMode,
    ...p.extra,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/** The query of the 302 the authorize endpoint answered with. */
export function redirectParams(result: HttpResult): URLSearchParams {
  if (result.status !== 302) {
    throw new Error(`expected a redirect, got ${result.status}: ${result.text.slice(0, 300)}`);
  }
  return new URL(result.headers.location).searchParams;
}

export interface SignInResult {
  code: string;
  verifier: string;
  nonce: string;
}

/** Runs /authorize with a login_hint, the way automated tests sign in, and returns the code. */
export async function signIn(
  t: TestEmulator,
  p: AuthorizeParams & { loginHint: string },
): Promise<SignInResult> {
  const { verifier, challenge } = pkce();
  const nonce = p.nonce ?? randomBytes(8).toString('hex');
  const result = await call(authorizeUrl(t.emulator.url, { ...p, nonce, challenge }), t.ca);
  const params = redirectParams(result);
  const code = params.get('code');
  if (!code) throw new Error(`no code: ${params.toString()}`);
  return { code, verifier, nonce };
}

export interface TokenResponse {
  token_type: string;
  scope?: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  client_info?: string;
}

export function tokenUrl(baseUrl: string, tenant = 'organizations'): string {
  return `${baseUrl}/${tenant}/oauth2/v2.0/token`;
}

export function redeem(t: TestEmulator, s: SignInResult, extra: Record<string, string> = {}) {
  return postForm(tokenUrl(t.emulator.url), t.ca, {
    client_id: TEST_CLIENT.clientId,
    client_secret: TEST_CLIENT.clientSecret,
    grant_type: 'authorization_code',
    code: s.code,
    redirect_uri: REDIRECT_URI,
    code_verifier: s.verifier,
    ...extra,
  });
}

export async function signInForTokens(t: TestEmulator, p: AuthorizeParams & { loginHint: string }) {
  const result = await redeem(t, await signIn(t, p));
  if (result.status !== 200) throw new Error(`token endpoint said ${result.status}: ${result.text}`);
  return json<TokenResponse>(result);
}

export function claims(jwt: string): Record<string, unknown> {
  return decodeJwt(jwt) as Record<string, unknown>;
}

/** An app-only Graph access token for `tenantId`, after granting `roles` to the spec app there. */
export async function appGraphToken(t: TestEmulator, tenantId: string, roles: string[]): Promise<string> {
  t.emulator.store.grantConsent(tenantId, TEST_CLIENT.clientId, { roles });
  const res = await postForm(tokenUrl(t.emulator.url, tenantId), t.ca, {
    client_id: TEST_CLIENT.clientId,
    client_secret: TEST_CLIENT.clientSecret,
    grant_type: 'client_credentials',
    scope: 'https://graph.microsoft.com/.default',
  });
  if (res.status !== 200) throw new Error(`token endpoint said ${res.status}: ${res.text}`);
  return json<TokenResponse>(res).access_token;
}

/** A delegated Graph access token for `upn` carrying exactly `scopes` (admin consent granted first). */
export async function userGraphToken(t: TestEmulator, upn: string, scopes: string[]): Promise<string> {
  const user = t.emulator.store.findUserByLoginHint(upn);
  if (!user) throw new Error(`no user ${upn}`);
  t.emulator.store.grantConsent(user.tenantId, TEST_CLIENT.clientId, { scopes });
  return (await signInForTokens(t, { loginHint: upn, scope: `openid ${scopes.join(' ')}` })).access_token;
}

/** Calls Graph: `pathOrUrl` is below /v1.0 (`/users?...`) or an absolute nextLink/deltaLink. */
export function graphCall(
  t: TestEmulator,
  pathOrUrl: string,
  token: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const url = pathOrUrl.startsWith('https://') ? pathOrUrl : `${t.emulator.graphBaseUrl}/v1.0${pathOrUrl}`;
  return call(url, t.ca, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    timeoutMs: init.timeoutMs,
  });
}

export interface GraphPage<T = Record<string, unknown>> {
  value: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/** Follows `@odata.nextLink` to the end; returns every page (to check page sizes) and the last deltaLink. */
export async function graphPages<T = Record<string, unknown>>(
  t: TestEmulator,
  first: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<{ pages: T[][]; deltaLink?: string; links: string[] }> {
  const pages: T[][] = [];
  const links: string[] = [];
  let next: string | undefined = first;
  while (next) {
    const res = await graphCall(t, next, token, { headers });
    if (res.status !== 200) throw new Error(`GET ${next} said ${res.status}: ${res.text}`);
    const page = json<GraphPage<T>>(res);
    pages.push(page.value);
    next = page['@odata.nextLink'];
    if (next) links.push(next);
    if (page['@odata.deltaLink']) return { pages, deltaLink: page['@odata.deltaLink'], links };
  }
  return { pages, links };
}

/** MSAL's network module over node:https with our CA, standing in for NODE_EXTRA_CA_CERTS. */
export function msalNetworkClient(ca: string): INetworkModule {
  const send = async <T>(
    url: string,
    method: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> => {
    const result = await call(url, ca, { method, headers: options?.headers, body: options?.body });
    return { status: result.status, headers: result.headers, body: JSON.parse(result.text) as T };
  };
  return {
    sendGetRequestAsync: (url, options) => send(url, 'GET', options),
    sendPostRequestAsync: (url, options) => send(url, 'POST', options),
  };
}

/** A fetch for jose's createRemoteJWKSet that trusts our CA. */
export function fetchWithCa(ca: string): FetchImplementation {
  return async (url, init) => {
    const result = await call(url, ca, { method: init.method, headers: Object.fromEntries(init.headers) });
    return new Response(result.text, { status: result.status, headers: result.headers });
  };
}
