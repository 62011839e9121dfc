import { describe, expect, it } from 'vitest';
import { decideSignIn } from './sign-in-decision.js';

describe('decideSignIn', () => {
  it('refuses personal accounts before anything else', () => {
    expect(decideSignIn({ isPersonalAccount: true, linkedUser: { status: 'active' } })).toEqual({
      action: 'refuse',
      reason: 'personal_account_not_supported',
    });
  });

  it('signs in a known, active identity', () => {
    expect(decideSignIn({ isPersonalAccount: false, linkedUser: { status: 'active' } })).toEqual({
      action: 'sign_in',
    });
  });

  it('refuses deactivated and pending users', () => {
    expect(decideSignIn({ isPersonalAccount: false, linkedUser: { status: 'deactivated' } })).toEqual({
      action: 'refuse',
      reason: 'account_deactivated',
    });
    expect(decideSignIn({ isPersonalAccount: false, linkedUser: { status: 'pending' } })).toEqual({
      action: 'refuse',
      reason: 'account_pending',
    });
  });

  it('creates an organization for an unknown identity', () => {
    expect(decideSignIn({ isPersonalAccount: false, linkedUser: null })).toEqual({
      action: 'create_organization',
    });
  });
});
