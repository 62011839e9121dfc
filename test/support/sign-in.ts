import type { Response } from 'supertest';
import { APP_BASE_URL, type TestContext } from './test-app.js';

export interface SignInResult {
  /** Where the callback finally sent the browser. */
  location: string;
  /** The `error` code of a failed sign-in, if any. */
  error: string | null;
  /** The session token from the cookie, if a session was created. */
  token: string | null;
  callback: Response;
}

function cookieValue(response: Response, name: string): string | null {
  const raw = response.headers['set-cookie'] as unknown as string[] | undefined;
  const cookie = raw?.find((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`));
  return cookie ? decodeURIComponent(cookie.split(';')[0].slice(name.length + 1)) : null;
}

/** Follows Microsoft's redirect (the emulator, over real HTTPS) and returns where it sends the browser. */
export async function followAuthorize(authorizeUrl: string): Promise<URL> {
  const response = await fetch(authorizeUrl, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) {
    throw new Error(`authorize answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
  return new URL(location);
}

/** Starts a sign-in at our API: returns Microsoft's authorize URL and the browser-binding cookie. */
export async function startSignIn(ctx: TestContext, query: Record<string, string>) {
  const login = await ctx.http().get('/auth/microsoft/login').query(query);
  if (login.status !== 302) throw new Error(`login answered ${login.status}`);
  return { authorizeUrl: login.headers.location as string, flowCookie: cookieValue(login, 'ms_auth_flow') };
}

/** Calls our callback as the browser would after Microsoft's redirect. */
export async function callCallback(
  ctx: TestContext,
  redirect: URL,
  flowCookie: string | null,
): Promise<SignInResult> {
  if (!redirect.href.startsWith(APP_BASE_URL)) throw new Error(`unexpected redirect to ${redirect.href}`);
  const call = ctx.http().get(`${redirect.pathname}${redirect.search}`);
  if (flowCookie) call.set('Cookie', `ms_auth_flow=${flowCookie}`);
  const callback = await call;
  const location = callback.headers.location as string;
  return {
    location,
    error: new URL(location).searchParams.get('error'),
    token: cookieValue(callback, 'session'),
    callback,
  };
}

/** The whole "Continue with Microsoft" round trip, as a browser following redirects would do it. */
export async function signIn(
  ctx: TestContext,
  loginHint: string,
  extra: Record<string, string> = {},
): Promise<SignInResult> {
  const { authorizeUrl, flowCookie } = await startSignIn(ctx, { login_hint: loginHint, ...extra });
  const redirect = await followAuthorize(authorizeUrl);
  return callCallback(ctx, redirect, flowCookie);
}

export function bearer(token: string | null): { Authorization: string } {
  if (!token) throw new Error('no session token');
  return { Authorization: `Bearer ${token}` };
}

/**
 * "Connect Microsoft Entra ID" as an admin's browser does it: ask the API for the consent URL, sign in at
 * Microsoft as `loginHint`, and come back to the connect callback in the same session.
 */
export async function connectTenant(ctx: TestContext, token: string | null, loginHint: string) {
  const started = await ctx.http().post('/api/v1/integrations/entra/connect').set(bearer(token));
  if (started.status !== 200) return { started, location: null, code: null, status: null };
  const authorizeUrl = new URL(started.body.authorizationUrl as string);
  authorizeUrl.searchParams.set('login_hint', loginHint);
  const redirect = await followAuthorize(authorizeUrl.toString());
  const callback = await ctx
    .http()
    .get(`${redirect.pathname}${redirect.search}`)
    .set('Cookie', `session=${token}`);
  const location = new URL(callback.headers.location as string);
  return {
    started,
    redirect,
    location: location.toString(),
    status: location.searchParams.get('status'),
    code: location.searchParams.get('code'),
  };
}
