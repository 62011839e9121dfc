import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { API_KEY_PREFIX } from '../common/guards.js';
import { type Principal, sessionUser } from '../common/principal.js';
import type { ApiKeyScope } from '../common/scopes.js';
import { randomToken, sha256 } from '../common/tokens.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import { ApiKeyExpiryInPastError, ApiKeyNotFoundError } from './api-keys.errors.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import type { ApiKeyEntity } from './entities/api-key.entity.js';

/** How many characters of a key are kept in the clear, to tell keys apart. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
/** A replica writes "last used" of a key at most this often; the SQL guard holds it across replicas. */
const TOUCH_EVERY_MS = 60_000;

@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);
  private readonly touchedAt = new Map<string, number>();

  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
  ) {}

  /** Creates a key of the caller's organization; the returned `token` is never available again. */
  async create(
    principal: Principal,
    input: { name: string; scopes: ApiKeyScope[]; expiresAt?: Date },
  ): Promise<{ key: ApiKeyEntity; token: string }> {
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw new ApiKeyExpiryInPastError();
    const { userId } = sessionUser(principal);
    const token = `${API_KEY_PREFIX}${randomToken()}`;
    const key = await this.txHost.withTransaction(async () => {
      const created = await this.repository.create(principal.organizationId, {
        name: input.name.trim(),
        prefix: token.slice(0, SHOWN_PREFIX_LENGTH),
        tokenHash: sha256(token),
        scopes: [...input.scopes].sort(),
        createdByUserId: userId,
        expiresAt: input.expiresAt ?? null,
      });
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: principal.actor,
        action: 'api_key.created',
        target: { type: 'api_key', id: created.id },
        after: {
          name: created.name,
          prefix: created.prefix,
          scopes: created.scopes,
          expiresAt: created.expiresAt?.toISOString() ?? null,
        },
      });
      return created;
    });
    return { key, token };
  }

  list(organizationId: string): Promise<ApiKeyEntity[]> {
    return this.repository.listLive(organizationId);
  }

  /** Revokes at once: the next request with the key is refused. */
  async revoke(principal: Principal, id: string): Promise<void> {
    await this.txHost.withTransaction(async () => {
      const key = await this.repository.findLive(principal.organizationId, id);
      if (!key) throw new ApiKeyNotFoundError();
      await this.repository.revoke(principal.organizationId, id);
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: principal.actor,
        action: 'api_key.revoked',
        target: { type: 'api_key', id },
        before: { name: key.name, prefix: key.prefix, scopes: key.scopes },
      });
    });
  }

  /** The principal a presented key stands for, or null for an unknown, revoked or expired key. */
  async authenticate(token: string, clientAddress: string | null): Promise<Principal | null> {
    const key = await this.repository.findUsableByHash(sha256(token));
    if (!key) return null;
    const organization = await this.organizations.get(key.organizationId);
    await this.touch(key.id, clientAddress);
    return {
      kind: 'api_key',
      sessionId: null,
      userId: null,
      apiKeyId: key.id,
      scopes: key.scopes,
      organizationId: key.organizationId,
      // Within its scopes a key may do what an Admin may, never what only an Owner may.
      role: 'admin',
      plan: organization.plan,
      actor: { type: 'api_key', id: key.id },
    };
  }

  /** At most one write per key and minute on this replica; a failed write never fails the request. */
  private async touch(id: string, from: string | null): Promise<void> {
    const now = Date.now();
    if (now - (this.touchedAt.get(id) ?? 0) < TOUCH_EVERY_MS) return;
    if (this.touchedAt.size > 10_000) this.touchedAt.clear();
    this.touchedAt.set(id, now);
    await this.repository
      .touch(id, from)
      .catch((error: unknown) => this.logger.warn(`could not record the use of a key: ${String(error)}`));
  }
}
