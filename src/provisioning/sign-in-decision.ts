import type { UserStatus } from '../users/entities/user.entity.js';

/** Stable codes the browser sees in `?error=` when a Microsoft sign-in is refused. */
export type SignInRefusal =
  | 'personal_account_not_supported'
  | 'account_deactivated'
  | 'account_pending'
  | 'invitation_required'
  | 'seat_limit_reached';

export interface SignInFacts {
  isPersonalAccount: boolean;
  /** The user already linked to this (tid, oid), if any. */
  linkedUser: { status: UserStatus } | null;
  /**
   * The organization connected to the token's (signed) tenant, when the account is a member of that tenant
   * (not a guest) and its sign-in name is on one of the tenant's verified domains.
   */
  homeOrganization: { autoProvisionUsers: boolean; hasInvitation: boolean } | null;
  /** A pending invitation, in any organization, for the account's verified address. */
  hasInvitationElsewhere: boolean;
}

export type SignInDecision =
  | { action: 'refuse'; reason: SignInRefusal }
  | { action: 'sign_in' }
  | { action: 'provision_into_home_organization' }
  | { action: 'accept_invitation'; scope: 'home_organization' | 'any_organization' }
  | { action: 'create_organization' };

/**
 * Who gets in, and how — every branch in one place:
 * 1. a known identity signs in (unless deactivated or pending);
 * 2. a member of a connected tenant, on one of its verified domains, joins that organization: automatically
 *    when auto-provisioning runs, otherwise only with an invitation — never a new, empty organization;
 * 3. anyone else with a pending invitation for their verified address joins with the invited role;
 * 4. anyone else gets a new organization, as its Owner.
 * Seat limits are checked where the user is created, under a lock.
 */
export function decideSignIn(facts: SignInFacts): SignInDecision {
  if (facts.isPersonalAccount) return { action: 'refuse', reason: 'personal_account_not_supported' };
  if (facts.linkedUser) {
    if (facts.linkedUser.status === 'deactivated') return { action: 'refuse', reason: 'account_deactivated' };
    if (facts.linkedUser.status === 'pending') return { action: 'refuse', reason: 'account_pending' };
    return { action: 'sign_in' };
  }
  if (facts.homeOrganization) {
    if (facts.homeOrganization.autoProvisionUsers) return { action: 'provision_into_home_organization' };
    if (facts.homeOrganization.hasInvitation)
      return { action: 'accept_invitation', scope: 'home_organization' };
    return { action: 'refuse', reason: 'invitation_required' };
  }
  if (facts.hasInvitationElsewhere) return { action: 'accept_invitation', scope: 'any_organization' };
  return { action: 'create_organization' };
}
