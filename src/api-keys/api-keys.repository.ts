import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { DeepPartial } from 'typeorm';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import { ApiKeyEntity } from './entities/api-key.entity.js';

@Injectable()
export class ApiKeysRepository {
  private readonly keys: OrganizationScopedRepository<ApiKeyEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.keys = new OrganizationScopedRepository(ApiKeyEntity, () => this.txHost.tx);
  }

  create(organizationId: string, values: DeepPartial<ApiKeyEntity>): Promise<ApiKeyEntity> {
    return this.keys.create(organizationId, values);
  }

  /** The organization's keys not revoked, newest first. */
  listLive(organizationId: string): Promise<ApiKeyEntity[]> {
    return this.keys
      .queryBuilder(organizationId, 'k')
      .andWhere('k.revoked_at IS NULL')
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .getMany();
  }

  findLive(organizationId: string, id: string): Promise<ApiKeyEntity | null> {
    return this.keys
      .queryBuilder(organizationId, 'k')
      .andWhere('k.id = :id', { id })
      .andWhere('k.revoked_at IS NULL')
      .getOne();
  }

  async revoke(organizationId: string, id: string): Promise<void> {
    await this.keys.update(organizationId, { id }, { revokedAt: () => 'now()' });
  }

  /**
   * The key a presented token hashes to, in whatever organization: the token names the organization. The one
   * lookup across organizations.
   */
  findUsableByHash(tokenHash: string): Promise<ApiKeyEntity | null> {
    return this.keys
      .acrossOrganizations()
      .createQueryBuilder('k')
      .where('k.token_hash = :tokenHash', { tokenHash })
      .andWhere('k.revoked_at IS NULL')
      .andWhere('(k.expires_at IS NULL OR k.expires_at > now())')
      .getOne();
  }

  /** Records a use unless one was recorded in the last minute (a no-op UPDATE then). */
  async touch(id: string, from: string | null): Promise<void> {
    await this.keys
      .acrossOrganizations()
      .createQueryBuilder()
      .update()
      .set({ lastUsedAt: () => 'now()', lastUsedFrom: from })
      .where('id = :id', { id })
      .andWhere("(last_used_at IS NULL OR last_used_at < now() - interval '1 minute')")
      .execute();
  }
}
