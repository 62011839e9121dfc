import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { DeepPartial } from 'typeorm';
import type { Cursor } from '../../common/pagination.js';
import { OrganizationScopedRepository } from '../../database/organization-scoped.repository.js';
import { ScimRequestEntity } from './entities/scim-request.entity.js';

export interface ScimRequestFilter {
  outcome?: 'success' | 'failure';
  /** A user's SCIM id: the requests that addressed it. */
  userId?: string;
  groupId?: string;
}

/** The provisioning log: one row per `/scim/v2` request of an organization. */
@Injectable()
export class ScimRequestLogRepository {
  private readonly requests: OrganizationScopedRepository<ScimRequestEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.requests = new OrganizationScopedRepository(ScimRequestEntity, () => this.txHost.tx);
  }

  /**
   * Writes a batch of entries of any organizations in one statement (the log writer batches what arrives
   * together). Each row carries its own organization id, set by the edge from the presented token.
   */
  async insertAcrossOrganizations(rows: DeepPartial<ScimRequestEntity>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.requests.acrossOrganizations().insert(rows as never);
  }

  /** Newest first, ordered by (created_at, id) so paging is stable under concurrent writes. */
  list(organizationId: string, filter: ScimRequestFilter, after: Cursor | null, limit: number) {
    const query = this.requests.queryBuilder(organizationId, 'r');
    if (filter.outcome === 'success') query.andWhere('r.status < 400');
    if (filter.outcome === 'failure') query.andWhere('r.status >= 400');
    if (filter.userId)
      query.andWhere("r.resource_id = :userId AND r.resource_type = 'User'", { userId: filter.userId });
    if (filter.groupId)
      query.andWhere("r.resource_id = :groupId AND r.resource_type = 'Group'", { groupId: filter.groupId });
    if (after)
      query.andWhere('(r.created_at, r.id) < (:afterCreatedAt, :afterId)', {
        afterCreatedAt: after.createdAt,
        afterId: after.id,
      });
    return query.orderBy('r.created_at', 'DESC').addOrderBy('r.id', 'DESC').limit(limit).getMany();
  }

  /** The newest entry of the organization, or the newest failed one. */
  latest(organizationId: string, failedOnly: boolean): Promise<ScimRequestEntity | null> {
    const query = this.requests.queryBuilder(organizationId, 'r');
    if (failedOnly) query.andWhere('r.status >= 400');
    return query.orderBy('r.created_at', 'DESC').addOrderBy('r.id', 'DESC').limit(1).getOne();
  }

  /** Removes entries older than `days` of every organization, at most `batch` at a time; how many went. */
  async pruneAcrossOrganizations(days: number, batch: number): Promise<number> {
    const result = (await this.txHost.tx.query(
      `DELETE FROM scim_requests WHERE id IN (
         SELECT id FROM scim_requests WHERE created_at < now() - make_interval(days => $1) LIMIT $2)`,
      [days, batch],
    )) as [unknown[], number];
    return result[1] ?? 0;
  }
}
