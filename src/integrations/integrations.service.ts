import { Inject, Injectable, Logger } from '@nestjs/common';
import { isUniqueViolation } from '../common/database-errors.js';
import { type AuditActor, AuditService } from '../audit/audit.service.js';
import type { FlowFailureCode } from '../auth-flows/auth-flows.errors.js';
import {
  AuthFlowsService,
  type CallbackParams,
  type CompletedFlow,
} from '../auth-flows/auth-flows.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ValidationFailedError } from '../common/domain-error.js';
import type { Principal } from '../common/principal.js';
import { TransactionRunner, type Tx } from '../common/transaction.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { GraphClient, type TenantDetails } from '../microsoft/graph.client.js';
import {
  PERSONAL_ACCOUNT_TENANT_ID,
  MicrosoftIdentityClient,
} from '../microsoft/microsoft-identity.client.js';
import { GraphRequestError, MicrosoftTokenError } from '../microsoft/microsoft.errors.js';
import { type TenantAdministratorRole, tenantAdministratorRole } from '../microsoft/tenant-administrator.js';
import type { Plan } from '../common/access.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import { UsersService } from '../users/users.service.js';
import type { EntraConnectionEntity, VerifiedDomain } from './entities/entra-connection.entity.js';
import {
  type ConnectErrorCode,
  ConnectFailure,
  EntraNotConnectedError,
  EntraReauthorizationRequiredError,
} from './integrations.errors.js';
import { IntegrationsRepository } from './integrations.repository.js';
import { TokenCipher, TokenDecryptionError } from './token-cipher.js';

export const CONNECT_CALLBACK_PATH = '/auth/microsoft/connect/callback';
/** Read-only permissions that need admin consent: read users (incl. accountEnabled) and groups. */
export const GRAPH_SCOPES = [
  'https://graph.microsoft.com/User.Read.All',
  'https://graph.microsoft.com/Group.Read.All',
];
const ACCESS_TOKEN_MARGIN_MS = 5 * 60_000;

export type EntraSettings = {
  autoProvisionUsers: boolean;
  autoDeprovisionSync: boolean;
  groupRoleMapping: boolean;
  deprovisionThreshold: { count: number; percent: number };
};

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

const actorOf = (principal: Principal): AuditActor => ({ type: 'user', id: principal.userId });
const settingsOf = (c: EntraConnectionEntity): EntraSettings => ({
  autoProvisionUsers: c.autoProvisionUsers,
  autoDeprovisionSync: c.autoDeprovisionSync,
  groupRoleMapping: c.groupRoleMapping,
  deprovisionThreshold: { count: c.deprovisionThresholdCount, percent: c.deprovisionThresholdPercent },
});
const tenantOf = (c: EntraConnectionEntity) => ({
  tenantId: c.tenantId,
  tenantName: c.tenantName,
  status: c.status,
});

/** What other modules need to know about a tenant's connection, and which of its features run now. */
export interface TenantConnection {
  organizationId: string;
  tenantId: string;
  verifiedDomains: VerifiedDomain[];
  features: { autoProvisionUsers: boolean; groupRoleMapping: boolean; autoDeprovisionSync: boolean };
  /** Whether Microsoft still accepts the grant and the organization is on the Enterprise plan. */
  healthy: boolean;
  /** The sync setting itself, whatever the plan or grant. */
  autoDeprovisionSyncEnabled: boolean;
  deprovisionThreshold: { count: number; percent: number };
}

/** The Entra connection of an organization: consent, tenant details, token vault, feature toggles. */
@Injectable()
export class IntegrationsService {
  private readonly logger = new Logger(IntegrationsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: IntegrationsRepository,
    private readonly cipher: TokenCipher,
    private readonly flows: AuthFlowsService,
    private readonly sessions: SessionsService,
    private readonly identity: MicrosoftIdentityClient,
    private readonly graph: GraphClient,
    private readonly users: UsersService,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditService,
    private readonly transactions: TransactionRunner,
  ) {}

  /** The connection and who made it, or null when the organization is not connected. */
  async getStatus(organizationId: string) {
    const connection = await this.repository.findByOrganization(organizationId);
    if (!connection) return null;
    const organization = await this.organizations.get(organizationId);
    const connectedBy = connection.connectedByUserId
      ? await this.users.findById(connection.connectedByUserId)
      : null;
    return { connection, connectedBy, plan: organization.plan };
  }

