import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../config/config.js';
import {
  flowCookieName,
  flowCookieOptions,
  invitationChoiceCookieName,
  invitationChoiceCookieOptions,
  sessionCookieName,
  sessionCookieOptions,
} from './session-cookie.js';

const configFor = (appBaseUrl: string) => ({ appBaseUrl }) as AppConfig;

describe('cookie names and options', () => {
  it('uses __Host- names, Secure and Path=/ without a Domain over https', () => {
    const config = configFor('https://api.example.com');
    expect(sessionCookieName(config)).toBe('__Host-session');
    expect(flowCookieName(config)).toBe('__Host-flow');
    expect(invitationChoiceCookieName(config)).toBe('__Host-invitation-choice');
    for (const options of [
      sessionCookieOptions(config, new Date()),
      flowCookieOptions(config),
      invitationChoiceCookieOptions(config, new Date()),
    ]) {
      expect(options).toMatchObject({ secure: true, path: '/', httpOnly: true });
      expect(options.domain).toBeUndefined();
    }
  });

  it('keeps plain names on a local http base URL, where browsers refuse __Host- cookies', () => {
    const config = configFor('http://localhost:3000');
    expect(sessionCookieName(config)).toBe('session');
    expect(flowCookieName(config)).toBe('ms_auth_flow');
    expect(flowCookieOptions(config)).toMatchObject({ secure: false, path: '/auth/microsoft' });
    expect(invitationChoiceCookieName(config)).toBe('invitation_choice');
    expect(invitationChoiceCookieOptions(config, new Date())).toMatchObject({
      secure: false,
      httpOnly: true,
      path: '/auth/invitations',
    });
  });
});
