import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { LessThan, MoreThan } from 'typeorm';
import { translateUniqueViolation } from '../common/database-errors.js';
import type { Cursor } from '../common/pagination.js';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import { InvitationEntity, type InvitationStatus } from './entities/invitation.entity.js';
import { InvitationAlreadyPendingError } from './invitations.errors.js';

@Injectable()
export class InvitationsRepository {
  private readonly invitations: OrganizationScopedRepository<InvitationEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.invitations = new OrganizationScopedRepository(InvitationEntity, () => this.txHost.tx);
  }

  /** Refuses a second pending invitation for one address (`INVITATION_ALREADY_PENDING`), even under races. */
  create(organizationId: string, values: Partial<InvitationEntity>): Promise<InvitationEntity> {
    return translateUniqueViolation(this.invitations.create(organizationId, values), (constraint) =>
      constraint === 'invitations_pending_email_key' ? new InvitationAlreadyPendingError() : undefined,
    );
  }

  save(invitation: InvitationEntity): Promise<InvitationEntity> {
    return this.invitations.save(invitation.organizationId, invitation);
  }

  /** Locks the invitation for the rest of the current transaction. */
  lockInOrganization(organizationId: string, id: string): Promise<InvitationEntity | null> {
    return this.invitations.lockOneBy(organizationId, { id });
  }

  /** Pending invitations of the organization past their expiry become `expired`, freeing their address. */
  async expireOverdue(organizationId: string, email?: string): Promise<void> {
    await this.invitations.update(
      organizationId,
      { ...(email === undefined ? {} : { email }), status: 'pending', expiresAt: LessThan(new Date()) },
      { status: 'expired', endedAt: () => 'expires_at' },
    );
  }

  /** The newest pending, unexpired invitation for an address in the organization. */
  findPending(organizationId: string, email: string): Promise<InvitationEntity | null> {
    return this.pendingQuery(this.invitations.queryBuilder(organizationId, 'i'), email).getOne();
  }

  /**
   * The newest pending, unexpired invitation for an address in any organization: sign-in looks for the
   * invitation a Microsoft account may accept before it knows the organization.
   */
  findPendingAcrossOrganizations(email: string): Promise<InvitationEntity | null> {
    return this.pendingQuery(this.invitations.acrossOrganizations().createQueryBuilder('i'), email).getOne();
  }

  private pendingQuery(
    query: ReturnType<InvitationsRepository['invitations']['queryBuilder']>,
    email: string,
  ) {
    return query
      .andWhere("i.email = :email AND i.status = 'pending' AND i.expires_at > now()", { email })
      .orderBy('i.created_at', 'DESC')
      .addOrderBy('i.id', 'DESC');
  }

  /** Every pending, unexpired invitation for an address, in any organization, newest first (sign-in's choice). */
  findAllPendingAcrossOrganizations(email: string): Promise<InvitationEntity[]> {
    return this.invitations
      .acrossOrganizations()
      .createQueryBuilder('i')
      .where("i.email = :email AND i.status = 'pending' AND i.expires_at > now()", { email })
      .orderBy('i.created_at', 'DESC')
      .addOrderBy('i.id', 'DESC')
      .getMany();
  }

  /**
   * Marks a still pending, unexpired invitation accepted, in one conditional statement: false when it was
   * revoked, expired or accepted since it was read.
   */
  async markAcceptedIfPending(organizationId: string, id: string, userId: string): Promise<boolean> {
    const updated = await this.invitations.update(
      organizationId,
      { id, status: 'pending', expiresAt: MoreThan(new Date()) },
      { status: 'accepted', acceptedByUserId: userId, endedAt: () => 'now()' },
    );
    return updated > 0;
  }

  /** Newest first. */
  list(organizationId: string, status: InvitationStatus | undefined, cursor: Cursor | null, take: number) {
    const query = this.invitations
      .queryBuilder(organizationId, 'i')
      .orderBy('i.created_at', 'DESC')
      .addOrderBy('i.id', 'DESC')
      .take(take);
    if (status) query.andWhere('i.status = :status', { status });
    if (cursor) query.andWhere('(i.created_at, i.id) < (:createdAt, :id)', cursor);
    return query.getMany();
  }
}
