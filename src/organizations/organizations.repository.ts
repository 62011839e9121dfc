import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../common/transaction.js';
import { OrganizationEntity } from './entities/organization.entity.js';

@Injectable()
export class OrganizationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(OrganizationEntity);
  }

  findById(id: string, tx?: Tx): Promise<OrganizationEntity | null> {
    return this.repo(tx).findOneBy({ id });
  }

  /** Row-locks the organization so seat and owner checks of concurrent transactions run one after another. */
  lock(id: string, tx: Tx): Promise<OrganizationEntity | null> {
    return this.repo(tx)
      .createQueryBuilder('o')
      .setLock('pessimistic_write')
      .where('o.id = :id', { id })
      .getOne();
  }

  create(
    values: Pick<OrganizationEntity, 'name'> & Partial<OrganizationEntity>,
    tx?: Tx,
  ): Promise<OrganizationEntity> {
    const repo = this.repo(tx);
    return repo.save(repo.create(values));
  }

  save(organization: OrganizationEntity, tx?: Tx): Promise<OrganizationEntity> {
    return this.repo(tx).save(organization);
  }

  /**
   * Active users, each taking a seat. Read with plain SQL: users belong to the users module, whose seat check
   * under the organization lock counts the same rows.
   */
  async countSeatsUsed(id: string): Promise<number> {
    const rows = (await this.dataSource.query(
      "SELECT count(*)::int AS n FROM users WHERE organization_id = $1 AND status = 'active'",
      [id],
    )) as { n: number }[];
    return rows[0]?.n ?? 0;
  }

  listAll(): Promise<OrganizationEntity[]> {
    return this.repo().find({ order: { createdAt: 'ASC' } });
  }
}
