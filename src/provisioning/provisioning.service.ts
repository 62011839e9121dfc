import { Injectable, Logger } from '@nestjs/common';
import { isUniqueViolation } from '../common/database-errors.js';
import { AuditService } from '../audit/audit.service.js';
import { TransactionRunner, type Tx } from '../common/transaction.js';
import { IntegrationsService } from '../integrations/integrations.service.js';
import { PERSONAL_ACCOUNT_TENANT_ID, type VerifiedIdToken } from '../microsoft/microsoft-identity.client.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import type { ResolvedRole } from '../role-mapping/resolve-role.js';
import { RoleMappingService } from '../role-mapping/role-mapping.service.js';
import type { InvitationEntity } from '../users/entities/invitation.entity.js';
import type { UserEntity } from '../users/entities/user.entity.js';
import { InvitationsService } from '../users/invitations.service.js';
import { SeatLimitReachedError } from '../users/users.errors.js';
import { UsersService } from '../users/users.service.js';
import { isOnVerifiedDomain } from './domain-match.js';
import { SignInRefusedError } from './provisioning.errors.js';
import { decideSignIn } from './sign-in-decision.js';
import {
  isTenantMember,
  primaryAddress,
  signsInOnVerifiedDomain,
  verifiedAddresses,
} from './sign-in-identity.js';

