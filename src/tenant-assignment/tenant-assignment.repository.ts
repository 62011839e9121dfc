import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import { TenantAssignmentEntity } from './entities/tenant-assignment.entity.js';

@Injectable()
export class TenantAssignmentRepository {
  private readonly assignments: OrganizationScopedRepository<TenantAssignmentEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.assignments = new OrganizationScopedRepository(TenantAssignmentEntity, () => this.txHost.tx);
  }

  find(organizationId: string): Promise<TenantAssignmentEntity | null> {
    return this.assignments.findOneBy(organizationId, {});
  }

  /** Row-locks the organization's assignment for the rest of the current transaction. */
  lock(organizationId: string): Promise<TenantAssignmentEntity | null> {
    return this.assignments.lockOneBy(organizationId, {});
  }

  create(organizationId: string, values: Partial<TenantAssignmentEntity>): Promise<TenantAssignmentEntity> {
    return this.assignments.create(organizationId, values);
  }

  save(assignment: TenantAssignmentEntity): Promise<TenantAssignmentEntity> {
    return this.assignments.save(assignment.organizationId, assignment);
  }

  delete(organizationId: string): Promise<number> {
    return this.assignments.delete(organizationId, {});
  }
}
