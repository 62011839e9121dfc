import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../common/transaction.js';
import { EntraConnectionEntity, type StoredSyncSummary } from './entities/entra-connection.entity.js';

@Injectable()
export class IntegrationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(EntraConnectionEntity);
  }

  findByOrganization(organizationId: string, tx?: Tx): Promise<EntraConnectionEntity | null> {
    return this.repo(tx).findOneBy({ organizationId });
  }

  findByTenant(tenantId: string, tx?: Tx): Promise<EntraConnectionEntity | null> {
    return this.repo(tx).findOneBy({ tenantId });
  }

  /** Locks the organization's connection row for the rest of `tx` (token refreshes run one at a time). */
  lockByOrganization(organizationId: string, tx: Tx): Promise<EntraConnectionEntity | null> {
    return this.repo(tx)
      .createQueryBuilder('c')
      .setLock('pessimistic_write')
      .where('c.organization_id = :organizationId', { organizationId })
      .getOne();
  }

  save(connection: EntraConnectionEntity, tx?: Tx): Promise<EntraConnectionEntity> {
    return this.repo(tx).save(connection);
  }

  create(values: Partial<EntraConnectionEntity>): EntraConnectionEntity {
    return this.repo().create(values);
  }

  async delete(id: string, tx: Tx): Promise<void> {
    await this.repo(tx).delete({ id });
  }

  /**
   * Connections whose sync runs now (switched on, grant accepted, Enterprise plan), in one query with the
   * organization joined for its plan.
   */
  listSyncEnabled(): Promise<EntraConnectionEntity[]> {
    return this.repo()
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
    await this.dataSource.query(
      `UPDATE entra_connections SET last_sync = $2::jsonb
        WHERE organization_id = $1
          AND (last_sync IS NULL
               OR (last_sync->>'runCreatedAt', last_sync->>'runId') < ($3::text, $4::text)
               OR (last_sync->>'runId' = $4::text AND last_sync->>'status' NOT IN ('succeeded', 'failed', 'rejected')))`,
      [organizationId, JSON.stringify(summary), summary.runCreatedAt, summary.runId],
    );
  }

  listOrganizationIds(): Promise<string[]> {
    return this.repo()
      .find({ select: { organizationId: true } })
      .then((rows) => rows.map((r) => r.organizationId));
  }
}
