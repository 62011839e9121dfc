import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { DeepPartial } from 'typeorm';
import type { Plan } from '../../common/access.js';
import { preparedQuery } from '../../database/prepared-statements.js';
import { OrganizationScopedRepository } from '../../database/organization-scoped.repository.js';
import { ScimSettingsEntity } from './entities/scim-settings.entity.js';
import { ScimTokenEntity } from './entities/scim-token.entity.js';

/** What `findCallerByTokenHash` reads: a token and what its organization allows. */
export interface ScimTokenCaller {
  tokenId: string;
  organizationId: string;
  /** Neither revoked nor expired. */
  usable: boolean;
  plan: Plan;
  /** SCIM switched on for the organization. */
  enabled: boolean;
  /** A use of the token was recorded within the last minute (by any replica): no need to record another. */
  usedRecently: boolean;
}

/** SCIM tokens and the SCIM switch of each organization. */
@Injectable()
export class ScimAccessRepository {
  private readonly tokens: OrganizationScopedRepository<ScimTokenEntity>;
  private readonly settings: OrganizationScopedRepository<ScimSettingsEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.tokens = new OrganizationScopedRepository(ScimTokenEntity, () => this.txHost.tx);
    this.settings = new OrganizationScopedRepository(ScimSettingsEntity, () => this.txHost.tx);
  }

  /** Serializes token creation of one organization for the rest of the transaction (the two-token limit). */
  async lockTokens(organizationId: string): Promise<void> {
    await this.txHost.tx.query("SELECT pg_advisory_xact_lock(hashtext('scim_tokens:' || $1::text))", [
      organizationId,
    ]);
  }

  createToken(organizationId: string, values: DeepPartial<ScimTokenEntity>): Promise<ScimTokenEntity> {
    return this.tokens.create(organizationId, values);
  }

  /** The organization's tokens neither revoked nor expired, newest first. */
  listLiveTokens(organizationId: string): Promise<ScimTokenEntity[]> {
    return this.tokens
      .queryBuilder(organizationId, 't')
      .andWhere('t.revoked_at IS NULL')
      .andWhere('(t.expires_at IS NULL OR t.expires_at > now())')
      .orderBy('t.created_at', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .getMany();
  }

  findUnrevokedToken(organizationId: string, id: string): Promise<ScimTokenEntity | null> {
    return this.tokens
      .queryBuilder(organizationId, 't')
      .andWhere('t.id = :id', { id })
      .andWhere('t.revoked_at IS NULL')
      .getOne();
  }

  async revokeToken(organizationId: string, id: string): Promise<void> {
    await this.tokens.update(organizationId, { id }, { revokedAt: () => 'now()' });
  }

  /**
   * The token a presented secret hashes to, in whatever organization and state (the caller judges revoked and
   * expired ones, which still name the organization whose log records the refusal). The one lookup across
   * organizations.
   */
  findTokenByHash(tokenHash: string): Promise<(ScimTokenEntity & { usable: boolean }) | null> {
    return this.tokens
      .acrossOrganizations()
      .createQueryBuilder('t')
      .addSelect('(t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()))', 'usable')
      .where('t.token_hash = :tokenHash', { tokenHash })
      .getRawAndEntities()
      .then(({ entities, raw }) =>
        entities[0]
          ? Object.assign(entities[0], { usable: Boolean((raw[0] as { usable: boolean }).usable) })
          : null,
      );
  }

  /**
   * Everything authenticating a SCIM request needs, in one statement by the presented secret's hash: the token
   * (in whatever organization and state), whether it is usable, its organization's plan, whether SCIM is on (no
   * settings row: on) and whether a use was recorded in the last minute. Read fresh on every request, so a
   * revocation, a plan change or SCIM switched off applies to the next request on every replica. The one read of
   * the SCIM module on another module's table (`organizations.plan`), as the session lookup reads it.
   */
  async findCallerByTokenHash(tokenHash: string): Promise<ScimTokenCaller | null> {
    const rows = await preparedQuery<ScimTokenCaller>(
      this.txHost.tx,
      `SELECT t.id AS "tokenId", t.organization_id AS "organizationId",
              (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())) AS usable,
              o.plan, COALESCE(s.enabled, true) AS enabled,
              COALESCE(t.last_used_at >= now() - interval '1 minute', false) AS "usedRecently"
         FROM scim_tokens t
         JOIN organizations o ON o.id = t.organization_id
         LEFT JOIN scim_settings s ON s.organization_id = t.organization_id
        WHERE t.token_hash = $1`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  /** Records a use unless one was recorded in the last minute (a no-op UPDATE then). */
  async touchToken(id: string, from: string | null): Promise<void> {
    await this.tokens
      .acrossOrganizations()
      .createQueryBuilder()
      .update()
      .set({ lastUsedAt: () => 'now()', lastUsedFrom: from })
      .where('id = :id', { id })
      .andWhere("(last_used_at IS NULL OR last_used_at < now() - interval '1 minute')")
      .execute();
  }

  findSettings(organizationId: string): Promise<ScimSettingsEntity | null> {
    return this.settings.findOneBy(organizationId, {});
  }

  async saveSettings(organizationId: string, values: { enabled: boolean }): Promise<void> {
    await this.settings.upsert(organizationId, { ...values, updatedAt: new Date() }, ['organizationId']);
  }
}
