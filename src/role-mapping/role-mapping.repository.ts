import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../common/transaction.js';
import { isUuid } from '../common/uuid.js';
import { GroupRoleMappingEntity } from './entities/group-role-mapping.entity.js';

@Injectable()
export class RoleMappingRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(GroupRoleMappingEntity);
  }

  list(organizationId: string): Promise<GroupRoleMappingEntity[]> {
    return this.repo().find({
      where: { organizationId },
      order: { groupDisplayName: 'ASC', groupId: 'ASC' },
    });
  }

  async findInOrganization(organizationId: string, id: string): Promise<GroupRoleMappingEntity | null> {
    return isUuid(id) ? this.repo().findOneBy({ organizationId, id }) : null;
  }

  create(values: Partial<GroupRoleMappingEntity>, tx?: Tx): Promise<GroupRoleMappingEntity> {
    const repo = this.repo(tx);
    return repo.save(repo.create(values));
  }

  save(mapping: GroupRoleMappingEntity, tx?: Tx): Promise<GroupRoleMappingEntity> {
    return this.repo(tx).save(mapping);
  }

  async delete(id: string, tx?: Tx): Promise<void> {
    await this.repo(tx).delete({ id });
  }
}
