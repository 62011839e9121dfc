import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
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
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /** The current transaction's manager (claims within a tenant span organizations by design). */
  private get manager() {
    return this.txHost.tx;
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
  ): Promise<string[]> {
    const inserted = (await this.manager.query(
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
  async holders(tenantId: string, domains: string[]): Promise<{ domain: string; organizationId: string }[]> {
    const rows = (await this.manager.query(
      'SELECT domain, organization_id FROM domain_claims WHERE tenant_id = $1::uuid AND domain = ANY($2::text[])',
      [tenantId, domains],
    )) as { domain: string; organization_id: string }[];
    return rows.map((r) => ({ domain: r.domain, organizationId: r.organization_id }));
  }

  async deleteByOrganizationAndSource(organizationId: string, source: DomainClaimSource): Promise<number> {
    const result = await this.manager.getRepository(DomainClaimEntity).delete({ organizationId, source });
    return result.affected ?? 0;
  }

  listByOrganization(organizationId: string): Promise<DomainClaimEntity[]> {
    return this.manager.getRepository(DomainClaimEntity).find({
      where: { organizationId },
      order: { tenantId: 'ASC', source: 'ASC', position: 'ASC', domain: 'ASC' },
    });
  }

  findByTenantAndDomain(tenantId: string, domain: string): Promise<DomainClaimEntity | null> {
    return this.manager.getRepository(DomainClaimEntity).findOneBy({ tenantId, domain });
  }
}
