import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../common/transaction.js';
import { DomainClaimEntity, type DomainClaimSource } from './entities/domain-claim.entity.js';

export interface ClaimRow {
  domain: string;
  displayName: string;
  isDefault: boolean;
  isInitial: boolean;
  position: number;
}

@Injectable()
export class DomainClaimsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private manager(tx?: Tx) {
    return tx ?? this.dataSource.manager;
  }

  /**
   * Inserts the claims no one holds yet and returns the domains it inserted. A row another transaction is
   * inserting makes this one wait for it (the unique index decides) and is then skipped, never an error.
   */
  async insertUnclaimed(
    tenantId: string,
    organizationId: string,
    source: DomainClaimSource,
    rows: ClaimRow[],
    tx: Tx,
  ): Promise<string[]> {
    const inserted = (await tx.query(
      `INSERT INTO domain_claims (tenant_id, domain, display_name, organization_id, source, is_default, is_initial, position)
       SELECT $1::uuid, d.domain, d.display_name, $2::uuid, $3::domain_claim_source, d.is_default, d.is_initial, d.position
         FROM unnest($4::text[], $5::text[], $6::boolean[], $7::boolean[], $8::integer[])
              AS d(domain, display_name, is_default, is_initial, position)
        ORDER BY d.domain
       ON CONFLICT (tenant_id, domain) DO NOTHING
       RETURNING domain`,
      [
        tenantId,
        organizationId,
        source,
        rows.map((r) => r.domain),
        rows.map((r) => r.displayName),
        rows.map((r) => r.isDefault),
        rows.map((r) => r.isInitial),
        rows.map((r) => r.position),
      ],
    )) as { domain: string }[];
    return inserted.map((r) => r.domain);
  }

  /** Who holds each of these domains of the tenant now (committed claims, and this transaction's own). */
  async holders(
    tenantId: string,
    domains: string[],
    tx: Tx,
  ): Promise<{ domain: string; organizationId: string }[]> {
    const rows = (await tx.query(
      'SELECT domain, organization_id FROM domain_claims WHERE tenant_id = $1::uuid AND domain = ANY($2::text[])',
      [tenantId, domains],
    )) as { domain: string; organization_id: string }[];
    return rows.map((r) => ({ domain: r.domain, organizationId: r.organization_id }));
  }

  async deleteByOrganizationAndSource(
    organizationId: string,
    source: DomainClaimSource,
    tx?: Tx,
  ): Promise<number> {
    const result = await this.manager(tx).getRepository(DomainClaimEntity).delete({ organizationId, source });
    return result.affected ?? 0;
  }

  listByOrganization(organizationId: string, tx?: Tx): Promise<DomainClaimEntity[]> {
    return this.manager(tx)
      .getRepository(DomainClaimEntity)
      .find({
        where: { organizationId },
        order: { tenantId: 'ASC', source: 'ASC', position: 'ASC', domain: 'ASC' },
      });
  }

  findByTenantAndDomain(tenantId: string, domain: string, tx?: Tx): Promise<DomainClaimEntity | null> {
    return this.manager(tx).getRepository(DomainClaimEntity).findOneBy({ tenantId, domain });
  }
}
