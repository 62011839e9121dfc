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

  listAll(): Promise<OrganizationEntity[]> {
    return this.repo().find({ order: { createdAt: 'ASC' } });
  }
}
