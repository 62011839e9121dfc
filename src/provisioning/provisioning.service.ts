import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Role } from '../common/access.js';
import { DomainClaimsService } from '../domain-claims/domain-claims.service.js';
import { ActivationService } from '../activation/activation.service.js';
import { EntraConnectionService } from '../integrations/entra-connection.service.js';
import { PERSONAL_ACCOUNT_TENANT_ID, type VerifiedIdToken } from '../microsoft/microsoft-identity.client.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import type { ResolvedRole } from '../role-mapping/resolve-role.js';
import { RoleMappingService } from '../role-mapping/role-mapping.service.js';
import { ScimUsersService } from '../scim/users/scim-users.service.js';
import { TenantAssignmentService } from '../tenant-assignment/tenant-assignment.service.js';
import type { Invitation, User } from '../users/user-records.js';
import type { Placement } from '../users/users.service.js';
import { InvitationNoLongerPendingError, UserAlreadyExistsError } from '../users/invitations.errors.js';
import { InvitationsService } from '../users/invitations.service.js';
import { MicrosoftIdentityAlreadyLinkedError, SeatLimitReachedError } from '../users/users.errors.js';
import type { PendingReason } from '../users/users.types.js';
import { UsersService } from '../users/users.service.js';
import { domainOf } from './domain-match.js';
import { SignInRefusedError } from './provisioning.errors.js';
import { decideSignIn, type SignInFacts } from './sign-in-decision.js';
import { isTenantMember, primaryAddress, signInDomains, verifiedAddresses } from './sign-in-identity.js';

export type SignInResult =
  | {
      user: User;
      outcome: 'signed_in' | 'provisioned' | 'invitation_accepted' | 'organization_created';
    }
  /** Several organizations invited the address: nothing was created; the person must pick one. */
  | { user: null; outcome: 'organization_choice_required'; invitations: InvitationOption[] };

/** A sign-in that ended with a user (signed in, provisioned, accepted or created). */
export type CompletedSignIn = Exclude<SignInResult, { user: null }>;

/** One organization's invitation, as the person choosing among them sees it: no inviter, no addresses. */
export interface InvitationOption {
  invitationId: string;
  organizationName: string;
  role: Role;
}

const DEFAULT_ROLE: ResolvedRole = {
  role: 'employee',
  source: 'default',
  groupId: null,
  groupDisplayName: null,
};

/** Decides what a validated Microsoft sign-in means here — sign in, provision, accept, create or refuse — and does it. */
@Injectable()
export class ProvisioningService {
  private readonly logger = new Logger(ProvisioningService.name);

  constructor(
    private readonly users: UsersService,
    private readonly invitations: InvitationsService,
    private readonly organizations: OrganizationsService,
    private readonly integrations: EntraConnectionService,
    private readonly domainClaims: DomainClaimsService,
    private readonly roleMapping: RoleMappingService,
    private readonly tenantAssignments: TenantAssignmentService,
    private readonly activation: ActivationService,
    private readonly audit: AuditService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly scimUsers: ScimUsersService,
  ) {}

  /**
   * Gathers the facts once, lets `decideSignIn` decide, and applies what it decided on. `chosenInvitationId`
   * is the person's pick after an `organization_choice_required` result (the same token, a few minutes later).
   */
  async signIn(token: VerifiedIdToken, chosenInvitationId: string | null = null): Promise<SignInResult> {
    const applicant = applicantOf(token);
    const decision = decideSignIn(await this.gatherFacts(token, chosenInvitationId));
    switch (decision.action) {
      case 'refuse':
        if (decision.organization)
          await this.recordRefusal(decision.organization.organizationId, applicant, decision.reason);
        throw new SignInRefusedError(decision.reason, decision.pendingReason ?? null);
      case 'sign_in':
        return { user: await this.signInLinked(decision.account, applicant), outcome: 'signed_in' };
      case 'link_provisioned_user':
        return this.linkProvisioned(decision.user, applicant, chosenInvitationId);
      case 'provision_into_home_organization':
        return {
          user: await this.admit(decision.organization.organizationId, applicant, DEFAULT_ROLE, {
            source: decision.route,
            requiresApproval: decision.requiresApproval,
          }),
          outcome: 'provisioned',
        };
      case 'accept_invitation': {
        const { invitation } = decision;
        const invited: ResolvedRole = {
          role: invitation.role,
          source: 'invitation',
          groupId: null,
          groupDisplayName: null,
        };
        return {
          user: await this.admit(invitation.organizationId, applicant, invited, {
            source: 'invitation',
            invitation,
          }),
          outcome: 'invitation_accepted',
        };
      }
      case 'choose_organization':
        return {
          user: null,
          outcome: 'organization_choice_required',
          invitations: await this.optionsOf(decision.invitations),
        };
      case 'create_organization':
        return { user: await this.createOrganizationFor(applicant), outcome: 'organization_created' };
    }
  }

