import type { PendingReason, UserStatus } from '../users/users.types.js';

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
  /** The user already linked to this (tid, oid), if any (`pendingReason` while pending). */
  linked: { status: UserStatus; pendingReason?: PendingReason | null; account: Linked } | null;
  /**
   * With nobody linked: a user the directory provisioned (SCIM) before this first sign-in, with no Microsoft
   * account yet, in an organization whose tenant is the token's, whose externalId is the token's `oid` or
   * whose userName / email is one of its verified addresses. Absent or null when there is none.
   */
  provisioned?: { userId: string; organizationId: string } | null;
  /**
   * The organization that claims, within the token's (signed) tenant, the domain of the account's sign-in
   * name, when the account is a member of that tenant (not a guest) and the organization takes sign-ins
   * there: through its Entra connection of that tenant, or through its tenant assignment (enabled, on a paid
   * plan, the domain listed verbatim). With its pending invitation for the account, if any.
   */
  home: {
    organization: Home;
    /** The connection's auto-provisioning runs (Enterprise plan, grant accepted, switched on). */
    autoProvisionUsers: boolean;
    /** The organization's tenant assignment lists the domain; null when it does not, or is not running. */
    tenantAssignment: { autoActivate: boolean } | null;
    invitation: Invitation | null;
  } | null;
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
  | {
      action: 'refuse';
      reason: SignInRefusal;
      organization: Home | null;
      /** Why a known but pending account is pending (with `account_pending`). */
      pendingReason?: PendingReason | null;
    }
  | { action: 'sign_in'; account: Linked }
  /** Links the account to the user SCIM created for it, then signs in as that user (never a second account). */
  | { action: 'link_provisioned_user'; user: { userId: string; organizationId: string } }
  /**
   * Joins the home organization through the activation policy: `route` says how (its Entra connection's
   * auto-provisioning, or its tenant assignment), `requiresApproval` whether an admin must activate them.
   */
  | {
      action: 'provision_into_home_organization';
      organization: Home;
      route: 'auto_provisioning' | 'tenant_assignment';
      requiresApproval: boolean;
    }
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
 * 1. a known identity signs in (unless deactivated or pending); a first sign-in of the account a SCIM user was
 *    provisioned for links to that user and then goes as a known identity;
 * 2. a member (never a guest) of a tenant, whose sign-in name is on a domain an organization claims in that
 *    tenant, joins that organization — never a new, empty organization: through the Entra connection's
 *    auto-provisioning when it runs; else with an invitation of that organization; else through its tenant
 *    assignment (pending approval unless it auto-activates); else it is refused (`invitation_required`);
 * 3. anyone else with a pending invitation for their verified address joins with the invited role; when
 *    several organizations invited them, only into the one they choose (never silently the newest), and a
 *    choice of an invitation that is no longer pending is refused;
 * 4. anyone else gets a new organization, as its Owner.
 * A choice never overrides 1 or 2: they decide as they would without it. Whether a new member starts active
 * or pending (awaiting approval or a seat) is the activation policy's, decided where the user is created,
 * under the organization lock.
 */
export function decideSignIn<Linked, Home, Invitation extends { id: string }>(
  facts: SignInFacts<Linked, Home, Invitation>,
): SignInDecision<Linked, Home, Invitation> {
  const refuse = (reason: SignInRefusal, organization: Home | null = null) =>
    ({ action: 'refuse', reason, organization }) as const;
  if (facts.isPersonalAccount) return refuse('personal_account_not_supported');
  if (facts.linked) {
    if (facts.linked.status === 'deactivated') return refuse('account_deactivated');
    if (facts.linked.status === 'pending')
      return { ...refuse('account_pending'), pendingReason: facts.linked.pendingReason ?? null };
    return { action: 'sign_in', account: facts.linked.account };
  }
  if (facts.provisioned) return { action: 'link_provisioned_user', user: facts.provisioned };
  if (facts.home) {
    const { organization, autoProvisionUsers, tenantAssignment, invitation } = facts.home;
    if (autoProvisionUsers)
      return {
        action: 'provision_into_home_organization',
        organization,
        route: 'auto_provisioning',
        requiresApproval: false,
      };
    // An invitation is an administrator's explicit choice of role and seat: it beats waiting for approval.
    if (invitation) return { action: 'accept_invitation', scope: 'home_organization', invitation };
    if (tenantAssignment)
      return {
        action: 'provision_into_home_organization',
        organization,
        route: 'tenant_assignment',
        requiresApproval: !tenantAssignment.autoActivate,
      };
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
