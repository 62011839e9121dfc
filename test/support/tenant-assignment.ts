import type { IdTokenOverride } from '@entra-integration/entra-emulator';
import { bearer, followAuthorize } from './sign-in.js';
import type { TestContext } from './test-app.js';

export interface VerificationOutcome {
  /** The answer to `POST /api/v1/tenant-assignment/verify`. */
  started: { status: number; body: Record<string, unknown> };
  /** Where the callback sent the browser, and its `status`, `code` and `domains` parameters. */
  location: string | null;
  status: string | null;
  code: string | null;
  domains: string | null;
}

export interface VerifyOptions {
  autoActivate?: boolean;
  /** Changes the next ID token the emulator issues (an IdP misbehaving, or a forged answer). */
  idToken?: IdTokenOverride;
  /** The session the callback arrives with; the starter's by default. */
  callbackSession?: string | null;
}

/** Starts Save & Verify for `domains`, for the organization of the session `token`. */
export function startVerification(
  ctx: TestContext,
  token: string,
  domains: string[],
  autoActivate?: boolean,
) {
  return ctx
    .http()
    .post('/api/v1/tenant-assignment/verify')
    .set(bearer(token))
    .send(autoActivate === undefined ? { domains } : { domains, autoActivate });
}

/** Signs in at Microsoft as `loginHint` on a started verification and returns Microsoft's redirect to us. */
export async function signInAtMicrosoft(authorizationUrl: string, loginHint: string): Promise<URL> {
  const url = new URL(authorizationUrl);
  url.searchParams.set('login_hint', loginHint);
  return followAuthorize(url.toString());
}

/** Calls the assignment callback as the browser would, with the session cookie `session`. */
export async function finishVerification(ctx: TestContext, redirect: URL, session: string | null) {
  const call = ctx.http().get(`${redirect.pathname}${redirect.search}`);
  if (session) call.set('Cookie', `session=${session}`);
  const callback = await call;
  const location = new URL(callback.headers.location as string);
  return {
    location: location.toString(),
    status: location.searchParams.get('status'),
    code: location.searchParams.get('code'),
    domains: location.searchParams.get('domains'),
  };
}

/**
 * Save & Verify as an Owner's or Admin's browser does it: ask the API for the sign-in URL, sign in afresh at
 * Microsoft as `loginHint`, and come back to the callback in the same session.
 */
export async function verifyTenantAssignment(
  ctx: TestContext,
  token: string,
  loginHint: string,
  domains: string[],
  options: VerifyOptions = {},
): Promise<VerificationOutcome> {
  const started = await startVerification(ctx, token, domains, options.autoActivate);
  const none = { location: null, status: null, code: null, domains: null };
  if (started.status !== 200) return { started, ...none };
  if (options.idToken) ctx.emulator.store.setNextIdTokenOverride(options.idToken);
  const redirect = await signInAtMicrosoft(started.body.authorizationUrl as string, loginHint);
  const session = options.callbackSession === undefined ? token : options.callbackSession;
  return { started, ...(await finishVerification(ctx, redirect, session)) };
}

export async function assignmentStatus(ctx: TestContext, token: string) {
  return (await ctx.http().get('/api/v1/tenant-assignment').set(bearer(token)).expect(200)).body as {
    status: string;
    tenantId: string | null;
    domains: string[];
    autoActivate: boolean;
    verifiedBy: { name: string | null; userPrincipalName: string | null; role: string | null } | null;
    verifiedAt: string | null;
  };
}
