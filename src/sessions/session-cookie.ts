import type { CookieOptions, Request } from 'express';
import { type AppConfig, cookiesAreSecure } from '../config/config.js';

/**
 * Over https the cookies carry the `__Host-` prefix: the browser then accepts them only when Secure, for
 * Path=/ and without a Domain, so a sibling subdomain or a plain-http page cannot plant or overwrite them.
 */
function hostPrefixed(config: AppConfig): boolean {
  return new URL(config.appBaseUrl).protocol === 'https:';
}

export function sessionCookieName(config: AppConfig): string {
  return hostPrefixed(config) ? '__Host-session' : 'session';
}

/** Ties a redirect flow to the browser that started it (login CSRF defence). */
export function flowCookieName(config: AppConfig): string {
  return hostPrefixed(config) ? '__Host-flow' : 'ms_auth_flow';
}

/**
 * Ties a sign-in that waits for the person to choose among inviting organizations to the browser it ended in
 * (a browser binding, like the flow cookie). Read only by `/auth/invitations`.
 */
export function invitationChoiceCookieName(config: AppConfig): string {
  return hostPrefixed(config) ? '__Host-invitation-choice' : 'invitation_choice';
}

export function sessionCookieOptions(config: AppConfig, expires: Date): CookieOptions {
  return { httpOnly: true, secure: cookiesAreSecure(config), sameSite: 'lax', path: '/', expires };
}

export function flowCookieOptions(config: AppConfig): CookieOptions {
  return {
    httpOnly: true,
    secure: cookiesAreSecure(config),
    sameSite: 'lax',
    path: hostPrefixed(config) ? '/' : '/auth/microsoft',
    maxAge: 15 * 60_000,
  };
}

export function readCookie(request: Request, name: string): string | undefined {
  const value = (request.cookies as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

export function invitationChoiceCookieOptions(config: AppConfig, expires: Date): CookieOptions {
  return {
    httpOnly: true,
    secure: cookiesAreSecure(config),
    sameSite: 'lax',
    path: hostPrefixed(config) ? '/' : '/auth/invitations',
    expires,
  };
}
