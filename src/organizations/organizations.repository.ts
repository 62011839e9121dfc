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
   * concurrent transactions run one after another.
   */
  lock(id: string): Promise<OrganizationEntity | null> {
    return this.repo()
      .createQueryBuilder('o')
      .setLock('pessimistic_write')
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

  /**
   * Active users, each taking a seat. Read with plain SQL: users belong to the users module, whose seat check
   * under the organization lock counts the same rows.
   */
  async countSeatsUsed(id: string): Promise<number> {
    const rows = (await this.txHost.tx.query(
      "SELECT count(*)::int AS n FROM users WHERE organization_id = $1 AND status = 'active'",
      [id],
    )) as { n: number }[];
    return rows[0]?.n ?? 0;
  }

  /** Every organization (the operator CLI). */
  listAll(): Promise<OrganizationEntity[]> {
    return this.repo().find({ order: { createdAt: 'ASC' } });
  }
}
