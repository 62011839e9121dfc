import { Injectable, Logger } from '@nestjs/common';
import type { EventSource } from '../events/event-types.js';
import { EventsService } from '../events/events.service.js';
import { AuditService } from '../audit/audit.service.js';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { MicrosoftIdentityClient } from '../microsoft/microsoft-identity.client.js';
import { GraphRequestError, MicrosoftTokenError } from '../microsoft/microsoft.errors.js';
import type { EntraConnectionEntity } from './entities/entra-connection.entity.js';
import { GRAPH_SCOPES, type GrantTokens } from './graph-grant.js';
import { EntraNotConnectedError, EntraReauthorizationRequiredError } from './integrations.errors.js';
import { IntegrationStatusService } from './integration-status.service.js';
import { IntegrationsRepository } from './integrations.repository.js';
import { TokenCipher, TokenDecryptionError } from './token-cipher.js';

const ACCESS_TOKEN_MARGIN_MS = 5 * 60_000;

/** The connection's tokens: sealed with the keyring, refreshed one at a time per connection, re-encrypted on rotation. */
@Injectable()
export class TokenVault {
  private readonly logger = new Logger(TokenVault.name);

  constructor(
    private readonly repository: IntegrationsRepository,
    private readonly cipher: TokenCipher,
    private readonly identity: MicrosoftIdentityClient,
    private readonly audit: AuditService,
    private readonly outbox: EventsService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly status: IntegrationStatusService,
  ) {}

  /** Encrypts a fresh grant into the connection (bound to its organization); the caller saves it. */
  seal(connection: EntraConnectionEntity, tokens: GrantTokens): void {
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

  /**
   * Runs `call` with a Graph access token for the organization's tenant, refreshing it from the stored
   * refresh token when needed. Refreshes are serialised per connection (row lock) so rotated refresh tokens
   * are never lost between replicas. A refused grant marks the connection `reauthorization_required`, with
   * `source` (what needed the token) as the source of its event.
   */
  async withGraphToken<T>(
    organizationId: string,
    call: (accessToken: string) => Promise<T>,
    source: EventSource = 'manual',
  ): Promise<T> {
    const token = await this.accessToken(organizationId, false, source);
    try {
      return await call(token);
    } catch (error) {
      // A token Microsoft stopped accepting early (revoked session, clock skew): refresh once and retry.
      if (error instanceof GraphRequestError && error.status === 401)
        return call(await this.accessToken(organizationId, true, source));
      throw error;
    }
  }

  /** Re-encrypts every stored token under the current key (`npm run cli -- keys:rotate`). */
  async reencryptTokens(): Promise<{ reencrypted: number; total: number }> {
    let reencrypted = 0;
    const organizationIds = await this.repository.listOrganizationIdsAcrossOrganizations();
    for (const organizationId of organizationIds) {
      await this.txHost.withTransaction(async () => {
        const connection = await this.repository.lockByOrganization(organizationId);
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
          await this.repository.save(connection);
          reencrypted++;
        }
      });
    }
    return { reencrypted, total: organizationIds.length };
  }

  /** A Graph access token for the organization's tenant (refreshed when needed or forced). */
  async accessToken(
    organizationId: string,
    forceRefresh = false,
    source: EventSource = 'manual',
  ): Promise<string> {
    const cached = await this.repository.findByOrganization(organizationId);
    if (!cached) throw new EntraNotConnectedError();
    if (cached.status !== 'connected') throw new EntraReauthorizationRequiredError();
    if (!forceRefresh && isFresh(cached)) {
      return this.decryptToken(organizationId, cached.accessTokenCiphertext!, 'access_token');
    }
    const outcome = await this.txHost.withTransaction(async () => {
      const connection = await this.lock(organizationId);
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
        this.seal(connection, { ...fresh, refreshToken: fresh.refreshToken ?? refreshToken });
        await this.repository.save(connection);
        return { token: fresh.accessToken };
      } catch (error) {
        if (!(error instanceof MicrosoftTokenError) || error.microsoftError !== 'invalid_grant') throw error;
        this.logger.warn(
          `Microsoft refused the refresh token of organization ${organizationId}: reauthorization required`,
        );
        connection.status = 'reauthorization_required';
        connection.accessTokenCiphertext = null;
        connection.accessTokenExpiresAt = null;
        await this.repository.save(connection);
        await this.audit.record({
          organizationId,
          actor: { type: 'system', id: null },
          action: 'entra.reauthorization_required',
          target: { type: 'entra_connection', id: connection.id },
          before: { status: 'connected' },
          after: { status: 'reauthorization_required' },
        });
        await this.outbox.record(
          organizationId,
          'integration.reauthorization_required',
          await this.status.eventData(organizationId, {
            tenantId: connection.tenantId,
            status: 'reauthorization_required',
            source,
          }),
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

  private async lock(organizationId: string): Promise<EntraConnectionEntity> {
    const connection = await this.repository.lockByOrganization(organizationId);
    if (!connection) throw new EntraNotConnectedError();
    return connection;
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
