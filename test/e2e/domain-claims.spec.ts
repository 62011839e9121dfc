import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataSource } from '../../src/app.data-source.js';
import { TransactionHost } from '@nestjs-cls/transactional';
import { DomainsClaimedError } from '../../src/domain-claims/domain-claims.errors.js';
import { DomainClaimsService } from '../../src/domain-claims/domain-claims.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { createTestContext, createTestDatabase, type TestContext } from '../support/test-app.js';

/** What a failed claim threw, for asserting its code and domains. */
async function failureOf(claim: Promise<unknown>): Promise<DomainsClaimedError> {
  const error: unknown = await claim.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof DomainsClaimedError))
    throw new Error(`expected DOMAINS_CLAIMED, got ${String(error)}`);
  return error;
}

describe('domain claims', () => {
  let ctx: TestContext;
  let claims: DomainClaimsService;
  let acmeHq: string;
  let acmeConsulting: string;
  const tenant = randomUUID();
  const otherTenant = randomUUID();

  const rows = async (tenantId: string) =>
    (
      await ctx.sql.query(
        'SELECT domain, display_name, organization_id, source FROM domain_claims WHERE tenant_id = $1 ORDER BY domain',
        [tenantId],
      )
    ).rows as { domain: string; display_name: string; organization_id: string; source: string }[];

  beforeAll(async () => {
    ctx = await createTestContext();
    claims = ctx.app.get(DomainClaimsService);
    const organizations = ctx.app.get(OrganizationsService);
    acmeHq = (await organizations.create('Acme HQ')).id;
    acmeConsulting = (await organizations.create('Acme Consulting')).id;
  });
  afterAll(() => ctx?.close());

  it('stores domains lower-case, keeps the spelling, and finds the owner case-insensitively', async () => {
    await claims.claim({
      organizationId: acmeHq,
      tenantId: tenant,
      source: 'tenant_assignment',
      domains: [{ name: 'Acme.com' }, { name: ' acme.COM ' }, { name: 'HQ.Acme.com' }],
    });
    expect(await rows(tenant)).toEqual([
      { domain: 'acme.com', display_name: 'Acme.com', organization_id: acmeHq, source: 'tenant_assignment' },
      {
        domain: 'hq.acme.com',
        display_name: 'HQ.Acme.com',
        organization_id: acmeHq,
        source: 'tenant_assignment',
      },
    ]);
    expect(await claims.findOwner(tenant, 'ACME.com')).toMatchObject({
      organizationId: acmeHq,
      domain: 'acme.com',
    });
    // No implicit subdomains or parents, and the claim holds only within its tenant.
    expect(await claims.findOwner(tenant, 'eu.acme.com')).toBeNull();
    expect(await claims.findOwner(tenant, 'com')).toBeNull();
    expect(await claims.findOwner(otherTenant, 'acme.com')).toBeNull();
  });

  it('refuses an overlapping claim whole, listing the conflicting domains and never the other organization', async () => {
    const error = await failureOf(
      claims.claim({
        organizationId: acmeConsulting,
        tenantId: tenant,
        source: 'tenant_assignment',
        domains: [{ name: 'consulting.acme.com' }, { name: 'ACME.com' }],
      }),
    );
    expect(error.code).toBe('DOMAINS_CLAIMED');
    expect(error.kind).toBe('conflict');
    expect(error.domains).toEqual(['acme.com']);
    expect(JSON.stringify({ message: error.message, extensions: error.extensions })).not.toContain(acmeHq);
    // All or nothing: the domain no one held was not claimed either.
    expect(await claims.findOwner(tenant, 'consulting.acme.com')).toBeNull();
    expect(await claims.listByOrganization(acmeConsulting)).toEqual([]);
  });

  it('lets another tenant have the same domain, and the owner claim its own domains again', async () => {
    await claims.claim({
      organizationId: acmeConsulting,
      tenantId: otherTenant,
      source: 'entra_verified_domain',
      domains: [{ name: 'acme.com', isDefault: true }],
    });
    await claims.claim({
      organizationId: acmeHq,
      tenantId: tenant,
      source: 'tenant_assignment',
      domains: [{ name: 'acme.com' }, { name: 'labs.acme.com' }],
    });
    expect((await claims.listByOrganization(acmeHq)).map((c) => c.domain)).toEqual([
      'acme.com',
      'hq.acme.com',
      'labs.acme.com',
    ]);
    expect(await claims.findOwner(otherTenant, 'acme.com')).toMatchObject({
      organizationId: acmeConsulting,
      source: 'entra_verified_domain',
      isDefault: true,
    });
  });

  it('releases by organization and source only, after which another organization may claim', async () => {
    expect(await claims.release(acmeHq, 'entra_verified_domain')).toBe(0);
    expect(await claims.listByOrganization(acmeHq)).toHaveLength(3);
    expect(await claims.release(acmeHq, 'tenant_assignment')).toBe(3);
    expect(await rows(tenant)).toEqual([]);
    // The other tenant's claim is untouched.
    expect(await rows(otherTenant)).toHaveLength(1);
    await claims.claim({
      organizationId: acmeConsulting,
      tenantId: tenant,
      source: 'tenant_assignment',
      domains: [{ name: 'acme.com' }],
    });
    expect(await claims.findOwner(tenant, 'acme.com')).toMatchObject({ organizationId: acmeConsulting });
    await claims.release(acmeConsulting, 'tenant_assignment');
  });

  it('a claim waiting on a rival’s uncommitted claim loses once the rival commits: the unique index decides', async () => {
    const txHost = ctx.app.get(TransactionHost);
    const raceTenant = randomUUID();
    let commitFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (commitFirst = resolve));
    let firstClaimed!: () => void;
    const firstHasClaimed = new Promise<void>((resolve) => (firstClaimed = resolve));
    // The first claim's transaction stays open (uncommitted) until the test lets it go.
    const first = txHost.withTransaction(async () => {
      await claims.claim({
        organizationId: acmeHq,
        tenantId: raceTenant,
        source: 'tenant_assignment',
        domains: [{ name: 'race.test' }],
      });
      firstClaimed();
      await firstMayCommit;
    });
    await firstHasClaimed;
    const second = failureOf(
      claims.claim({
        organizationId: acmeConsulting,
        tenantId: raceTenant,
        source: 'tenant_assignment',
        domains: [{ name: 'other.test' }, { name: 'RACE.test' }],
      }),
    );
    // Let the first commit only once the second is blocked on the unique index.
    for (;;) {
      const waiting = await ctx.sql.query(
        "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO domain_claims%'",
      );
      if (waiting.rowCount) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    commitFirst();
    await first;
    expect((await second).domains).toEqual(['race.test']);
    expect(await rows(raceTenant)).toEqual([
      {
        domain: 'race.test',
        display_name: 'race.test',
        organization_id: acmeHq,
        source: 'tenant_assignment',
      },
    ]);
  });

  it('two organizations claiming overlapping domains at once end with exactly one winner', async () => {
    for (let round = 0; round < 5; round++) {
      const raceTenant = randomUUID();
      const results = await Promise.allSettled([
        claims.claim({
          organizationId: acmeHq,
          tenantId: raceTenant,
          source: 'tenant_assignment',
          domains: [{ name: 'a.test' }, { name: 'b.test' }],
        }),
        claims.claim({
          organizationId: acmeConsulting,
          tenantId: raceTenant,
          source: 'entra_verified_domain',
          domains: [{ name: 'B.test' }, { name: 'a.test' }, { name: 'c.test' }],
        }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(DomainsClaimedError);
      const owners = new Set((await rows(raceTenant)).map((r) => r.organization_id));
      expect(owners.size).toBe(1);
      const winner = results[0].status === 'fulfilled' ? acmeHq : acmeConsulting;
      expect([...owners]).toEqual([winner]);
      expect(await rows(raceTenant)).toHaveLength(winner === acmeHq ? 2 : 3);
    }
  });
});

describe('the domain-claims migration', () => {
  const MIGRATION = 'DomainClaims1796400000000';

  it('moves the connections’ verified domains into claims, and its down puts them back', async () => {
    const database = await createTestDatabase();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const dataSource = await createDataSource(database.url).initialize();
    try {
      const applied = async () =>
        (await client.query('SELECT 1 FROM migrations WHERE name = $1', [MIGRATION])).rowCount === 1;
      while (await applied()) await dataSource.undoLastMigration({ transaction: 'each' });

      const organization = (
        await client.query("INSERT INTO organizations (name) VALUES ('Contoso') RETURNING id")
      ).rows[0].id as string;
      const tenantId = randomUUID();
      const domains = [
        { name: 'Contoso.onmicrosoft.com', isDefault: false, isInitial: true },
        { name: 'contoso.com', isDefault: true, isInitial: false },
        { name: 'CONTOSO.com', isDefault: false, isInitial: false },
      ];
      await client.query(
        `INSERT INTO entra_connections (organization_id, tenant_id, verified_domains, connected_at)
         VALUES ($1, $2, $3::jsonb, now())`,
        [organization, tenantId, JSON.stringify(domains)],
      );

      await dataSource.runMigrations({ transaction: 'each' });
      const claims = await client.query(
        `SELECT tenant_id, domain, display_name, organization_id, source, is_default, is_initial
           FROM domain_claims ORDER BY position`,
      );
      // A domain listed twice in another case keeps its first spelling.
      expect(claims.rows).toEqual([
        {
          tenant_id: tenantId,
          domain: 'contoso.onmicrosoft.com',
          display_name: 'Contoso.onmicrosoft.com',
          organization_id: organization,
          source: 'entra_verified_domain',
          is_default: false,
          is_initial: true,
        },
        {
          tenant_id: tenantId,
          domain: 'contoso.com',
          display_name: 'contoso.com',
          organization_id: organization,
          source: 'entra_verified_domain',
          is_default: true,
          is_initial: false,
        },
      ]);
      const columns = await client.query(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'entra_connections' AND column_name = 'verified_domains'",
      );
      expect(columns.rowCount).toBe(0);

      while (await applied()) await dataSource.undoLastMigration({ transaction: 'each' });
      const restored = await client.query('SELECT verified_domains FROM entra_connections');
      expect(restored.rows[0].verified_domains).toEqual(domains.slice(0, 2));
    } finally {
      await dataSource.destroy();
      await client.end();
      await database.drop();
    }
  });
});