  /**
   * The invitations among `offered` that this account could still accept (pending, unexpired, one per
   * organization, not reserved for another tenant), in the order a fresh sign-in would list them.
   */
  async invitationOptions(token: VerifiedIdToken, offered: string[]): Promise<InvitationOption[]> {
    const invitations = await this.findInvitations(token);
    return this.optionsOf(invitations.filter((invitation) => offered.includes(invitation.id)));
  }

  private async optionsOf(invitations: Invitation[]): Promise<InvitationOption[]> {
    const options: InvitationOption[] = [];
    for (const invitation of invitations) {
      const organization = await this.organizations.get(invitation.organizationId);
      options.push({
        invitationId: invitation.id,
        organizationName: organization.name,
        role: invitation.role,
      });
    }
    return options;
  }

  private async gatherFacts(
    token: VerifiedIdToken,
    chosenInvitationId: string | null,
  ): Promise<SignInFacts<LinkedAccount, HomeOrganization, Invitation>> {
    const isPersonalAccount = token.tenantId === PERSONAL_ACCOUNT_TENANT_ID;
    const linked = isPersonalAccount
      ? null
      : await this.users.findByMicrosoftIdentity(token.tenantId, token.objectId);
    if (isPersonalAccount || linked) {
      return {
        isPersonalAccount,
        linked: linked
          ? { status: linked.user.status, pendingReason: linked.user.pendingReason, account: linked }
          : null,
        home: null,
        invitationsElsewhere: [],
        chosenInvitationId,
      };
    }
    const provisioned = await this.findProvisionedUser(token);
    if (provisioned)
      return {
        isPersonalAccount,
        linked: null,
        provisioned,
        home: null,
        invitationsElsewhere: [],
        chosenInvitationId,
      };
    // Matching is on the signed `tid` and a member's sign-in name, never on an address another tenant vouches for.
    const home = isTenantMember(token) ? await this.findHome(token) : null;
    return {
      isPersonalAccount,
      linked: null,
      home: home
        ? {
            organization: { organizationId: home.organizationId },
            autoProvisionUsers: home.autoProvisionUsers,
            tenantAssignment: home.tenantAssignment,
            invitation: await this.findInvitation(token, home.organizationId),
          }
        : null,
      invitationsElsewhere: home ? [] : await this.findInvitations(token),
      chosenInvitationId,
    };
  }

  /**
   * The user SCIM provisioned for this account before its first sign-in (JIT link): in an organization whose
   * tenant — its Entra connection's, or a running tenant assignment's — is the token's, with no Microsoft
   * account linked yet, matched by `externalId` = `oid` first, then by `userName` = a verified address, then by
   * an email = a verified address when exactly one user of that organization carries it.
   */
  private async findProvisionedUser(
    token: VerifiedIdToken,
  ): Promise<{ userId: string; organizationId: string } | null> {
    const candidates = await this.scimUsers.signInCandidates(token.objectId, verifiedAddresses(token));
    if (candidates.length === 0) return null;
    const rank = { external_id: 0, user_name: 1, email: 2 } as const;
    const ordered = [...candidates].sort((a, b) => rank[a.matchedBy] - rank[b.matchedBy]);
    const tenantOk = new Map<string, boolean>();
    for (const candidate of ordered) {
      const { organizationId, userId } = candidate;
      if (
        candidate.matchedBy === 'email' &&
        ordered.filter((c) => c.organizationId === organizationId && c.matchedBy === 'email').length > 1
      )
        continue; // one address, several people: not ours to pick
      if (!tenantOk.has(organizationId))
        tenantOk.set(organizationId, await this.takesSignInsOf(organizationId, token.tenantId));
      if (!tenantOk.get(organizationId)) continue;
      if (await this.users.hasMicrosoftIdentity(userId)) continue;
      return { userId, organizationId };
    }
    return null;
  }

