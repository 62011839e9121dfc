import type { UserStatus } from '../users/users.types.js';

/** Stable codes the browser sees in `?error=` when a Microsoft sign-in is refused. */
export type SignInRefusal =
  | 'personal_account_not_supported'
  | 'account_deactivated'
  | 'account_pending'
  | 'invitation_required'
  | 'invitation_no_longer_pending'
  | 'seat_limit_reached';

/**
 * Everything the decision needs, gathered once. The type parameters are what the caller wants back in the
 * decision (its own user, organization and invitation records), so nothing has to be looked up again.
 */
export interface SignInFacts<
  Linked = unknown,
  Home = unknown,
  Invitation extends { id: string } = { id: string },
> {
  isPersonalAccount: boolean;
  /** The user already linked to this (tid, oid), if any. */
  linked: { status: UserStatus; account: Linked } | null;
  /**
   * The organization connected to the token's (signed) tenant, when the account is a member of that tenant
   * (not a guest) and its sign-in name is on one of the tenant's verified domains; with its pending
   * invitation for the account, if any.
   */
  home: { organization: Home; autoProvisionUsers: boolean; invitation: Invitation | null } | null;
  /**
   * Pending invitations for the account's verified addresses, at most one per organization, newest first
   * (looked up without a home).
   */
  invitationsElsewhere: Invitation[];
  /** The invitation the person picked when several organizations invited them; null before any choice. */
  chosenInvitationId: string | null;
}

export type SignInDecision<Linked = unknown, Home = unknown, Invitation = unknown> =
  /** `organization`: where the refusal is audited (the home organization that requires an invitation). */
  | { action: 'refuse'; reason: SignInRefusal; organization: Home | null }
  | { action: 'sign_in'; account: Linked }
  | { action: 'provision_into_home_organization'; organization: Home }
  | {
      action: 'accept_invitation';
      /** `chosen_by_applicant`: one of several invitations, the one the person picked. */
      scope: 'home_organization' | 'any_organization' | 'chosen_by_applicant';
      invitation: Invitation;
    }
  /** Several organizations invited this address: the person picks one; nothing is created until then. */
  | { action: 'choose_organization'; invitations: Invitation[] }
  | { action: 'create_organization' };

/**
 * Who gets in, and how — every branch in one place:
 * 1. a known identity signs in (unless deactivated or pending);
 * 2. a member of a connected tenant, on one of its verified domains, joins that organization: automatically
 *    when auto-provisioning runs, otherwise only with an invitation — never a new, empty organization;
 * 3. anyone else with a pending invitation for their verified address joins with the invited role; when
 *    several organizations invited them, only into the one they choose (never silently the newest), and a
 *    choice of an invitation that is no longer pending is refused;
 * 4. anyone else gets a new organization, as its Owner.
 * A choice never overrides 1 or 2: they decide as they would without it. Seat limits are checked where the
 * user is created, under a lock.
 */
export function decideSignIn<Linked, Home, Invitation extends { id: string }>(
  facts: SignInFacts<Linked, Home, Invitation>,
): SignInDecision<Linked, Home, Invitation> {
  const refuse = (reason: SignInRefusal, organization: Home | null = null) =>
    ({ action: 'refuse', reason, organization }) as const;
  if (facts.isPersonalAccount) return refuse('personal_account_not_supported');
  if (facts.linked) {
    if (facts.linked.status === 'deactivated') return refuse('account_deactivated');
    if (facts.linked.status === 'pending') return refuse('account_pending');
    return { action: 'sign_in', account: facts.linked.account };
  }
  if (facts.home) {
    const { organization, autoProvisionUsers, invitation } = facts.home;
    if (autoProvisionUsers) return { action: 'provision_into_home_organization', organization };
    if (invitation) return { action: 'accept_invitation', scope: 'home_organization', invitation };
    return refuse('invitation_required', organization);
  }
  const invitations = facts.invitationsElsewhere;
  if (facts.chosenInvitationId !== null) {
    const chosen = invitations.find((invitation) => invitation.id === facts.chosenInvitationId);
    if (!chosen) return refuse('invitation_no_longer_pending');
    return { action: 'accept_invitation', scope: 'chosen_by_applicant', invitation: chosen };
  }
  if (invitations.length > 1) return { action: 'choose_organization', invitations };
  if (invitations.length === 1)
    return { action: 'accept_invitation', scope: 'any_organization', invitation: invitations[0] };
  return { action: 'create_organization' };
}
