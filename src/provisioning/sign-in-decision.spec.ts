import { describe, expect, it } from 'vitest';
import { decideSignIn, type SignInFacts } from './sign-in-decision.js';

type Invitation = { id: string; organization: string };
type Facts = SignInFacts<string, string, Invitation>;

const stranger: Facts = {
  isPersonalAccount: false,
  linked: null,
  home: null,
  invitationsElsewhere: [],
  chosenInvitationId: null,
};
const linked = (
  status: 'active' | 'pending' | 'deactivated',
  pendingReason: 'awaiting_approval' | 'awaiting_seat' | null = null,
) => ({ status, pendingReason, account: 'user-1' });
const assigned = (autoActivate: boolean) => ({ autoActivate });
const invitation = (id: string, organization = `org-of-${id}`): Invitation => ({ id, organization });
const homeInvitation = invitation('inv-home', 'home');
const fromA = invitation('inv-a', 'org-a');
const fromB = invitation('inv-b', 'org-b');

describe('decideSignIn', () => {
  it('links a first sign-in to the user SCIM provisioned for it, before any home or invitation', () => {
    const provisioned = { userId: 'scim-user', organizationId: 'org-1' };
    expect(
      decideSignIn({
        ...stranger,
        provisioned,
        home: {
          organization: 'home',
          autoProvisionUsers: true,
          tenantAssignment: null,
          invitation: homeInvitation,
        },
        invitationsElsewhere: [fromA],
      }),
    ).toEqual({ action: 'link_provisioned_user', user: provisioned });
    // A known identity is never re-linked, and a personal account never reaches a SCIM user.
    expect(decideSignIn({ ...stranger, provisioned, linked: linked('active') }).action).toBe('sign_in');
    expect(decideSignIn({ ...stranger, provisioned, isPersonalAccount: true }).action).toBe('refuse');
  });

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
        home: {
          organization: 'home',
          autoProvisionUsers: true,
          tenantAssignment: null,
          invitation: homeInvitation,
        },
        invitationsElsewhere: [fromA, fromB],
        chosenInvitationId: fromA.id,
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

  it('refuses a pending user, saying why they are pending', () => {
    expect(decideSignIn({ ...stranger, linked: linked('pending', 'awaiting_approval') })).toEqual({
      action: 'refuse',
      reason: 'account_pending',
      organization: null,
      pendingReason: 'awaiting_approval',
    });
    expect(decideSignIn({ ...stranger, linked: linked('pending', 'awaiting_seat') })).toMatchObject({
      reason: 'account_pending',
      pendingReason: 'awaiting_seat',
    });
  });

  it('assigns a member on a listed domain through tenant assignment, pending approval by default', () => {
    expect(
      decideSignIn({
        ...stranger,
        home: {
          organization: 'home',
          autoProvisionUsers: false,
          tenantAssignment: assigned(false),
          invitation: null,
        },
        invitationsElsewhere: [fromA],
      }),
    ).toEqual({
      action: 'provision_into_home_organization',
      organization: 'home',
      route: 'tenant_assignment',
      requiresApproval: true,
    });
  });

  it('assigns through tenant assignment without approval when it auto-activates', () => {
    expect(
      decideSignIn({
        ...stranger,
        home: {
          organization: 'home',
          autoProvisionUsers: false,
          tenantAssignment: assigned(true),
          invitation: null,
        },
      }),
    ).toEqual({
      action: 'provision_into_home_organization',
      organization: 'home',
      route: 'tenant_assignment',
      requiresApproval: false,
    });
  });

  it('lets the connection’s auto-provisioning win over the tenant assignment of the same organization', () => {
    expect(
      decideSignIn({
        ...stranger,
        home: {
          organization: 'home',
          autoProvisionUsers: true,
          tenantAssignment: assigned(false),
          invitation: null,
        },
      }),
    ).toMatchObject({
      action: 'provision_into_home_organization',
      route: 'auto_provisioning',
      requiresApproval: false,
    });
  });

  it('accepts the home organization’s invitation rather than waiting for approval', () => {
    expect(
      decideSignIn({
        ...stranger,
        home: {
          organization: 'home',
          autoProvisionUsers: false,
          tenantAssignment: assigned(false),
          invitation: homeInvitation,
        },
      }),
    ).toEqual({ action: 'accept_invitation', scope: 'home_organization', invitation: homeInvitation });
  });

  it('provisions a member of the connected tenant into that organization when auto-provisioning runs', () => {
    expect(
      decideSignIn({
        ...stranger,
        home: { organization: 'home', autoProvisionUsers: true, tenantAssignment: null, invitation: null },
        invitationsElsewhere: [fromA, fromB],
      }),
    ).toEqual({
      action: 'provision_into_home_organization',
      organization: 'home',
      route: 'auto_provisioning',
      requiresApproval: false,
    });
  });

  it('without auto-provisioning, admits the connected tenant’s member with the home invitation', () => {
    expect(
      decideSignIn({
        ...stranger,
        home: {
          organization: 'home',
          autoProvisionUsers: false,
          tenantAssignment: null,
          invitation: homeInvitation,
        },
      }),
    ).toEqual({ action: 'accept_invitation', scope: 'home_organization', invitation: homeInvitation });
  });

  it('without auto-provisioning or a home invitation, refuses and names the organization to audit it in', () => {
    expect(
      decideSignIn({
        ...stranger,
        home: { organization: 'home', autoProvisionUsers: false, tenantAssignment: null, invitation: null },
        invitationsElsewhere: [fromA],
      }),
    ).toEqual({ action: 'refuse', reason: 'invitation_required', organization: 'home' });
  });

  it('lets the claimed domain decide even when several organizations invited the address', () => {
    expect(
      decideSignIn({
        ...stranger,
        home: {
          organization: 'home',
          autoProvisionUsers: false,
          tenantAssignment: null,
          invitation: homeInvitation,
        },
        invitationsElsewhere: [fromA, fromB],
        chosenInvitationId: fromB.id,
      }),
    ).toEqual({ action: 'accept_invitation', scope: 'home_organization', invitation: homeInvitation });
  });

  it('admits anyone else with one invitation elsewhere, carrying that invitation', () => {
    expect(decideSignIn({ ...stranger, invitationsElsewhere: [fromA] })).toEqual({
      action: 'accept_invitation',
      scope: 'any_organization',
      invitation: fromA,
    });
  });

  it('asks the person to choose when several organizations invited them, creating nothing', () => {
    expect(decideSignIn({ ...stranger, invitationsElsewhere: [fromB, fromA] })).toEqual({
      action: 'choose_organization',
      invitations: [fromB, fromA],
    });
  });

  it('admits into the chosen organization, not the newest inviter', () => {
    expect(
      decideSignIn({ ...stranger, invitationsElsewhere: [fromB, fromA], chosenInvitationId: fromA.id }),
    ).toEqual({ action: 'accept_invitation', scope: 'chosen_by_applicant', invitation: fromA });
  });

  it('still admits into the chosen organization when the other invitations ended meanwhile', () => {
    expect(
      decideSignIn({ ...stranger, invitationsElsewhere: [fromA], chosenInvitationId: fromA.id }),
    ).toEqual({ action: 'accept_invitation', scope: 'chosen_by_applicant', invitation: fromA });
  });

  it('refuses a choice whose invitation is no longer pending, rather than deciding anything else', () => {
    expect(
      decideSignIn({ ...stranger, invitationsElsewhere: [fromB], chosenInvitationId: fromA.id }),
    ).toEqual({ action: 'refuse', reason: 'invitation_no_longer_pending', organization: null });
    expect(decideSignIn({ ...stranger, chosenInvitationId: fromA.id })).toEqual({
      action: 'refuse',
      reason: 'invitation_no_longer_pending',
      organization: null,
    });
  });

  it('gives everyone else a new organization', () => {
    expect(decideSignIn(stranger)).toEqual({ action: 'create_organization' });
  });
});