  /** Whether the organization's tenant is `tenantId`: its Entra connection, or a running tenant assignment. */
  private async takesSignInsOf(organizationId: string, tenantId: string): Promise<boolean> {
    const connection = await this.integrations.findByOrganization(organizationId);
    if (connection?.tenantId.toLowerCase() === tenantId.toLowerCase()) return true;
    return (await this.tenantAssignments.runningFor(organizationId, tenantId)) !== null;
  }

  /** Links the account to the SCIM-provisioned user, then signs in as a known identity (or is refused as one). */
  private async linkProvisioned(
    target: { userId: string; organizationId: string },
    applicant: Applicant,
    chosenInvitationId: string | null,
  ): Promise<SignInResult> {
    const { token } = applicant;
    try {
      await this.users.linkFirstMicrosoftIdentity(target.organizationId, target.userId, {
        tenantId: token.tenantId,
        objectId: token.objectId,
        userPrincipalName: applicant.userPrincipalName,
      });
    } catch (error) {
      // A parallel first sign-in linked it (this account, or another one to this user): decide afresh.
      if (!(error instanceof MicrosoftIdentityAlreadyLinkedError || error instanceof UserAlreadyExistsError))
        throw error;
    }
    return this.signIn(token, chosenInvitationId);
  }

  private async signInLinked({ user, identity }: LinkedAccount, applicant: Applicant): Promise<User> {
    await this.users.recordSignIn(user, identity, applicant.userPrincipalName);
    const resolved = await this.roleMapping.resolveAtSignIn(
      user.organizationId,
      applicant.token,
      currentRoleOf(user),
    );
    return resolved ? this.users.applyMappedRole(user, resolved) : user;
  }

  /** Joins an existing organization with the role group mapping resolves (else `role`), as the activation policy places it. */
  private async admit(
    organizationId: string,
    applicant: Applicant,
    role: ResolvedRole,
    route: MemberRoute,
  ): Promise<User> {
    const resolved = await this.roleMapping.resolveAtSignIn(organizationId, applicant.token, role);
    return this.createMember(organizationId, applicant, resolved ?? role, route);
  }

  /**
   * The organization that claims the domain of the member's sign-in name within the token's tenant, when it
   * takes sign-ins there: through its connection of that tenant, or its running tenant assignment listing
   * that very domain.
   */
  private async findHome(token: VerifiedIdToken): Promise<HomeFacts | null> {
    for (const domain of signInDomains(token)) {
      const claim = await this.domainClaims.findOwner(token.tenantId, domain);
      if (!claim) continue;
      const connection = await this.integrations.findByOrganization(claim.organizationId);
      const viaConnection = connection?.tenantId.toLowerCase() === token.tenantId.toLowerCase();
      const assignment = await this.tenantAssignments.runningFor(claim.organizationId, token.tenantId);
      const listed = assignment?.domains.includes(domain) ?? false;
      if (!viaConnection && !listed) continue;
      return {
        organizationId: claim.organizationId,
        autoProvisionUsers: viaConnection && (connection?.features.autoProvisionUsers ?? false),
        tenantAssignment: listed && assignment ? { autoActivate: assignment.autoActivate } : null,
      };
    }
    return null;
  }

