import type { UserStatus } from '../users/entities/user.entity.js';

/** Stable codes the browser sees in `?error=` when a Microsoft sign-in is refused. */
export type SignInRefusal = 'personal_account_not_supported' | 'account_deactivated' | 'account_pending';

export interface SignInFacts {
  isPersonalAccount: boolean;
  /** The user already linked to this (tid, oid), if any. */
  linkedUser: { status: UserStatus } | null;
}

export type SignInDecision =
  { action: 'refuse'; reason: SignInRefusal } | { action: 'sign_in' } | { action: 'create_organization' };

/**
 * Who gets in, and how. Each branch is one rule; later rules (auto-provisioning into a connected tenant's
 * organization, invitations) slot in between "known identity" and "new organization".
 */
export function decideSignIn(facts: SignInFacts): SignInDecision {
  if (facts.isPersonalAccount) return { action: 'refuse', reason: 'personal_account_not_supported' };
  if (facts.linkedUser) {
    if (facts.linkedUser.status === 'deactivated') return { action: 'refuse', reason: 'account_deactivated' };
    if (facts.linkedUser.status === 'pending') return { action: 'refuse', reason: 'account_pending' };
    return { action: 'sign_in' };
  }
  return { action: 'create_organization' };
}
