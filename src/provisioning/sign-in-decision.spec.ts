import { describe, expect, it } from 'vitest';
import { decideSignIn, type SignInFacts } from './sign-in-decision.js';

type Facts = SignInFacts<string, string, string>;

const stranger: Facts = {
  isPersonalAccount: false,
  linked: null,
  home: null,
  invitationElsewhere: null,
};
const linked = (status: 'active' | 'pending' | 'deactivated') => ({ status, account: 'user-1' });

describe('decideSignIn', () => {
  it('refuses personal accounts before anything else', () => {
    expect(decideSignIn({ ...stranger, isPersonalAccount: true, linked: linked('active') })).toEqual({
      action: 'refuse',
      reason: 'personal_account_not_supported',
      organization: null,
    });
  });

  it('signs in a known, active identity whatever else is true, carrying the linked account', () => {
    expect(
      decideSignIn({
        ...stranger,
        linked: linked('active'),
        home: { organization: 'home', autoProvisionUsers: true, invitation: 'inv-home' },
        invitationElsewhere: 'inv-other',
      }),
    ).toEqual({ action: 'sign_in', account: 'user-1' });
  });

  it('refuses a deactivated user', () => {
    expect(decideSignIn({ ...stranger, linked: linked('deactivated') })).toEqual({
      action: 'refuse',
      reason: 'account_deactivated',
      organization: null,
    });
  });

  it('refuses a pending user', () => {
    expect(decideSignIn({ ...stranger, linked: linked('pending') })).toEqual({
      action: 'refuse',
      reason: 'account_pending',
      organization: null,
    });
  });

  it('provisions a member of the connected tenant into that organization when auto-provisioning runs', () => {
    expect(
      decideSignIn({
        ...stranger,
        home: { organization: 'home', autoProvisionUsers: true, invitation: null },
        invitationElsewhere: 'inv-other',
      }),
    ).toEqual({ action: 'provision_into_home_organization', organization: 'home' });
  });

  it('without auto-provisioning, admits the connected tenant’s member with the home invitation', () => {
    expect(
      decideSignIn({
        ...stranger,
        home: { organization: 'home', autoProvisionUsers: false, invitation: 'inv-home' },
      }),
    ).toEqual({ action: 'accept_invitation', scope: 'home_organization', invitation: 'inv-home' });
  });

  it('without auto-provisioning or a home invitation, refuses and names the organization to audit it in', () => {
    expect(
      decideSignIn({
        ...stranger,
        home: { organization: 'home', autoProvisionUsers: false, invitation: null },
        invitationElsewhere: 'inv-other',
      }),
    ).toEqual({ action: 'refuse', reason: 'invitation_required', organization: 'home' });
  });

  it('admits anyone else with an invitation elsewhere, carrying that invitation', () => {
    expect(decideSignIn({ ...stranger, invitationElsewhere: 'inv-other' })).toEqual({
      action: 'accept_invitation',
      scope: 'any_organization',
      invitation: 'inv-other',
    });
  });

  it('gives everyone else a new organization', () => {
    expect(decideSignIn(stranger)).toEqual({ action: 'create_organization' });
  });
});
