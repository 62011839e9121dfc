import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { TransactionRunner } from '../common/transaction.js';
import { PERSONAL_ACCOUNT_TENANT_ID, type VerifiedIdToken } from '../microsoft/microsoft-identity.client.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import type { UserEntity } from '../users/entities/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { SignInRefusedError } from './provisioning.errors.js';
import { decideSignIn } from './sign-in-decision.js';

export interface SignInResult {
  user: UserEntity;
  outcome: 'signed_in' | 'organization_created';
}

/** Decides what a validated Microsoft sign-in means here: sign in, create, or refuse. */
@Injectable()
export class ProvisioningService {
  private readonly logger = new Logger(ProvisioningService.name);

  constructor(
    private readonly users: UsersService,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditService,
    private readonly transactions: TransactionRunner,
  ) {}

  async signIn(token: VerifiedIdToken): Promise<SignInResult> {
    const linked = await this.users.findByMicrosoftIdentity(token.tenantId, token.objectId);
    const decision = decideSignIn({
      isPersonalAccount: token.tenantId === PERSONAL_ACCOUNT_TENANT_ID,
      linkedUser: linked?.user ?? null,
    });
    switch (decision.action) {
      case 'refuse':
        throw new SignInRefusedError(decision.reason);
      case 'sign_in':
        await this.users.recordSignIn(linked!.user, linked!.identity, signInName(token));
        return { user: linked!.user, outcome: 'signed_in' };
      case 'create_organization':
        return { user: await this.createOrganizationFor(token), outcome: 'organization_created' };
    }
  }

  private async createOrganizationFor(token: VerifiedIdToken): Promise<UserEntity> {
    const email = signInAddress(token);
    const displayName = token.name ?? email;
    try {
      return await this.transactions.run(async (tx) => {
        const organization = await this.organizations.create(`${displayName}'s organization`, tx);
        const user = await this.users.createWithMicrosoftIdentity(
          {
            organizationId: organization.id,
            email,
            displayName,
            role: 'owner',
            tenantId: token.tenantId,
            objectId: token.objectId,
            userPrincipalName: signInName(token),
          },
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
              role: user.role,
              status: user.status,
              source: 'microsoft_sign_in',
              tenantId: token.tenantId,
            },
          },
          tx,
        );
        return user;
      });
    } catch (error) {
      // Two first sign-ins of the same account raced: the other one linked it; sign in as that user.
      if ((error as { code?: string }).code === '23505') {
        const linked = await this.users.findByMicrosoftIdentity(token.tenantId, token.objectId);
        if (linked) return (await this.signIn(token)).user;
      }
      this.logger.error(`could not provision a Microsoft user: ${String(error)}`);
      throw error;
    }
  }
}

/** The UPN as Microsoft gives it (`preferred_username`), falling back to the object id. */
function signInName(token: VerifiedIdToken): string {
  return token.preferredUsername ?? token.objectId;
}

/** The address we record: the UPN, or the `email` claim only when its domain owner verified it. */
function signInAddress(token: VerifiedIdToken): string {
  if (token.preferredUsername?.includes('@')) return token.preferredUsername.toLowerCase();
  if (token.email && token.emailDomainVerified) return token.email.toLowerCase();
  return `${token.objectId}@${token.tenantId}`;
}
