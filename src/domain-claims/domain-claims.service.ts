import { Injectable } from '@nestjs/common';
import { TransactionRunner, type Tx } from '../common/transaction.js';
import { DomainsClaimedError } from './domain-claims.errors.js';
import { type ClaimRow, DomainClaimsRepository } from './domain-claims.repository.js';
import type { DomainClaimEntity, DomainClaimSource } from './entities/domain-claim.entity.js';

export type { DomainClaimSource } from './entities/domain-claim.entity.js';

/** A domain to claim, as its source spells it, with what the source says about it. */
export interface DomainToClaim {
  name: string;
  isDefault?: boolean;
  isInitial?: boolean;
}

/** A claim as other modules see it. */
export interface DomainClaim {
  tenantId: string;
  /** Lower-case. */
  domain: string;
  /** The spelling the source gave (e.g. Graph's `Contoso.onmicrosoft.com`). */
  displayName: string;
  organizationId: string;
  source: DomainClaimSource;
  isDefault: boolean;
  isInitial: boolean;
}

/** A lost race with a release may leave a domain neither inserted nor held; trying again settles it. */
const MAX_ATTEMPTS = 3;

/** Domains lower-cased and trimmed, each once (the first spelling wins), in the source's order. */
export function normalizeDomains(domains: DomainToClaim[]): ClaimRow[] {
  const seen = new Map<string, ClaimRow>();
  for (const d of domains) {
    const domain = d.name.trim().toLowerCase();
    if (domain === '' || seen.has(domain)) continue;
    seen.set(domain, {
      domain,
      displayName: d.name.trim(),
      isDefault: d.isDefault ?? false,
      isInitial: d.isInitial ?? false,
      position: seen.size,
    });
  }
  return [...seen.values()];
}

const toClaim = (e: DomainClaimEntity): DomainClaim => ({
  tenantId: e.tenantId,
  domain: e.domain,
  displayName: e.displayName,
  organizationId: e.organizationId,
  source: e.source,
  isDefault: e.isDefault,
  isInitial: e.isInitial,
});

/** Which organization owns a domain within a Microsoft tenant, whatever claims it. */
@Injectable()
export class DomainClaimsService {
  constructor(
    private readonly repository: DomainClaimsRepository,
    private readonly transactions: TransactionRunner,
  ) {}

  /**
   * Claims `domains` of `tenantId` for the organization, all or nothing: when any is held by another
   * organization of the tenant, nothing is claimed and DOMAINS_CLAIMED lists those domains. A domain the
   * organization already holds stays as it is. Pass `tx` to make the claim part of a larger change.
   */
  async claim(
    claim: { organizationId: string; tenantId: string; source: DomainClaimSource; domains: DomainToClaim[] },
    tx?: Tx,
  ): Promise<void> {
    const rows = normalizeDomains(claim.domains);
    if (rows.length === 0) return;
    if (!tx) return this.transactions.run((own) => this.claimIn(claim, rows, own));
    return this.claimIn(claim, rows, tx);
  }

  private async claimIn(
    claim: { organizationId: string; tenantId: string; source: DomainClaimSource },
    rows: ClaimRow[],
    tx: Tx,
  ): Promise<void> {
    let pending = rows;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && pending.length > 0; attempt++) {
      const inserted = new Set(
        await this.repository.insertUnclaimed(
          claim.tenantId,
          claim.organizationId,
          claim.source,
          pending,
          tx,
        ),
      );
      const rest = pending.filter((r) => !inserted.has(r.domain));
      if (rest.length === 0) return;
      const holders = await this.repository.holders(
        claim.tenantId,
        rest.map((r) => r.domain),
        tx,
      );
      const conflicts = holders.filter((h) => h.organizationId !== claim.organizationId).map((h) => h.domain);
      // The caller's transaction rolls back with the error: nothing of this claim stays.
      if (conflicts.length > 0) throw new DomainsClaimedError(conflicts.sort());
      const held = new Set(holders.map((h) => h.domain));
      pending = rest.filter((r) => !held.has(r.domain));
    }
    if (pending.length > 0) throw new DomainsClaimedError(pending.map((r) => r.domain).sort());
  }

  /** Releases every claim the organization holds from `source`; returns how many were released. */
  release(organizationId: string, source: DomainClaimSource, tx?: Tx): Promise<number> {
    return this.repository.deleteByOrganizationAndSource(organizationId, source, tx);
  }

  /** The organization's claims, in each source's order. */
  async listByOrganization(organizationId: string, tx?: Tx): Promise<DomainClaim[]> {
    return (await this.repository.listByOrganization(organizationId, tx)).map(toClaim);
  }

  /** The claim on a domain of a tenant (compared case-insensitively), or null when no one claims it. */
  async findOwner(tenantId: string, domain: string, tx?: Tx): Promise<DomainClaim | null> {
    const found = await this.repository.findByTenantAndDomain(tenantId, domain.trim().toLowerCase(), tx);
    return found ? toClaim(found) : null;
  }
}