export interface SignInResult {
  user: UserEntity;
  outcome: 'signed_in' | 'provisioned' | 'invitation_accepted' | 'organization_created';
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
    private readonly integrations: IntegrationsService,
    private readonly roleMapping: RoleMappingService,
    private readonly audit: AuditService,
    private readonly transactions: TransactionRunner,
  ) {}

  async signIn(token: VerifiedIdToken): Promise<SignInResult> {
    const isPersonalAccount = token.tenantId === PERSONAL_ACCOUNT_TENANT_ID;
    const linked = isPersonalAccount
      ? null
      : await this.users.findByMicrosoftIdentity(token.tenantId, token.objectId);
    // Matching is on the signed `tid` of the connected tenant, never on an address another tenant vouches for.
    const connection =
      linked || isPersonalAccount ? null : await this.integrations.findByTenant(token.tenantId);
    const home =
      connection && isTenantMember(token) && signsInOnVerifiedDomain(token, connection.verifiedDomains)
        ? connection
        : null;
    const homeInvitation = home ? await this.findInvitation(token, home.organizationId) : null;
    const otherInvitation = linked || home || isPersonalAccount ? null : await this.findInvitation(token);

    const decision = decideSignIn({
      isPersonalAccount,
      linkedUser: linked?.user ?? null,
      homeOrganization: home
        ? { autoProvisionUsers: home.features.autoProvisionUsers, hasInvitation: homeInvitation !== null }
        : null,
      hasInvitationElsewhere: otherInvitation !== null,
    });

    switch (decision.action) {
      case 'refuse':
        if (decision.reason === 'invitation_required')
          await this.recordRefusal(home!.organizationId, token, decision.reason);
        throw new SignInRefusedError(decision.reason);
      case 'sign_in': {
        const { user, identity } = linked!;
        await this.users.recordSignIn(user, identity, token.preferredUsername ?? token.objectId);
        const resolved = await this.roleMapping.resolveAtSignIn(
          user.organizationId,
          token,
          currentRoleOf(user),
        );
        return {
          user: resolved ? await this.users.applyMappedRole(user, resolved) : user,
          outcome: 'signed_in',
        };
      }
      case 'provision_into_home_organization': {
        const resolved = await this.roleMapping.resolveAtSignIn(home!.organizationId, token, DEFAULT_ROLE);
        const user = await this.createMember(home!.organizationId, token, resolved ?? DEFAULT_ROLE, null);
        return { user, outcome: 'provisioned' };
      }
      case 'accept_invitation': {
        const invitation = decision.scope === 'home_organization' ? homeInvitation! : otherInvitation!;
        const invited: ResolvedRole = {
          role: invitation.role,
          source: 'invitation',
          groupId: null,
          groupDisplayName: null,
        };
        const resolved = await this.roleMapping.resolveAtSignIn(invitation.organizationId, token, invited);
        const user = await this.createMember(
          invitation.organizationId,
          token,
          resolved ?? invited,
          invitation,
        );
        return { user, outcome: 'invitation_accepted' };
      }
      case 'create_organization':
        return { user: await this.createOrganizationFor(token), outcome: 'organization_created' };
    }
  }

  /**
   * A pending invitation for one of the account's verified addresses. An invitation to an address on a
   * connected tenant's verified domain is only for that tenant's accounts (defence in depth: another tenant
   * must not redeem it by claiming the address).
   */
  private async findInvitation(
    token: VerifiedIdToken,
    organizationId?: string,
  ): Promise<InvitationEntity | null> {
    for (const address of verifiedAddresses(token)) {
      const invitation = await this.invitations.findPending(address, organizationId);
      if (!invitation) continue;
      const owner = await this.integrations.findByOrganization(invitation.organizationId);
      if (owner && owner.tenantId !== token.tenantId && isOnVerifiedDomain(address, owner.verifiedDomains))
        continue;
      return invitation;
    }
    return null;
  }

  /** Creates the user in an existing organization, respecting its seat limit (checked under the organization lock). */
  private async createMember(
    organizationId: string,
    token: VerifiedIdToken,
    role: ResolvedRole,
    invitation: InvitationEntity | null,
  ): Promise<UserEntity> {
    try {
      return await this.transactions.run(async (tx) => {
        const organization = await this.organizations.lock(organizationId, tx);
        if ((await this.users.countActive(organizationId, tx)) >= organization.seatLimit) {
          throw new SeatLimitReachedError(organization.seatLimit);
        }
        const user = await this.createLinkedUser(organizationId, token, role, tx);
        if (invitation) await this.invitations.markAccepted(invitation, user.id, tx);
        await this.audit.record(
          {
            organizationId,
            actor: { type: 'system', id: null },
            action: 'user.created',
            target: { type: 'user', id: user.id },
            after: {
              email: user.email,
              role: user.role,
              roleSource: user.roleSource,
              group: role.groupId ? { id: role.groupId, displayName: role.groupDisplayName } : null,
              source: invitation ? 'invitation' : 'auto_provisioning',
              invitationId: invitation?.id ?? null,
              tenantId: token.tenantId,
            },
          },
          tx,
        );
        return user;
      });
    } catch (error) {
      if (error instanceof SeatLimitReachedError) {
        await this.recordRefusal(organizationId, token, 'seat_limit_reached');
        throw new SignInRefusedError('seat_limit_reached');
      }
      return this.afterRace(error, token);
    }
  }

  private async createOrganizationFor(token: VerifiedIdToken): Promise<UserEntity> {
    const displayName = token.name ?? primaryAddress(token);
    try {
      return await this.transactions.run(async (tx) => {
        const organization = await this.organizations.create(`${displayName}'s organization`, tx);
        const user = await this.createLinkedUser(
          organization.id,
          token,
          { ...DEFAULT_ROLE, role: 'owner' },
          tx,
        );
        const actor = { type: 'user' as const, id: user.id };
        await this.audit.record(
          {
            organizationId: organization.id,
            actor,
            action: 'organization.created',
            target: { type: 'organization', id: organization.id },
            after: { name: organization.name, plan: organization.plan },
          },
          tx,
        );
        await this.audit.record(
          {
            organizationId: organization.id,
            actor,
            action: 'user.created',
            target: { type: 'user', id: user.id },
            after: {
              email: user.email,
              role: user.role,
              source: 'microsoft_sign_in',
              tenantId: token.tenantId,
            },
          },
          tx,
        );
        return user;
      });
    } catch (error) {
      return this.afterRace(error, token);
    }
  }

  private createLinkedUser(
    organizationId: string,
    token: VerifiedIdToken,
    role: ResolvedRole,
    tx: Tx,
  ): Promise<UserEntity> {
    return this.users.createWithMicrosoftIdentity(
      {
        organizationId,
        email: primaryAddress(token),
        displayName: token.name ?? primaryAddress(token),
        role: role.role,
        roleSource: role.source,
        roleSourceGroup: role.groupId ? { id: role.groupId, displayName: role.groupDisplayName ?? '' } : null,
        tenantId: token.tenantId,
        objectId: token.objectId,
        userPrincipalName: token.preferredUsername ?? token.objectId,
      },
      tx,
    );
  }

  /** Two first sign-ins of one account raced and the other linked it: sign in as that user instead. */
  private async afterRace(error: unknown, token: VerifiedIdToken): Promise<UserEntity> {
    if (isUniqueViolation(error)) {
      const linked = await this.users.findByMicrosoftIdentity(token.tenantId, token.objectId);
      if (linked) return (await this.signIn(token)).user;
    }
    this.logger.error(`could not provision a Microsoft user: ${String(error)}`);
    throw error;
  }

  /** Admins see refused sign-ins into their organization in the audit trail. */
  private async recordRefusal(organizationId: string, token: VerifiedIdToken, reason: string): Promise<void> {
    await this.audit.record({
      organizationId,
      actor: { type: 'system', id: null },
      action: 'user.provisioning_refused',
      after: { reason, email: primaryAddress(token), tenantId: token.tenantId, objectId: token.objectId },
    });
  }
}

function currentRoleOf(user: UserEntity) {
  return { role: user.role, source: user.roleSource, groupId: user.roleSourceGroupId };
}
