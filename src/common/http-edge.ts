import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { COMMON_ERRORS, DomainError } from './domain-error.js';
import { toProblem } from './problem-details.filter.js';
import { currentRequestId } from './request-context.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The media types an HTML form can send without a preflight: never accepted by the JSON API. */
const FORM_MEDIA_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/** Renders a domain error from a middleware, before Nest's filter is reachable. */
function sendProblem(request: Request, response: Response, error: DomainError): void {
  const problem = toProblem(error);
  problem.instance = request.originalUrl.split('?')[0];
  problem.requestId = currentRequestId();
  response.status(problem.status).type('application/problem+json').json(problem);
}

function hasBearer(request: Request): boolean {
  return /^Bearer\s+\S+$/i.test(request.headers.authorization ?? '');
}

/** Whether the request carries the cookie (named by the caller: `__Host-session` over https). */
function hasCookie(request: Request, name: string): boolean {
  return Boolean((request.cookies as Record<string, string> | undefined)?.[name]);
}

/**
 * CSRF defence for the cookies that authenticate a request (the session cookie, and the organization-choice
 * cookie that finishes a sign-in). A state-changing request that such a cookie would authenticate (no
 * Bearer token, which a cross-site page cannot set) must come from one of `trustedOrigins`: its `Origin`
 * header, or the browser's own `Sec-Fetch-Site: same-origin`. SameSite=Lax alone lets sibling subdomains
 * and other ports of the same host through, as they count as the same site.
 */
export function cookieOriginCheck(trustedOrigins: readonly string[], credentialCookies: readonly string[]) {
  const trusted = new Set(trustedOrigins);
  return (request: Request, response: Response, next: NextFunction) => {
    if (
      SAFE_METHODS.has(request.method) ||
      hasBearer(request) ||
      !credentialCookies.some((name) => hasCookie(request, name))
    )
      return next();
    const origin = request.headers.origin;
    const sameOrigin = request.headers['sec-fetch-site'] === 'same-origin';
    if (sameOrigin || (typeof origin === 'string' && trusted.has(origin))) return next();
    sendProblem(
      request,
      response,
      new DomainError(
        COMMON_ERRORS.ORIGIN_NOT_ALLOWED,
        'A request authenticated by a cookie must come from the application’s own origin. ' +
          'Integrations use a Bearer token instead.',
      ),
    );
  };
}

/** The JSON API reads JSON only: form and plain-text bodies (what a cross-site form posts) are refused. */
export function refuseFormBodies() {
  return (request: Request, response: Response, next: NextFunction) => {
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!FORM_MEDIA_TYPES.includes(type)) return next();
    sendProblem(
      request,
      response,
      new DomainError(
        COMMON_ERRORS.UNSUPPORTED_MEDIA_TYPE,
        `The API accepts application/json request bodies, not ${type}.`,
      ),
    );
  };
}

/**
 * Answers that depend on who asks must never sit in a browser or proxy cache: every API answer, and any
 * answer to a request carrying credentials.
 */
export function noStoreForAuthenticated(sessionCookie: string) {
  return (request: Request, response: Response, next: NextFunction) => {
    if (request.path.startsWith('/api/') || hasBearer(request) || hasCookie(request, sessionCookie)) {
      response.setHeader('Cache-Control', 'no-store');
    }
    next();
  };
}

/** What a client may choose as its request id: short, printable, no separators a log parser could trip on. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The client's `X-Request-Id` when it is short and plain, else a fresh one; never raw input into logs. */
export function acceptedRequestId(given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Sends a browser that starts a flow on another name of this service (`127.0.0.1` when `APP_BASE_URL` says
 * `localhost`, an IP instead of the DNS name) to `APP_BASE_URL` first. The flow's cookies are bound to the
 * host that set them and Microsoft returns to `APP_BASE_URL`, so a flow started elsewhere could only end in
 * `invalid_state`. The host is `req.host`: behind a proxy, forward `Host` or set `TRUST_PROXY` so that
 * `X-Forwarded-Host` counts, else every request looks non-canonical.
 */
export function canonicalHost(appBaseUrl: string) {
  const canonical = new URL(appBaseUrl).host.toLowerCase();
  return (request: Request, response: Response, next: NextFunction) => {
    if (!['GET', 'HEAD'].includes(request.method)) return next();
    const host = request.host?.toLowerCase();
    if (!host || host === canonical) return next();
    response.setHeader('Cache-Control', 'no-store');
    response.redirect(302, `${appBaseUrl}${request.originalUrl}`);
  };
}

/**
 * A middleware whose headers do not depend on the request (helmet with static directives), run once at boot
 * against a recording response; each request then gets the recorded headers in one step. Helmet chains a
 * dozen middlewares that rebuild the same values on every request. A middleware that reads the request, calls
 * anything but `setHeader`/`removeHeader` or does not call `next` synchronously fails the boot instead.
 */
export function onceAtBoot(
  middleware: (request: Request, response: Response, next: (error?: unknown) => void) => void,
) {
  const set: [string, string | string[]][] = [];
  const removed: string[] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      set.push([name, typeof value === 'number' ? String(value) : (value as string | string[])]);
      return recorder;
    },
    removeHeader(name: string) {
      removed.push(name);
    },
  };
  // No property of the request is readable: a middleware that consults it cannot be replayed.
  const request = new Proxy({} as Request, {
    get: (_target, property) => {
      throw new Error(`onceAtBoot: the middleware reads request.${String(property)}`);
    },
  });
  let done = false;
  middleware(request, recorder as unknown as Response, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error(String(error));
    done = true;
  });
  if (!done) throw new Error('onceAtBoot: the middleware did not call next() synchronously');
  return (_request: Request, response: Response, next: NextFunction) => {
    for (const [name, value] of set) response.setHeader(name, value);
    for (const name of removed) response.removeHeader(name);
    next();
  };
}

type Middleware = (request: Request, response: Response, next: (error?: unknown) => void) => void;

/**
 * Runs `steps` one after the other as one middleware, as `app.use` of each in turn would (a step that answers
 * ends the sequence; an error skips the rest and goes to Express). One router layer instead of one per step:
 * Express walks every layer for every request, matching its path.
 */
export function inSequence(...steps: Middleware[]): Middleware {
  return (request, response, done) => {
    let index = 0;
    const next = (error?: unknown): void => {
      if (error !== undefined && error !== null) return done(error);
      const step = steps[index++];
      if (step) step(request, response, next);
      else done();
    };
    next();
  };
}

/**
 * `step` for requests under `prefix` only, matched as `app.use(prefix, step)` matches: case-insensitively, at a
 * segment boundary. Unlike a mounted middleware, `step` sees the full `request.url` (the steps here read
 * `originalUrl` anyway).
 */
export function mountedAt(prefix: string, step: Middleware): Middleware {
  const under = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:/|$)`, 'i');
  return (request, response, next) => (under.test(request.path) ? step(request, response, next) : next());
}
