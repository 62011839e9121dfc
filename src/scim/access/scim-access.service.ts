import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { planIncludes } from '../../common/access.js';
import { AuditService } from '../../audit/audit.service.js';
import { SCIM_TOKEN_PREFIX } from '../../common/guards.js';
import { type Principal, sessionUser } from '../../common/principal.js';
import { randomToken, sha256 } from '../../common/tokens.js';
import type { AppConfig } from '../../config/config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { EventsService } from '../../events/events.service.js';
import { ScimError } from '../protocol/index.js';
import {
  ScimTokenExpiryInPastError,
  ScimTokenLimitReachedError,
  ScimTokenNotFoundError,
} from './scim-access.errors.js';
import { ScimAccessRepository } from './scim-access.repository.js';
import type { ScimCaller } from './scim-caller.js';
import { toScimTokenResponse } from './dto/scim-token.dto.js';
import type { ScimTokenEntity } from './entities/scim-token.entity.js';

/** Live tokens an organization may hold: one in use and its successor while Entra is switched over. */
export const MAX_LIVE_SCIM_TOKENS = 2;
/** How many characters of a token are kept in the clear, to tell tokens apart. */
const SHOWN_PREFIX_LENGTH = SCIM_TOKEN_PREFIX.length + 8;

const SCIM_DISABLED_DETAIL =
  'SCIM provisioning is switched off for this organization: an Owner or Admin switches it on with ' +
  'PATCH /api/v1/integrations/scim/settings.';

/** Why a presented SCIM token opens nothing. */
export type ScimRefusal =
  | {
      status: 401;
      reason: 'unknown' | 'revoked_or_expired';
      organizationId: string | null;
      tokenId: string | null;
    }
  | { status: 403; error: ScimError; organizationId: string; tokenId: string };

@Injectable()
export class ScimAccessService {
  private readonly logger = new Logger(ScimAccessService.name);
  private readonly touching = new Set<string>();

