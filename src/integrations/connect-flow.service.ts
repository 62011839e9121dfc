import { Inject, Injectable, Logger } from '@nestjs/common';
import { EventsService } from '../events/events.service.js';
import { AuditService } from '../audit/audit.service.js';
import type { FlowFailureCode } from '../auth-flows/auth-flows.errors.js';
import {
  AuthFlowsService,
  type CallbackParams,
  type CompletedFlow,
} from '../auth-flows/auth-flows.service.js';
import { type Principal, sessionUser } from '../common/principal.js';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { DomainsClaimedError } from '../domain-claims/domain-claims.errors.js';
import { GraphClient, type TenantDetails } from '../microsoft/graph.client.js';
import { PERSONAL_ACCOUNT_TENANT_ID } from '../microsoft/microsoft-identity.client.js';
import { GraphRequestError } from '../microsoft/microsoft.errors.js';
import { type TenantAdministratorRole, tenantAdministratorRole } from '../microsoft/tenant-administrator.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { UsersService } from '../users/users.service.js';
import { EntraConnectionService, tenantOf, toVerifiedDomains } from './entra-connection.service.js';
import { GRAPH_SCOPES, type GrantTokens } from './graph-grant.js';
import { type ConnectErrorCode, ConnectFailure, TenantAlreadyConnectedError } from './integrations.errors.js';
import { IntegrationStatusService } from './integration-status.service.js';
import { IntegrationsRepository } from './integrations.repository.js';
import { TokenVault } from './token-vault.service.js';

export const CONNECT_CALLBACK_PATH = '/auth/microsoft/connect/callback';

export interface ConnectCallback extends CallbackParams {
  sessionToken?: string;
}

const CONNECT_FAILURE_CODES: Record<FlowFailureCode, ConnectErrorCode> = {
  invalid_state: 'invalid_state',
  cancelled: 'consent_declined',
  consent_required: 'admin_consent_required',
  interaction_required: 'connection_failed',
  microsoft_error: 'connection_failed',
  invalid_id_token: 'connection_failed',
};

/** Connecting a tenant: the admin-consent redirect, the tenant-administrator check, storing the connection. */
@Injectable()
export class ConnectFlowService {
  private readonly logger = new Logger(ConnectFlowService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: IntegrationsRepository,
    private readonly connections: EntraConnectionService,
    private readonly vault: TokenVault,
    private readonly flows: AuthFlowsService,
    private readonly sessions: SessionsService,
    private readonly graph: GraphClient,
    private readonly users: UsersService,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditService,
    private readonly outbox: EventsService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly status: IntegrationStatusService,
  ) {}

  /** Builds the admin-consent authorize URL; its state is bound to this user and organization. */
  startConnect(principal: Principal): Promise<string> {
    return this.flows.start({
      purpose: 'connect',
      callbackPath: CONNECT_CALLBACK_PATH,
      scopes: GRAPH_SCOPES,
      userId: sessionUser(principal).userId,
      organizationId: principal.organizationId,
      prompt: 'consent',
    });
  }

