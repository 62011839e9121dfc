import { Injectable } from '@nestjs/common';
import { DataSource, LessThan } from 'typeorm';
import type { Cursor } from '../common/pagination.js';
import type { Tx } from '../common/transaction.js';
import { isUuid } from '../common/uuid.js';
import { InvitationEntity, type InvitationStatus } from './entities/invitation.entity.js';

@Injectable()
export class InvitationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(InvitationEntity);
  }

  create(values: Partial<InvitationEntity>, tx?: Tx): Promise<InvitationEntity> {
    const repo = this.repo(tx);
    return repo.save(repo.create(values));
  }

  save(invitation: InvitationEntity, tx?: Tx): Promise<InvitationEntity> {
    return this.repo(tx).save(invitation);
  }

  async lockInOrganization(organizationId: string, id: string, tx: Tx): Promise<InvitationEntity | null> {
    if (!isUuid(id)) return null;
    return this.repo(tx)
      .createQueryBuilder('i')
      .setLock('pessimistic_write')
      .where('i.id = :id AND i.organization_id = :organizationId', { id, organizationId })
      .getOne();
  }

  /** Pending invitations past their expiry become `expired`, freeing the address for a new one. */
  async expireOverdue(filter: { organizationId?: string; email?: string }, tx?: Tx): Promise<void> {
    await this.repo(tx).update(
      { ...filter, status: 'pending', expiresAt: LessThan(new Date()) },
      { status: 'expired', endedAt: () => 'expires_at' },
    );
  }

  /** The newest pending, unexpired invitation for an address, in one organization or any. */
  findPending(email: string, organizationId?: string, tx?: Tx): Promise<InvitationEntity | null> {
    const query = this.repo(tx)
      .createQueryBuilder('i')
      .where("i.email = :email AND i.status = 'pending' AND i.expires_at > now()", { email })
      .orderBy('i.created_at', 'DESC')
      .addOrderBy('i.id', 'DESC');
    if (organizationId) query.andWhere('i.organization_id = :organizationId', { organizationId });
    return query.getOne();
  }

  /** Every pending, unexpired invitation for an address, in any organization, newest first. */
  findAllPending(email: string, tx?: Tx): Promise<InvitationEntity[]> {
    return this.repo(tx)
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
  async markAcceptedIfPending(id: string, userId: string, tx: Tx): Promise<boolean> {
    const result = await this.repo(tx)
      .createQueryBuilder()
      .update()
      .set({ status: 'accepted', acceptedByUserId: userId, endedAt: () => 'now()' })
      .where("id = :id AND status = 'pending' AND expires_at > now()", { id })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Newest first. */
  list(organizationId: string, status: InvitationStatus | undefined, cursor: Cursor | null, take: number) {
    const query = this.repo()
      .createQueryBuilder('i')
      .where('i.organization_id = :organizationId', { organizationId })
      .orderBy('i.created_at', 'DESC')
      .addOrderBy('i.id', 'DESC')
      .take(take);
    if (status) query.andWhere('i.status = :status', { status });
    if (cursor) query.andWhere('(i.created_at, i.id) < (:createdAt, :id)', cursor);
    return query.getMany();
  }
}
