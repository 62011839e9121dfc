import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { translateUniqueViolation } from '../common/database-errors.js';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import { GroupRoleMappingEntity } from './entities/group-role-mapping.entity.js';
import { MappingExistsError } from './role-mapping.errors.js';

// One mapping per group and organization (`MAPPING_EXISTS`), even when two saves race.
const mappingExists = (constraint: string | undefined) =>
  constraint === 'group_role_mappings_group_key' ? new MappingExistsError() : undefined;

@Injectable()
export class RoleMappingRepository {
  private readonly mappings: OrganizationScopedRepository<GroupRoleMappingEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.mappings = new OrganizationScopedRepository(GroupRoleMappingEntity, () => this.txHost.tx);
  }

  list(organizationId: string): Promise<GroupRoleMappingEntity[]> {
    return this.mappings.find(organizationId, { order: { groupDisplayName: 'ASC', groupId: 'ASC' } });
  }

  findInOrganization(organizationId: string, id: string): Promise<GroupRoleMappingEntity | null> {
    return this.mappings.findOneBy(organizationId, { id });
  }

  create(organizationId: string, values: Partial<GroupRoleMappingEntity>): Promise<GroupRoleMappingEntity> {
    return translateUniqueViolation(this.mappings.create(organizationId, values), mappingExists);
  }

  save(mapping: GroupRoleMappingEntity): Promise<GroupRoleMappingEntity> {
    return translateUniqueViolation(this.mappings.save(mapping.organizationId, mapping), mappingExists);
  }

  async delete(organizationId: string, id: string): Promise<void> {
    await this.mappings.delete(organizationId, { id });
  }
}
