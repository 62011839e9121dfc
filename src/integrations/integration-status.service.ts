import { Injectable } from '@nestjs/common';
import { DomainClaimsService } from '../domain-claims/domain-claims.service.js';
import type { EventSource } from '../events/event-types.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import { UsersService } from '../users/users.service.js';
import { type EntraIntegrationResponseDto, toEntraIntegrationResponse } from './dto/entra-integration.dto.js';
import type { EntraConnectionEntity } from './entities/entra-connection.entity.js';
import { IntegrationsRepository } from './integrations.repository.js';

/** The claim source of a connection's verified domains. */
export const VERIFIED_DOMAIN_SOURCE = 'entra_verified_domain';

/** `data` of every `integration.*` event (version 1): the REST view of the integration after the change. */
export interface IntegrationEventData {
  integration: EntraIntegrationResponseDto;
  tenantId: string;
  status: 'connected' | 'disconnected' | 'reauthorization_required';
  source: EventSource;
}

/**
 * The integration as `GET /api/v1/integrations/entra` shows it, read in the current transaction: the REST
 * response and the `integration.*` events are built from the same read and the same mapper.
 */
@Injectable()
export class IntegrationStatusService {
  constructor(
    private readonly repository: IntegrationsRepository,
    private readonly claims: DomainClaimsService,
    private readonly users: UsersService,
    private readonly organizations: OrganizationsService,
  ) {}

  /** The connection, its verified domains and who made it, or null when the organization is not connected. */
  async getStatus(organizationId: string) {
    const connection = await this.repository.findByOrganization(organizationId);
    if (!connection) return null;
    const organization = await this.organizations.get(organizationId);
    const connectedBy = connection.connectedByUserId
      ? await this.users.findById(connection.connectedByUserId)
      : null;
    const verifiedDomains = await this.verifiedDomainsOf(connection);
    return { connection, verifiedDomains, connectedBy, plan: organization.plan };
  }

  /** The REST response of the organization's integration. */
  async response(organizationId: string): Promise<EntraIntegrationResponseDto> {
    return toEntraIntegrationResponse(await this.getStatus(organizationId));
  }

  /** An `integration.*` event's `data`, read after the change in the transaction that makes it. */
  async eventData(
    organizationId: string,
    change: { tenantId: string; status: IntegrationEventData['status']; source: EventSource },
  ): Promise<Record<string, unknown>> {
    const data: IntegrationEventData = { integration: await this.response(organizationId), ...change };
    return data as unknown as Record<string, unknown>;
  }

  async verifiedDomainsOf(
    connection: Pick<EntraConnectionEntity, 'organizationId' | 'tenantId'>,
  ): Promise<{ name: string; isDefault: boolean; isInitial: boolean }[]> {
    const claims = await this.claims.listByOrganization(connection.organizationId);
    return claims
      .filter((c) => c.source === VERIFIED_DOMAIN_SOURCE && c.tenantId === connection.tenantId)
      .map((c) => ({ name: c.displayName, isDefault: c.isDefault, isInitial: c.isInitial }));
  }
}
