import type { CookieOptions } from 'express';
import { type AppConfig, cookiesAreSecure } from '../config/config.js';

export const SESSION_COOKIE = 'session';
/** Ties a redirect flow to the browser that started it (login CSRF defence). */
export const FLOW_COOKIE = 'ms_auth_flow';

export function sessionCookieOptions(config: AppConfig, expires: Date): CookieOptions {
  return { httpOnly: true, secure: cookiesAreSecure(config), sameSite: 'lax', path: '/', expires };
}

export function flowCookieOptions(config: AppConfig): CookieOptions {
  return {
    httpOnly: true,
    secure: cookiesAreSecure(config),
    sameSite: 'lax',
    path: '/auth/microsoft',
    maxAge: 15 * 60_000,
  };
}
