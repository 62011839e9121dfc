import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { OrganizationEntity } from './entities/organization.entity.js';

@Injectable()
export class OrganizationsRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  // The organizations table is the tenant root, not organization-owned data: it is keyed by the id itself.
  private repo() {
    return this.txHost.tx.getRepository(OrganizationEntity);
  }

  findById(id: string): Promise<OrganizationEntity | null> {
    return this.repo().findOneBy({ id });
  }

  /**
   * Row-locks the organization for the rest of the current transaction, so seat and owner checks of
   * concurrent transactions run one after another. `FOR NO KEY UPDATE`: it excludes the other lockers (and the
   * seat-count triggers' updates) but not the key-share locks that inserts referencing the organization take,
   * so a transaction that wrote such a row first (a SCIM row before its user) cannot deadlock with another.
   */
  lock(id: string): Promise<OrganizationEntity | null> {
    return this.repo()
      .createQueryBuilder('o')
      .setLock('for_no_key_update')
      .where('o.id = :id', { id })
      .getOne();
  }

  create(
    values: Pick<OrganizationEntity, 'name'> & Partial<OrganizationEntity>,
  ): Promise<OrganizationEntity> {
    const repo = this.repo();
    return repo.save(repo.create(values));
  }

  save(organization: OrganizationEntity): Promise<OrganizationEntity> {
    return this.repo().save(organization);
  }

  /** Every organization (the operator CLI). */
  listAll(): Promise<OrganizationEntity[]> {
    return this.repo().find({ order: { createdAt: 'ASC' } });
  }
}
