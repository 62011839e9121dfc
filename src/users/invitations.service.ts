import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { decodeCursor, toPage } from '../common/pagination.js';
import { EventsService } from '../events/events.service.js';
import { toInvitationResponse } from './dto/invitation.dto.js';
import type { Principal } from '../common/principal.js';
import type { InvitationEntity, InvitationStatus } from './entities/invitation.entity.js';
import type { Role } from './entities/user.entity.js';
import {
  InvitationNoLongerPendingError,
  InvitationNotFoundError,
  InvitationNotPendingError,
  UserAlreadyExistsError,
} from './invitations.errors.js';
import { InvitationsRepository } from './invitations.repository.js';
import { OwnerRoleReservedError } from './users.errors.js';
import { UsersRepository } from './users.repository.js';

export const DEFAULT_INVITATION_DAYS = 7;

/** Invitations into an organization; accepted by provisioning at the invitee's first Microsoft sign-in. */
@Injectable()
export class InvitationsService {
  constructor(
    private readonly repository: InvitationsRepository,
    private readonly users: UsersRepository,
    private readonly audit: AuditService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly outbox: EventsService,
  ) {}

  async create(
    principal: Principal,
    input: { email: string; role: Role; expiresInDays?: number },
  ): Promise<InvitationEntity> {
    if (input.role === 'owner' && principal.role !== 'owner') throw new OwnerRoleReservedError();
    const email = input.email.trim().toLowerCase();
    return this.txHost.withTransaction(async () => {
      // The same rule as sign-in: one live holder per address; a deactivated holder (a leaver) blocks nobody.
      if (await this.users.findLiveByEmail(principal.organizationId, email))
        throw new UserAlreadyExistsError();
      await this.repository.expireOverdue(principal.organizationId, email);
      const days = input.expiresInDays ?? DEFAULT_INVITATION_DAYS;
      const invitation = await this.repository.create(principal.organizationId, {
        email,
        role: input.role,
        invitedByUserId: principal.userId,
        expiresAt: new Date(Date.now() + days * 86_400_000),
      });
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: principal.actor,
        action: 'invitation.created',
        target: { type: 'invitation', id: invitation.id },
        after: { email, role: invitation.role, expiresAt: invitation.expiresAt.toISOString() },
      });
      await this.outbox.record(principal.organizationId, 'invitation.created', this.eventData(invitation));
      return invitation;
    });
  }

  async list(organizationId: string, query: { status?: InvitationStatus; limit?: number; cursor?: string }) {
    await this.repository.expireOverdue(organizationId);
    const limit = query.limit ?? 50;
    const rows = await this.repository.list(
      organizationId,
      query.status,
      decodeCursor(query.cursor),
      limit + 1,
    );
    return toPage(rows, limit);
  }

  async revoke(principal: Principal, id: string): Promise<void> {
    await this.txHost.withTransaction(async () => {
      const invitation = await this.repository.lockInOrganization(principal.organizationId, id);
      if (!invitation) throw new InvitationNotFoundError();
      if (invitation.status !== 'pending' || invitation.expiresAt.getTime() <= Date.now()) {
        throw new InvitationNotPendingError(invitation.status === 'pending' ? 'expired' : invitation.status);
      }
      invitation.status = 'revoked';
      invitation.endedAt = new Date();
      await this.repository.save(invitation);
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: principal.actor,
        action: 'invitation.revoked',
        target: { type: 'invitation', id },
        before: { status: 'pending' },
        after: { status: 'revoked' },
      });
      await this.outbox.record(principal.organizationId, 'invitation.revoked', this.eventData(invitation));
    });
  }

  /** The newest pending, unexpired invitation for a verified address (in `organizationId` if given). */
  findPending(email: string, organizationId?: string): Promise<InvitationEntity | null> {
    const address = email.toLowerCase();
    return organizationId
      ? this.repository.findPending(organizationId, address)
      : this.repository.findPendingAcrossOrganizations(address);
  }

  /** Every pending, unexpired invitation for a verified address, in any organization, newest first. */
  findAllPending(email: string): Promise<InvitationEntity[]> {
    return this.repository.findAllPendingAcrossOrganizations(email.toLowerCase());
  }

  /**
   * Marks an invitation accepted by `userId`, inside the transaction that created the user. Throws
   * `InvitationNoLongerPendingError` (so the user is not created) when it was revoked, expired or accepted since it
   * was read.
   */
  async markAccepted(invitation: InvitationEntity, userId: string): Promise<void> {
    if (!(await this.repository.markAcceptedIfPending(invitation.organizationId, invitation.id, userId)))
      throw new InvitationNoLongerPendingError();
    invitation.status = 'accepted';
    invitation.acceptedByUserId = userId;
    await this.outbox.record(
      invitation.organizationId,
      'invitation.accepted',
      this.eventData(invitation, 'sign_in'),
    );
  }

  private eventData(invitation: InvitationEntity, source: 'manual' | 'sign_in' = 'manual') {
    return { invitation: toInvitationResponse(invitation), source };
  }
}