  constructor(
    private readonly repository: ScimAccessRepository,
    private readonly audit: AuditService,
    private readonly outbox: EventsService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The Tenant URL an admin pastes into the Entra provisioning pane; also the base of `meta.location`. */
  get tenantUrl(): string {
    return `${this.config.appBaseUrl}/scim/v2`;
  }

  /** The organization and token a secret names, whatever the token's state (for the provisioning log). */
  async identify(secret: string): Promise<{ organizationId: string; tokenId: string } | null> {
    const token = await this.repository.findTokenByHash(sha256(secret));
    return token ? { organizationId: token.organizationId, tokenId: token.id } : null;
  }

  /** Creates a token of the caller's organization; the returned `secret` is never available again. */
  async createToken(
    principal: Principal,
    input: { name: string; expiresAt?: Date },
  ): Promise<{ token: ScimTokenEntity; secret: string }> {
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw new ScimTokenExpiryInPastError();
    const { userId } = sessionUser(principal);
    const secret = `${SCIM_TOKEN_PREFIX}${randomToken()}`;
    const token = await this.txHost.withTransaction(async () => {
      await this.repository.lockTokens(principal.organizationId);
      const live = await this.repository.listLiveTokens(principal.organizationId);
      if (live.length >= MAX_LIVE_SCIM_TOKENS) throw new ScimTokenLimitReachedError();
      const created = await this.repository.createToken(principal.organizationId, {
        name: input.name.trim(),
        prefix: secret.slice(0, SHOWN_PREFIX_LENGTH),
        tokenHash: sha256(secret),
        createdByUserId: userId,
        expiresAt: input.expiresAt ?? null,
      });
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: principal.actor,
        action: 'scim_token.created',
        target: { type: 'scim_token', id: created.id },
        after: {
          name: created.name,
          prefix: created.prefix,
          expiresAt: created.expiresAt?.toISOString() ?? null,
        },
      });
      await this.recordTokenEvent('scim.token_created', created);
      return created;
    });
    return { token, secret };
  }

  /**
   * A token for the self-test alone: outside the two-token limit (it must not block a rotation), valid for ten
   * minutes, revoked by the caller when done. Audited like any other.
   */
  async createSelfTestToken(principal: Principal): Promise<{ token: ScimTokenEntity; secret: string }> {
    const { userId } = sessionUser(principal);
    const secret = `${SCIM_TOKEN_PREFIX}${randomToken()}`;
    const token = await this.txHost.withTransaction(async () => {
      const created = await this.repository.createToken(principal.organizationId, {
        name: 'Self-test (revoked when done)',
        prefix: secret.slice(0, SHOWN_PREFIX_LENGTH),
        tokenHash: sha256(secret),
        createdByUserId: userId,
        expiresAt: new Date(Date.now() + 10 * 60_000),
      });
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: principal.actor,
        action: 'scim_token.created',
        target: { type: 'scim_token', id: created.id },
        after: { name: created.name, prefix: created.prefix, expiresAt: created.expiresAt!.toISOString() },
      });
      await this.recordTokenEvent('scim.token_created', created);
      return created;
    });
    return { token, secret };
  }

  /** The organization's live tokens (neither revoked nor expired), newest first. */
  listTokens(organizationId: string): Promise<ScimTokenEntity[]> {
    return this.repository.listLiveTokens(organizationId);
  }

  /** Revokes at once: the next SCIM request with the token is refused. */
  async revokeToken(principal: Principal, id: string): Promise<void> {
    await this.txHost.withTransaction(async () => {
      const token = await this.repository.findUnrevokedToken(principal.organizationId, id);
      if (!token) throw new ScimTokenNotFoundError();
      await this.repository.revokeToken(principal.organizationId, id);
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: principal.actor,
        action: 'scim_token.revoked',
        target: { type: 'scim_token', id },
        before: { name: token.name, prefix: token.prefix, expiresAt: token.expiresAt?.toISOString() ?? null },
      });
      await this.recordTokenEvent('scim.token_revoked', token);
    });
  }

  /** Whether SCIM requests of the organization are served (no settings row: on). */
  async isEnabled(organizationId: string): Promise<boolean> {
    return (await this.repository.findSettings(organizationId))?.enabled ?? true;
  }

  /** Switches SCIM on or off, audited when it changes. Off refuses every SCIM request and changes nothing. */
  async setEnabled(principal: Principal, enabled: boolean): Promise<void> {
    await this.txHost.withTransaction(async () => {
      const before = await this.isEnabled(principal.organizationId);
      await this.repository.saveSettings(principal.organizationId, { enabled });
      if (before === enabled) return;
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: principal.actor,
        action: enabled ? 'scim.enabled' : 'scim.disabled',
        target: { type: 'organization', id: principal.organizationId },
        before: { enabled: before },
        after: { enabled },
      });
      // `data.settings` is what PATCH /api/v1/integrations/scim/settings answers.
      await this.outbox.record(principal.organizationId, enabled ? 'scim.enabled' : 'scim.disabled', {
        settings: { enabled },
        source: 'manual',
      });
    });
  }

  /** A `scim.token_*` event with the token as the REST list shows it (never the secret), in the change's transaction. */
  private recordTokenEvent(
    type: 'scim.token_created' | 'scim.token_revoked',
    token: ScimTokenEntity,
  ): Promise<void> {
    return this.outbox.record(token.organizationId, type, {
      token: toScimTokenResponse(token),
      source: 'manual',
    });
  }

  /**
   * The caller a presented SCIM token stands for, or why it is refused: 401 for an unknown, revoked or expired
   * token; 403 when the organization is not on Enterprise or has SCIM switched off. One statement (the token
   * with its organization's plan and SCIM switch), plus a write of "last used" at most once a minute.
   */
  async authenticate(
    secret: string,
    clientAddress: string | null,
  ): Promise<{ caller: ScimCaller } | { refusal: ScimRefusal }> {
    const token = secret.startsWith(SCIM_TOKEN_PREFIX)
      ? await this.repository.findCallerByTokenHash(sha256(secret))
      : null;
    if (!token) return { refusal: { status: 401, reason: 'unknown', organizationId: null, tokenId: null } };
    const { organizationId, tokenId } = token;
    if (!token.usable)
      return { refusal: { status: 401, reason: 'revoked_or_expired', organizationId, tokenId } };
    if (!planIncludes(token.plan, 'enterprise')) {
      const error = new ScimError(
        403,
        `SCIM provisioning requires the enterprise plan; this organization is on ${token.plan}.`,
      );
      return { refusal: { status: 403, error, organizationId, tokenId } };
    }
    if (!token.enabled)
      return {
        refusal: { status: 403, error: new ScimError(403, SCIM_DISABLED_DETAIL), organizationId, tokenId },
      };
    if (!token.usedRecently) await this.touch(tokenId, clientAddress);
    return { caller: { organizationId, tokenId } };
  }

  /**
   * Records a use of the token, which the caller read as not recorded within the last minute (the SQL guard
   * keeps it to one write a minute across replicas); requests arriving while this replica writes it skip it. A
   * failed write never fails the request.
   */
  private async touch(id: string, from: string | null): Promise<void> {
    if (this.touching.has(id)) return;
    this.touching.add(id);
    try {
      await this.repository.touchToken(id, from);
    } catch (error) {
      this.logger.warn(`could not record the use of a SCIM token: ${String(error)}`);
    } finally {
      this.touching.delete(id);
    }
  }
}
