import { describe, expect, it } from 'vitest';
import { decideSignIn, type SignInFacts } from './sign-in-decision.js';

const stranger: SignInFacts = {
  isPersonalAccount: false,
  linkedUser: null,
  homeOrganization: null,
  hasInvitationElsewhere: false,
};

describe('decideSignIn', () => {
  it('refuses personal accounts before anything else', () => {
    expect(decideSignIn({ ...stranger, isPersonalAccount: true, linkedUser: { status: 'active' } })).toEqual({
      action: 'refuse',
      reason: 'personal_account_not_supported',
    });
  });

  it('signs in a known, active identity whatever else is true', () => {
    expect(
      decideSignIn({
        ...stranger,
        linkedUser: { status: 'active' },
        homeOrganization: { autoProvisionUsers: true, hasInvitation: true },
      }),
    ).toEqual({ action: 'sign_in' });
  });

  it('refuses deactivated and pending users', () => {
    expect(decideSignIn({ ...stranger, linkedUser: { status: 'deactivated' } })).toEqual({
      action: 'refuse',
      reason: 'account_deactivated',
    });
    expect(decideSignIn({ ...stranger, linkedUser: { status: 'pending' } })).toEqual({
      action: 'refuse',
      reason: 'account_pending',
    });
  });

  it('provisions a member of the connected tenant when auto-provisioning runs', () => {
    expect(
      decideSignIn({ ...stranger, homeOrganization: { autoProvisionUsers: true, hasInvitation: false } }),
    ).toEqual({
      action: 'provision_into_home_organization',
    });
  });

  it('without auto-provisioning, admits the connected tenant’s member only with an invitation', () => {
    expect(
      decideSignIn({ ...stranger, homeOrganization: { autoProvisionUsers: false, hasInvitation: true } }),
    ).toEqual({
      action: 'accept_invitation',
      scope: 'home_organization',
    });
    expect(
      decideSignIn({
        ...stranger,
        homeOrganization: { autoProvisionUsers: false, hasInvitation: false },
        hasInvitationElsewhere: true,
      }),
    ).toEqual({ action: 'refuse', reason: 'invitation_required' });
  });

  it('admits anyone else with an invitation, and gives everyone else a new organization', () => {
    expect(decideSignIn({ ...stranger, hasInvitationElsewhere: true })).toEqual({
      action: 'accept_invitation',
      scope: 'any_organization',
    });
    expect(decideSignIn(stranger)).toEqual({ action: 'create_organization' });
  });
});