  /**
   * The connection holding a tenant, with each feature reported as running only when it is switched on,
   * the organization is on the Enterprise plan and Microsoft still accepts the grant.
   */
  async findByTenant(tenantId: string): Promise<TenantConnection | null> {
    const connection = await this.repository.findByTenant(tenantId);
    return connection ? this.describe(connection) : null;
  }

  async findByOrganization(organizationId: string): Promise<TenantConnection | null> {
    const connection = await this.repository.findByOrganization(organizationId);
    return connection ? this.describe(connection) : null;
  }

  /** Connections whose directory sync runs now (switched on, Enterprise plan, grant accepted). */
  async listSyncEnabled(): Promise<TenantConnection[]> {
    const connections = await this.repository.listSyncEnabled();
    return Promise.all(connections.map((c) => this.describe(c, c.organization?.plan)));
  }

  /** A Graph access token for the organization's tenant (refreshed when needed), for long jobs that page Graph. */
  graphAccessToken(organizationId: string, forceRefresh = false): Promise<string> {
    return this.accessToken(organizationId, forceRefresh);
  }

  /** The organization's connection, or ENTRA_NOT_CONNECTED. */
  async requireConnection(organizationId: string): Promise<TenantConnection> {
    const connection = await this.findByOrganization(organizationId);
    if (!connection) throw new EntraNotConnectedError();
    return connection;
  }