  /** Finishes a connection. Never throws: returns the UI URL with `status=connected` or an error code. */
  async completeConnect(
    callback: ConnectCallback,
  ): Promise<{ redirectTo: string; error: ConnectErrorCode | null }> {
    let flow: CompletedFlow | null = null;
    try {
      // Only the admin who started it, in their own browser session, can finish it.
      const sessionUserId = await this.sessions.userOf(callback.sessionToken);
      const result = await this.flows.finish('connect', callback, { userId: sessionUserId });
      flow = result.flow;
      if (!result.ok) throw new ConnectFailure(CONNECT_FAILURE_CODES[result.code]);
      const { organizationId, userId } = result.flow;
      if (!organizationId || !userId) throw new ConnectFailure('invalid_state');
      await this.assertMayConnect(userId, organizationId);

      // The tenant is the signed token's `tid`, never anything from the URL.
      const { tokens, claims } = result;
      if (claims.tenantId === PERSONAL_ACCOUNT_TENANT_ID || !tokens.refreshToken)
        throw new ConnectFailure('connection_failed');
      // Consent is tenant-wide: once granted, any member passes Microsoft's screen. Binding the tenant takes
      // an account that could have granted it.
      const administrator = tenantAdministratorRole(claims);
      if (!administrator.isAdministrator)
        throw new ConnectFailure(
          administrator.rolesClaimPresent ? 'admin_role_required' : 'roles_claim_missing',
        );
      const details = await this.graph.getOrganization(tokens.accessToken);
      if (details.tenantId.toLowerCase() !== claims.tenantId.toLowerCase())
        throw new ConnectFailure('connection_failed');

      await this.storeConnection(organizationId, userId, claims.tenantId, details, administrator.role, {
        refreshToken: tokens.refreshToken,
        accessToken: tokens.accessToken,
        accessTokenExpiresAt: tokens.accessTokenExpiresAt,
        scopes: tokens.scopes,
      });
      return { redirectTo: this.settingsPage('status=connected'), error: null };
    } catch (error) {
      const code = this.connectFailureCode(error);
      if (flow?.organizationId) {
        await this.audit.record({
          organizationId: flow.organizationId,
          actor: { type: 'user', id: flow.userId },
          action: 'entra.connect_failed',
          after: { code },
        });
      }
      return { redirectTo: this.settingsPage(`status=error&code=${code}`), error: code };
    }
  }

  private async storeConnection(
    organizationId: string,
    userId: string,
    tenantId: string,
    details: TenantDetails,
    administratorRole: TenantAdministratorRole,
    tokens: GrantTokens,
  ): Promise<void> {
    try {
      await this.txHost.withTransaction(async () => {
        await this.organizations.lock(organizationId);
        const holder = await this.repository.findByTenantAcrossOrganizations(tenantId);
        if (holder && holder.organizationId !== organizationId)
          throw new ConnectFailure('tenant_already_connected');
        const existing = await this.repository.findByOrganization(organizationId);
        if (existing && existing.tenantId !== tenantId) throw new ConnectFailure('another_tenant_connected');

        // Reconnecting refreshes consent and tokens and keeps the settings.
        const connection = existing ?? this.repository.create({ organizationId, tenantId });
        connection.tenantName = details.displayName;
        connection.status = 'connected';
        connection.connectedAt = new Date();
        connection.connectedByUserId = userId;
        this.vault.seal(connection, tokens);
        const saved = await this.repository.save(connection);
        const verifiedDomains = toVerifiedDomains(details);
        await this.connections.claimVerifiedDomains(saved, verifiedDomains);
        await this.audit.record({
          organizationId,
          actor: { type: 'user', id: userId },
          action: existing ? 'entra.reconnected' : 'entra.connected',
          target: { type: 'entra_connection', id: saved.id },
          before: existing ? tenantOf(existing) : null,
          after: {
            ...tenantOf(saved),
            verifiedDomains: verifiedDomains.map((d) => d.name),
            administratorRole,
          },
        });
        await this.outbox.record(
          organizationId,
          'integration.connected',
          await this.status.eventData(organizationId, {
            tenantId,
            status: 'connected',
            source: 'manual',
          }),
        );
      });
    } catch (error) {
      // The unique tenant index is the last word when two organizations race for the same tenant.
      if (error instanceof TenantAlreadyConnectedError) throw new ConnectFailure('tenant_already_connected');
      if (error instanceof DomainsClaimedError) throw new ConnectFailure('domains_claimed');
      throw error;
    }
  }

  private async assertMayConnect(userId: string, organizationId: string): Promise<void> {
    const user = await this.users.findById(userId);
    const organization = await this.organizations.get(organizationId);
    const allowed =
      user?.organizationId === organizationId &&
      user.status === 'active' &&
      (user.role === 'owner' || user.role === 'admin') &&
      organization.plan === 'enterprise';
    if (!allowed) throw new ConnectFailure('invalid_state');
  }

  private connectFailureCode(error: unknown): ConnectErrorCode {
    if (error instanceof ConnectFailure) return error.code;
    if (error instanceof GraphRequestError)
      this.logger.warn(`connect: Graph failed: ${error.status} ${error.graphCode}`);
    else
      this.logger.error(
        `connect failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    return 'connection_failed';
  }

  private settingsPage(query: string): string {
    return `${this.config.appUiUrl}/settings/integrations/entra?${query}`;
  }
}