  /**
   * A pending invitation for one of the account's verified addresses. An invitation to an address on a
   * domain the inviting organization claims in its tenant is only for that tenant's accounts (defence in
   * depth: another tenant must not redeem it by claiming the address).
   */
  private async findInvitation(token: VerifiedIdToken, organizationId: string): Promise<Invitation | null> {
    for (const address of verifiedAddresses(token)) {
      const invitation = await this.invitations.findPending(address, organizationId);
      if (!invitation) continue;
      if (await this.claimedInAnotherTenant(address, invitation.organizationId, token.tenantId)) continue;
      return invitation;
    }
    return null;
  }

  /**
   * Every organization's pending invitation for the account's verified addresses, one per organization (its
   * newest, the first address winning), newest first; redeemable ones only, as in `findInvitation`.
   */
  private async findInvitations(token: VerifiedIdToken): Promise<Invitation[]> {
    const byOrganization = new Map<string, Invitation>();
    for (const address of verifiedAddresses(token)) {
      for (const invitation of await this.invitations.findAllPending(address)) {
        if (byOrganization.has(invitation.organizationId)) continue;
        if (await this.claimedInAnotherTenant(address, invitation.organizationId, token.tenantId)) continue;
        byOrganization.set(invitation.organizationId, invitation);
      }
    }
    return [...byOrganization.values()].sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id),
    );
  }

  /** Whether the organization claims the address's domain in a tenant other than `tenantId`. */
  private async claimedInAnotherTenant(
    address: string,
    organizationId: string,
    tenantId: string,
  ): Promise<boolean> {
    const domain = domainOf(address);
    if (!domain) return false;
    const claims = await this.domainClaims.listByOrganization(organizationId);
    return claims.some((c) => c.domain === domain && c.tenantId !== tenantId);
  }

  /**
   * Creates the user in an existing organization as the activation policy places it (active, or pending
   * awaiting approval or a seat). A pending user is created and the sign-in then ends with its reason.
   */
  private async createMember(
    organizationId: string,
    applicant: Applicant,
    role: ResolvedRole,
    route: MemberRoute,
  ): Promise<User> {
    const invitation = route.source === 'invitation' ? route.invitation : null;
    let created: User;
    try {
      created = await this.txHost.withTransaction(async () => {
        const { user, placement } = await this.activation.admit(
          organizationId,
          invitation
            ? { route: 'invitation', requiresApproval: false }
            : {
                route: 'directory',
                requiresApproval: route.source === 'tenant_assignment' && route.requiresApproval,
              },
          (placement) => this.createLinkedUser(organizationId, applicant, role, placement),
        );
        if (invitation) await this.invitations.markAccepted(invitation, user.id);
        await this.audit.record({
          organizationId,
          actor: { type: 'system', id: null },
          action: 'user.created',
          target: { type: 'user', id: user.id },
          after: {
            email: user.email,
            role: user.role,
            roleSource: user.roleSource,
            group: role.groupId ? { id: role.groupId, displayName: role.groupDisplayName } : null,
            source: route.source,
            invitationId: invitation?.id ?? null,
            tenantId: applicant.token.tenantId,
            status: user.status,
            pendingReason: placement.status === 'pending' ? placement.reason : null,
          },
        });
        return user;
      });
    } catch (error) {
      if (error instanceof SeatLimitReachedError) {
        await this.recordRefusal(organizationId, applicant, 'seat_limit_reached');
        throw new SignInRefusedError('seat_limit_reached');
      }
      // Revoked (or accepted by a parallel sign-in) between reading and accepting it: nobody was created.
      if (error instanceof InvitationNoLongerPendingError) {
        await this.recordRefusal(organizationId, applicant, 'invitation_no_longer_pending');
        throw new SignInRefusedError('invitation_no_longer_pending');
      }
      return this.afterRace(error, applicant);
    }
    // Created, but not active: the person is told why (and, awaiting a seat, is queued rather than forgotten).
    if (created.status === 'pending') throw pendingRefusal(created.pendingReason);
    return created;
  }

  private async createOrganizationFor(applicant: Applicant): Promise<User> {
    try {
      return await this.txHost.withTransaction(async () => {
        const organization = await this.organizations.create(`${applicant.displayName}'s organization`);
        const user = await this.createLinkedUser(organization.id, applicant, {
          ...DEFAULT_ROLE,
          role: 'owner',
        });
        const actor = { type: 'user' as const, id: user.id };
        await this.audit.record({
          organizationId: organization.id,
          actor,
          action: 'organization.created',
          target: { type: 'organization', id: organization.id },
          after: { name: organization.name, plan: organization.plan },
        });
        await this.audit.record({
          organizationId: organization.id,
          actor,
          action: 'user.created',
          target: { type: 'user', id: user.id },
          after: {
            email: user.email,
            role: user.role,
            source: 'microsoft_sign_in',
            tenantId: applicant.token.tenantId,
          },
        });
        return user;
      });
    } catch (error) {
      return this.afterRace(error, applicant);
    }
  }

  private createLinkedUser(
    organizationId: string,
    applicant: Applicant,
    role: ResolvedRole,
    placement?: Placement,
  ): Promise<User> {
    return this.users.createWithMicrosoftIdentity({
      organizationId,
      placement,
      email: applicant.email,
      displayName: applicant.displayName,
      role: role.role,
      roleSource: role.source,
      roleSourceGroup: role.groupId ? { id: role.groupId, displayName: role.groupDisplayName ?? '' } : null,
      tenantId: applicant.token.tenantId,
      objectId: applicant.token.objectId,
      userPrincipalName: applicant.userPrincipalName,
    });
  }

  /** Two first sign-ins of one account raced and the other linked it: sign in as that user instead. */
  private async afterRace(error: unknown, applicant: Applicant): Promise<User> {
    const { token } = applicant;
    if (error instanceof MicrosoftIdentityAlreadyLinkedError || error instanceof UserAlreadyExistsError) {
      const linked = await this.users.findByMicrosoftIdentity(token.tenantId, token.objectId);
      const result = linked ? await this.signIn(token) : null;
      if (result?.user) return result.user;
    }
    this.logger.error(`could not provision a Microsoft user: ${String(error)}`);
    throw error;
  }

  /** Admins see refused sign-ins into their organization in the audit trail. */
  private async recordRefusal(organizationId: string, applicant: Applicant, reason: string): Promise<void> {
    const { token } = applicant;
    await this.audit.record({
      organizationId,
      actor: { type: 'system', id: null },
      action: 'user.provisioning_refused',
      after: { reason, email: applicant.email, tenantId: token.tenantId, objectId: token.objectId },
    });
  }
}