  /** `plan` when the caller already read it with the connection; otherwise it is read here. */
  private async describe(connection: EntraConnectionEntity, plan?: Plan): Promise<TenantConnection> {
    plan ??= (await this.organizations.get(connection.organizationId)).plan;
    const running = connection.status === 'connected' && plan === 'enterprise';
    return {
      organizationId: connection.organizationId,
      tenantId: connection.tenantId,
      verifiedDomains: connection.verifiedDomains,
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

  /** Builds the admin-consent authorize URL; its state is bound to this user and organization. */
  startConnect(principal: Principal): Promise<string> {
    return this.flows.start({
      purpose: 'connect',
      callbackPath: CONNECT_CALLBACK_PATH,
      scopes: GRAPH_SCOPES,
      userId: principal.userId,
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

  /** Re-reads the tenant's name and verified domains from Graph. */
  async refreshTenantDetails(principal: Principal): Promise<EntraConnectionEntity> {
    const details = await this.withGraphToken(principal.organizationId, (token) =>
      this.graph.getOrganization(token),
    );
    return this.transactions.run(async (tx) => {
      const connection = await this.lockConnection(principal.organizationId, tx);
      const before = { tenantName: connection.tenantName, verifiedDomains: connection.verifiedDomains };
      connection.tenantName = details.displayName;
      connection.verifiedDomains = toVerifiedDomains(details);
      const saved = await this.repository.save(connection, tx);
      await this.audit.record(
        {
          organizationId: principal.organizationId,
          actor: actorOf(principal),
          action: 'entra.tenant_details_refreshed',
          target: { type: 'entra_connection', id: connection.id },
          before,
          after: { tenantName: saved.tenantName, verifiedDomains: saved.verifiedDomains },
        },
        tx,
      );
      return saved;
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
    return this.transactions.run(async (tx) => {
      const connection = await this.lockConnection(principal.organizationId, tx);
      const before = settingsOf(connection);
      for (const key of ['autoProvisionUsers', 'autoDeprovisionSync', 'groupRoleMapping'] as const) {
        if (change[key] !== undefined) connection[key] = change[key];
      }
      if (change.deprovisionThreshold?.count !== undefined)
        connection.deprovisionThresholdCount = change.deprovisionThreshold.count;
      if (change.deprovisionThreshold?.percent !== undefined) {
        connection.deprovisionThresholdPercent = change.deprovisionThreshold.percent;
      }
      const saved = await this.repository.save(connection, tx);
      await this.audit.record(
        {
          organizationId: principal.organizationId,
          actor: actorOf(principal),
          action: 'entra.settings_changed',
          target: { type: 'entra_connection', id: connection.id },
          before,
          after: settingsOf(saved),
        },
        tx,
      );
      return saved;
    });
  }

  /** Forgets the tenant, its domains and tokens. Users keep their accounts, roles and Microsoft sign-in. */
  async disconnect(principal: Principal): Promise<void> {
    await this.transactions.run(async (tx) => {
      const connection = await this.lockConnection(principal.organizationId, tx);
      await this.repository.delete(connection.id, tx);
      await this.audit.record(
        {
          organizationId: principal.organizationId,
          actor: actorOf(principal),
          action: 'entra.disconnected',
          target: { type: 'entra_connection', id: connection.id },
          before: { ...tenantOf(connection), ...settingsOf(connection) },
        },
        tx,
      );
    });
  }

  /**
   * Runs `call` with a Graph access token for the organization's tenant, refreshing it from the stored
   * refresh token when needed. Refreshes are serialised per connection (row lock) so rotated refresh tokens
   * are never lost between replicas. A refused grant marks the connection `reauthorization_required`.
   */
  async withGraphToken<T>(organizationId: string, call: (accessToken: string) => Promise<T>): Promise<T> {
    const token = await this.accessToken(organizationId, false);
    try {
      return await call(token);
    } catch (error) {
      // A token Microsoft stopped accepting early (revoked session, clock skew): refresh once and retry.
      if (error instanceof GraphRequestError && error.status === 401)
        return call(await this.accessToken(organizationId, true));
      throw error;
    }
  }

  /** Re-encrypts every stored token under the current key (`npm run cli -- keys:rotate`). */
  async reencryptTokens(): Promise<{ reencrypted: number; total: number }> {
    let reencrypted = 0;
    const organizationIds = await this.repository.listOrganizationIds();
    for (const organizationId of organizationIds) {
      await this.transactions.run(async (tx) => {
        const connection = await this.repository.lockByOrganization(organizationId, tx);
        if (!connection) return;
        let changed = false;
        for (const [field, purpose] of [
          ['refreshTokenCiphertext', 'refresh_token'],
          ['accessTokenCiphertext', 'access_token'],
        ] as const) {
          const ciphertext = connection[field];
          if (ciphertext && this.cipher.isStale(ciphertext)) {
            const aad = associatedData(organizationId, purpose);
            connection[field] = this.cipher.encrypt(this.cipher.decrypt(ciphertext, aad), aad);
            changed = true;
          }
        }
        if (changed) {
          await this.repository.save(connection, tx);
          reencrypted++;
        }
      });
    }
    return { reencrypted, total: organizationIds.length };
  }

  private async accessToken(organizationId: string, forceRefresh: boolean): Promise<string> {
    const cached = await this.repository.findByOrganization(organizationId);
    if (!cached) throw new EntraNotConnectedError();
    if (cached.status !== 'connected') throw new EntraReauthorizationRequiredError();
    if (!forceRefresh && isFresh(cached)) {
      return this.decryptToken(organizationId, cached.accessTokenCiphertext!, 'access_token');
    }
    const outcome = await this.transactions.run(async (tx) => {
      const connection = await this.lockConnection(organizationId, tx);
      if (connection.status !== 'connected') return { error: new EntraReauthorizationRequiredError() };
      // Another request may have refreshed while we waited for the lock.
      if (isFresh(connection) && connection.accessTokenCiphertext !== cached.accessTokenCiphertext) {
        return {
          token: this.decryptToken(organizationId, connection.accessTokenCiphertext!, 'access_token'),
        };
      }
      const refreshToken = this.decryptToken(
        organizationId,
        connection.refreshTokenCiphertext!,
        'refresh_token',
      );
      try {
        const fresh = await this.identity.refresh(connection.tenantId, refreshToken, GRAPH_SCOPES);
        this.setTokens(connection, { ...fresh, refreshToken: fresh.refreshToken ?? refreshToken });
        await this.repository.save(connection, tx);
        return { token: fresh.accessToken };
      } catch (error) {
        if (!(error instanceof MicrosoftTokenError) || error.microsoftError !== 'invalid_grant') throw error;
        this.logger.warn(
          `Microsoft refused the refresh token of organization ${organizationId}: reauthorization required`,
        );
        connection.status = 'reauthorization_required';
        connection.accessTokenCiphertext = null;
        connection.accessTokenExpiresAt = null;
        await this.repository.save(connection, tx);
        await this.audit.record(
          {
            organizationId,
            actor: { type: 'system', id: null },
            action: 'entra.reauthorization_required',
            target: { type: 'entra_connection', id: connection.id },
            before: { status: 'connected' },
            after: { status: 'reauthorization_required' },
          },
          tx,
        );
        return { error: new EntraReauthorizationRequiredError() };
      }
    });
    if ('error' in outcome) throw outcome.error;
    return outcome.token;
  }

  /**
   * A stored token in clear, or ENTRA_CREDENTIALS_UNREADABLE (reconnect) when its key is gone or the row was
   * damaged; the log names the key id so an operator can tell a missing key from tampering.
   */
  private decryptToken(
    organizationId: string,
    ciphertext: string,
    purpose: 'access_token' | 'refresh_token',
  ): string {
    try {
      return this.cipher.decrypt(ciphertext, associatedData(organizationId, purpose));
    } catch (error) {
      if (error instanceof TokenDecryptionError) {
        this.logger.error(
          `the stored ${purpose} of organization ${organizationId} cannot be decrypted ` +
            `(key id ${error.keyId ?? 'unknown'}): ${error.reason}`,
        );
      }
      throw error;
    }
  }

  private async storeConnection(
    organizationId: string,
    userId: string,
    tenantId: string,
    details: TenantDetails,
    administratorRole: TenantAdministratorRole,
    tokens: { refreshToken: string; accessToken: string; accessTokenExpiresAt: Date; scopes: string[] },
  ): Promise<void> {
    try {
      await this.transactions.run(async (tx) => {
        await this.organizations.lock(organizationId, tx);
        const holder = await this.repository.findByTenant(tenantId, tx);
        if (holder && holder.organizationId !== organizationId)
          throw new ConnectFailure('tenant_already_connected');
        const existing = await this.repository.findByOrganization(organizationId, tx);
        if (existing && existing.tenantId !== tenantId) throw new ConnectFailure('another_tenant_connected');

        // Reconnecting refreshes consent and tokens and keeps the settings.
        const connection = existing ?? this.repository.create({ organizationId, tenantId });
        connection.tenantName = details.displayName;
        connection.verifiedDomains = toVerifiedDomains(details);
        connection.status = 'connected';
        connection.connectedAt = new Date();
        connection.connectedByUserId = userId;
        this.setTokens(connection, tokens);
        const saved = await this.repository.save(connection, tx);
        await this.audit.record(
          {
            organizationId,
            actor: { type: 'user', id: userId },
            action: existing ? 'entra.reconnected' : 'entra.connected',
            target: { type: 'entra_connection', id: saved.id },
            before: existing ? tenantOf(existing) : null,
            after: {
              ...tenantOf(saved),
              verifiedDomains: saved.verifiedDomains.map((d) => d.name),
              administratorRole,
            },
          },
          tx,
        );
      });
    } catch (error) {
      // The unique tenant index is the last word when two organizations race for the same tenant.
      if (isUniqueViolation(error)) throw new ConnectFailure('tenant_already_connected');
      throw error;
    }
  }

  private setTokens(
    connection: EntraConnectionEntity,
    tokens: { refreshToken: string; accessToken: string; accessTokenExpiresAt: Date; scopes: string[] },
  ): void {
    const id = connection.organizationId;
    connection.refreshTokenCiphertext = this.cipher.encrypt(
      tokens.refreshToken,
      associatedData(id, 'refresh_token'),
    );
    connection.accessTokenCiphertext = this.cipher.encrypt(
      tokens.accessToken,
      associatedData(id, 'access_token'),
    );
    connection.accessTokenExpiresAt = tokens.accessTokenExpiresAt;
    connection.grantedScopes = tokens.scopes;
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

  private async lockConnection(organizationId: string, tx: Tx): Promise<EntraConnectionEntity> {
    const connection = await this.repository.lockByOrganization(organizationId, tx);
    if (!connection) throw new EntraNotConnectedError();
    return connection;
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

function associatedData(organizationId: string, purpose: 'refresh_token' | 'access_token'): string {
  return `entra_connection:${organizationId}:${purpose}`;
}

function isFresh(connection: EntraConnectionEntity): boolean {
  return (
    connection.accessTokenCiphertext !== null &&
    connection.accessTokenExpiresAt !== null &&
    connection.accessTokenExpiresAt.getTime() - ACCESS_TOKEN_MARGIN_MS > Date.now()
  );
}

function toVerifiedDomains(details: TenantDetails): VerifiedDomain[] {
  return details.verifiedDomains.map((d) => ({
    name: d.name,
    isDefault: d.isDefault,
    isInitial: d.isInitial,
  }));
}
