import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { translateUniqueViolation } from '../common/database-errors.js';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import { EntraConnectionEntity, type StoredSyncSummary } from './entities/entra-connection.entity.js';
import { TenantAlreadyConnectedError } from './integrations.errors.js';

/** The Entra connection of an organization; lookups by tenant (sign-in, connect) span organizations by design. */
@Injectable()
export class IntegrationsRepository {
  private readonly connections: OrganizationScopedRepository<EntraConnectionEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.connections = new OrganizationScopedRepository(EntraConnectionEntity, () => this.txHost.tx);
  }

  findByOrganization(organizationId: string): Promise<EntraConnectionEntity | null> {
    return this.connections.findOneBy(organizationId, {});
  }

  /** The connection holding a tenant, whichever organization that is (a tenant belongs to one at a time). */
  findByTenantAcrossOrganizations(tenantId: string): Promise<EntraConnectionEntity | null> {
    return this.connections.acrossOrganizations().findOneBy({ tenantId });
  }

  /** Locks the organization's connection row for the rest of the transaction (token refreshes run one at a time). */
  lockByOrganization(organizationId: string): Promise<EntraConnectionEntity | null> {
    return this.connections.lockOneBy(organizationId, {});
  }

  /** Saves the connection; a tenant another organization holds (a lost race) is TenantAlreadyConnectedError. */
  save(connection: EntraConnectionEntity): Promise<EntraConnectionEntity> {
    return translateUniqueViolation(
      this.connections.save(connection.organizationId, connection),
      (constraint) =>
        constraint === 'entra_connections_tenant_key' ? new TenantAlreadyConnectedError() : undefined,
    );
  }

  create(values: Partial<EntraConnectionEntity>): EntraConnectionEntity {
    return this.connections.acrossOrganizations().create(values);
  }

  async delete(organizationId: string, id: string): Promise<void> {
    await this.connections.delete(organizationId, { id });
  }

  /**
   * Connections whose sync runs now (switched on, grant accepted, Enterprise plan), in one query with the
   * organization joined for its plan.
   */
  listSyncEnabledAcrossOrganizations(): Promise<EntraConnectionEntity[]> {
    return this.connections
      .acrossOrganizations()
      .createQueryBuilder('c')
      .innerJoinAndSelect('c.organization', 'o')
      .where('c.auto_deprovision_sync = true')
      .andWhere("c.status = 'connected'")
      .andWhere("o.plan = 'enterprise'")
      .orderBy('c.organization_id')
      .getMany();
  }

  /**
   * Keeps the summary of the organization's latest sync run. Events can arrive out of order: a summary of an
   * older run never replaces a newer run's, and a finished run's summary is never replaced by an earlier state
   * of the same run.
   */
  async recordSyncSummary(organizationId: string, summary: StoredSyncSummary): Promise<void> {
    await this.txHost.tx.query(
      `UPDATE entra_connections SET last_sync = $2::jsonb
        WHERE organization_id = $1
          AND (last_sync IS NULL
               OR (last_sync->>'runCreatedAt', last_sync->>'runId') < ($3::text, $4::text)
               OR (last_sync->>'runId' = $4::text AND last_sync->>'status' NOT IN ('succeeded', 'failed', 'rejected')))`,
      [organizationId, JSON.stringify(summary), summary.runCreatedAt, summary.runId],
    );
  }

  /** Every connected organization (key rotation walks them all). */
  async listOrganizationIdsAcrossOrganizations(): Promise<string[]> {
    const rows = await this.connections.acrossOrganizations().find({ select: { organizationId: true } });
    return rows.map((r) => r.organizationId);
  }
}