type LinkedAccount = NonNullable<Awaited<ReturnType<UsersService['findByMicrosoftIdentity']>>>;

/** The organization a member's sign-in lands in (see `findHome`). */
interface HomeOrganization {
  organizationId: string;
}

interface HomeFacts extends HomeOrganization {
  autoProvisionUsers: boolean;
  tenantAssignment: { autoActivate: boolean } | null;
}

/** How a new member comes in: from the directory (and which way), or with an invitation. */
type MemberRoute =
  | { source: 'auto_provisioning' | 'tenant_assignment'; requiresApproval: boolean }
  | { source: 'invitation'; invitation: Invitation };

/** The sign-in refusal of a member created pending: awaiting approval, or queued for a seat. */
function pendingRefusal(reason: PendingReason | null): SignInRefusedError {
  return reason === 'awaiting_seat'
    ? new SignInRefusedError('seat_limit_reached', reason)
    : new SignInRefusedError('account_pending', reason ?? 'awaiting_approval');
}

/** The validated token and what a new user is recorded with, derived from it once. */
interface Applicant {
  token: VerifiedIdToken;
  email: string;
  displayName: string;
  userPrincipalName: string;
}

function applicantOf(token: VerifiedIdToken): Applicant {
  const email = primaryAddress(token);
  return {
    token,
    email,
    displayName: token.name ?? email,
    userPrincipalName: token.preferredUsername ?? token.objectId,
  };
}

function currentRoleOf(user: User) {
  return { role: user.role, source: user.roleSource, groupId: user.roleSourceGroupId };
}
