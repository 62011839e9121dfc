import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { EventSource } from '../events/event-types.js';
import { EventsService } from '../events/events.service.js';
import { type AuditActor, AuditService } from '../audit/audit.service.js';
import type { Plan } from '../common/access.js';
import { ValidationFailedError } from '../common/domain-error.js';
import type { Principal } from '../common/principal.js';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { DomainClaimsService } from '../domain-claims/domain-claims.service.js';
import { GraphClient, type TenantDetails } from '../microsoft/graph.client.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import type { EntraConnectionEntity } from './entities/entra-connection.entity.js';
import { ENTRA_DISCONNECTED, type EntraDisconnectedEvent } from './entra-connection.events.js';
import { EntraNotConnectedError } from './integrations.errors.js';
import { IntegrationsRepository } from './integrations.repository.js';
import { TokenVault } from './token-vault.service.js';

import { IntegrationStatusService, VERIFIED_DOMAIN_SOURCE } from './integration-status.service.js';

export { VERIFIED_DOMAIN_SOURCE };

export interface VerifiedDomain {
  name: string;
  isDefault: boolean;
  isInitial: boolean;
}

export type EntraSettings = {
  autoProvisionUsers: boolean;
  autoDeprovisionSync: boolean;
  groupRoleMapping: boolean;
  deprovisionThreshold: { count: number; percent: number };
};

/** What other modules need to know about a tenant's connection, and which of its features run now. */
export interface TenantConnection {
  organizationId: string;
  tenantId: string;
  features: { autoProvisionUsers: boolean; groupRoleMapping: boolean; autoDeprovisionSync: boolean };
  /** Whether Microsoft still accepts the grant and the organization is on the Enterprise plan. */
  healthy: boolean;
  /** The sync setting itself, whatever the plan or grant. */
  autoDeprovisionSyncEnabled: boolean;
  deprovisionThreshold: { count: number; percent: number };
}

export const actorOf = (principal: Principal): AuditActor => principal.actor;
export const settingsOf = (c: EntraConnectionEntity): EntraSettings => ({
  autoProvisionUsers: c.autoProvisionUsers,
  autoDeprovisionSync: c.autoDeprovisionSync,
  groupRoleMapping: c.groupRoleMapping,
  deprovisionThreshold: { count: c.deprovisionThresholdCount, percent: c.deprovisionThresholdPercent },
});
export const tenantOf = (c: EntraConnectionEntity) => ({
  tenantId: c.tenantId,
  tenantName: c.tenantName,
  status: c.status,
});

/** Graph's verified domains of a tenant, as the connection claims and shows them. */
export function toVerifiedDomains(details: TenantDetails): VerifiedDomain[] {
  return details.verifiedDomains.map((d) => ({
    name: d.name,
    isDefault: d.isDefault,
    isInitial: d.isInitial,
  }));
}

/** The Entra connection of an organization and its settings: status, toggles, tenant details, disconnect. */
@Injectable()
export class EntraConnectionService {
  constructor(
    private readonly repository: IntegrationsRepository,
    private readonly vault: TokenVault,
    private readonly claims: DomainClaimsService,
    private readonly graph: GraphClient,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditService,
    private readonly outbox: EventsService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly events: EventEmitter2,
    private readonly status: IntegrationStatusService,
  ) {}

  /** The connection, its verified domains and who made it, or null when the organization is not connected. */
  getStatus(organizationId: string) {
    return this.status.getStatus(organizationId);
  }

  /**
   * The connection holding a tenant, with each feature reported as running only when it is switched on,
   * the organization is on the Enterprise plan and Microsoft still accepts the grant.
   */
  async findByTenant(tenantId: string): Promise<TenantConnection | null> {
    const connection = await this.repository.findByTenantAcrossOrganizations(tenantId);
    return connection ? this.describe(connection) : null;
  }

  async findByOrganization(organizationId: string): Promise<TenantConnection | null> {
    const connection = await this.repository.findByOrganization(organizationId);
    return connection ? this.describe(connection) : null;
  }

  /** Connections whose directory sync runs now (switched on, Enterprise plan, grant accepted). */
  async listSyncEnabled(): Promise<TenantConnection[]> {
    const connections = await this.repository.listSyncEnabledAcrossOrganizations();
    return Promise.all(connections.map((c) => this.describe(c, c.organization?.plan)));
  }

  /** The organization's connection, or ENTRA_NOT_CONNECTED. */
  async requireConnection(organizationId: string): Promise<TenantConnection> {
    const connection = await this.findByOrganization(organizationId);
    if (!connection) throw new EntraNotConnectedError();
    return connection;
  }

  /** A Graph access token for the organization's tenant (refreshed when needed), for long jobs that page Graph. */
  graphAccessToken(
    organizationId: string,
    forceRefresh = false,
    source: EventSource = 'sync',
  ): Promise<string> {
    return this.vault.accessToken(organizationId, forceRefresh, source);
  }

  /** Runs `call` with a Graph access token of the organization's tenant (see TokenVault.withGraphToken). */
  withGraphToken<T>(
    organizationId: string,
    call: (accessToken: string) => Promise<T>,
    source: EventSource = 'manual',
  ): Promise<T> {
    return this.vault.withGraphToken(organizationId, call, source);
  }

