import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { translateUniqueViolation } from '../common/database-errors.js';
import type { Tx } from '../common/transaction.js';
import { isUuid } from '../common/uuid.js';
import { GroupRoleMappingEntity } from './entities/group-role-mapping.entity.js';
import { MappingExistsError } from './role-mapping.errors.js';

// One mapping per group and organization (`MAPPING_EXISTS`), even when two saves race.
const mappingExists = (constraint: string | undefined) =>
  constraint === 'group_role_mappings_group_key' ? new MappingExistsError() : undefined;

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
    return translateUniqueViolation(repo.save(repo.create(values)), mappingExists);
  }

  save(mapping: GroupRoleMappingEntity, tx?: Tx): Promise<GroupRoleMappingEntity> {
    return translateUniqueViolation(this.repo(tx).save(mapping), mappingExists);
  }

  async delete(id: string, tx?: Tx): Promise<void> {
    await this.repo(tx).delete({ id });
  }
}