  /** Re-reads the tenant's name and verified domains from Graph; the domains are claimed anew, all or nothing. */
  async refreshTenantDetails(principal: Principal): Promise<EntraConnectionEntity> {
    const details = await this.vault.withGraphToken(principal.organizationId, (token) =>
      this.graph.getOrganization(token),
    );
    return this.txHost.withTransaction(async () => {
      const connection = await this.lockConnection(principal.organizationId);
      const before = {
        tenantName: connection.tenantName,
        verifiedDomains: await this.verifiedDomainsOf(connection),
      };
      connection.tenantName = details.displayName;
      const verifiedDomains = toVerifiedDomains(details);
      await this.claimVerifiedDomains(connection, verifiedDomains);
      const saved = await this.repository.save(connection);
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: actorOf(principal),
        action: 'entra.tenant_details_refreshed',
        target: { type: 'entra_connection', id: connection.id },
        before,
        after: { tenantName: saved.tenantName, verifiedDomains },
      });
      return saved;
    });
  }

  /**
   * Makes `domains` the connection's verified-domain claims within its tenant, in the current transaction. A domain another
   * organization of the tenant claims raises DOMAINS_CLAIMED and the transaction keeps nothing.
   */
  async claimVerifiedDomains(
    connection: Pick<EntraConnectionEntity, 'organizationId' | 'tenantId'>,
    domains: VerifiedDomain[],
  ): Promise<void> {
    await this.claims.release(connection.organizationId, VERIFIED_DOMAIN_SOURCE);
    await this.claims.claim({
      organizationId: connection.organizationId,
      tenantId: connection.tenantId,
      source: VERIFIED_DOMAIN_SOURCE,
      domains,
    });
  }

  async updateSettings(
    principal: Principal,
    change: Partial<Omit<EntraSettings, 'deprovisionThreshold'>> & {
      deprovisionThreshold?: { count?: number; percent?: number };
    },
  ): Promise<EntraConnectionEntity> {
    if (Object.values(change).every((value) => value === undefined)) {
      throw new ValidationFailedError([{ field: 'body', message: 'give at least one setting to change' }]);
    }
    return this.txHost.withTransaction(async () => {
      const connection = await this.lockConnection(principal.organizationId);
      const before = settingsOf(connection);
      for (const key of ['autoProvisionUsers', 'autoDeprovisionSync', 'groupRoleMapping'] as const) {
        if (change[key] !== undefined) connection[key] = change[key];
      }
      if (change.deprovisionThreshold?.count !== undefined)
        connection.deprovisionThresholdCount = change.deprovisionThreshold.count;
      if (change.deprovisionThreshold?.percent !== undefined) {
        connection.deprovisionThresholdPercent = change.deprovisionThreshold.percent;
      }
      const saved = await this.repository.save(connection);
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: actorOf(principal),
        action: 'entra.settings_changed',
        target: { type: 'entra_connection', id: connection.id },
        before,
        after: settingsOf(saved),
      });
      return saved;
    });
  }

  /**
   * Forgets the tenant, releases its domains, drops the tokens and (through ENTRA_DISCONNECTED, in the same
   * transaction) the sync state. Users keep their accounts, roles and Microsoft sign-in.
   */
  async disconnect(principal: Principal): Promise<void> {
    await this.txHost.withTransaction(async () => {
      const connection = await this.lockConnection(principal.organizationId);
      await this.claims.release(principal.organizationId, VERIFIED_DOMAIN_SOURCE);
      await this.repository.delete(connection.organizationId, connection.id);
      const event: EntraDisconnectedEvent = {
        organizationId: connection.organizationId,
        tenantId: connection.tenantId,
      };
      await this.events.emitAsync(ENTRA_DISCONNECTED, event);
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: actorOf(principal),
        action: 'entra.disconnected',
        target: { type: 'entra_connection', id: connection.id },
        before: { ...tenantOf(connection), ...settingsOf(connection) },
      });
      await this.outbox.record(
        principal.organizationId,
        'integration.disconnected',
        await this.status.eventData(principal.organizationId, {
          tenantId: connection.tenantId,
          status: 'disconnected',
          source: 'manual',
        }),
      );
    });
  }

  /** `plan` when the caller already read it with the connection; otherwise it is read here. */
  private async describe(connection: EntraConnectionEntity, plan?: Plan): Promise<TenantConnection> {
    plan ??= (await this.organizations.get(connection.organizationId)).plan;
    const running = connection.status === 'connected' && plan === 'enterprise';
    return {
      organizationId: connection.organizationId,
      tenantId: connection.tenantId,
      features: {
        autoProvisionUsers: running && connection.autoProvisionUsers,
        groupRoleMapping: running && connection.groupRoleMapping,
        autoDeprovisionSync: running && connection.autoDeprovisionSync,
      },
      healthy: running,
      autoDeprovisionSyncEnabled: connection.autoDeprovisionSync,
      deprovisionThreshold: {
        count: connection.deprovisionThresholdCount,
        percent: connection.deprovisionThresholdPercent,
      },
    };
  }

  private verifiedDomainsOf(connection: EntraConnectionEntity): Promise<VerifiedDomain[]> {
    return this.status.verifiedDomainsOf(connection);
  }

  private async lockConnection(organizationId: string): Promise<EntraConnectionEntity> {
    const connection = await this.repository.lockByOrganization(organizationId);
    if (!connection) throw new EntraNotConnectedError();
    return connection;
  }
}
