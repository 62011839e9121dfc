import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { Cursor } from '../../common/pagination.js';
import { OrganizationScopedRepository } from '../../database/organization-scoped.repository.js';
import { ScimRequestEntity } from './entities/scim-request.entity.js';

export interface ScimRequestFilter {
  outcome?: 'success' | 'failure';
  /** A user's SCIM id: the requests that addressed it. */
  userId?: string;
  groupId?: string;
}

/** One provisioning-log entry as the edge writes it. */
export type ScimRequestRow = Pick<
  ScimRequestEntity,
  | 'organizationId'
  | 'tokenId'
  | 'method'
  | 'path'
  | 'query'
  | 'status'
  | 'scimType'
  | 'detail'
  | 'resourceType'
  | 'resourceId'
  | 'durationMs'
  | 'requestBody'
  | 'notes'
  | 'clientAddress'
  | 'createdAt'
>;

/** The provisioning log: one row per `/scim/v2` request of an organization. */
@Injectable()
export class ScimRequestLogRepository {
  private readonly requests: OrganizationScopedRepository<ScimRequestEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.requests = new OrganizationScopedRepository(ScimRequestEntity, () => this.txHost.tx);
  }

  /**
   * Writes a batch of entries of any organizations in one statement of fixed text (one array parameter per
   * column, so its plan is cached and no SQL is built per row). Each row carries its own organization id, set
   * by the edge from the presented token.
   */
  async insertAcrossOrganizations(rows: ScimRequestRow[]): Promise<void> {
    if (rows.length === 0) return;
    const column = <T>(pick: (row: ScimRequestRow) => T) => rows.map(pick);
    await this.txHost.tx.query(
      `INSERT INTO scim_requests (organization_id, token_id, method, path, query, status, scim_type, detail,
                                  resource_type, resource_id, duration_ms, request_body, notes, client_address,
                                  created_at)
       SELECT r.organization_id, r.token_id, r.method, r.path, r.query, r.status, r.scim_type, r.detail,
              r.resource_type, r.resource_id, r.duration_ms, r.request_body::jsonb,
              ARRAY(SELECT jsonb_array_elements_text(r.notes::jsonb)), r.client_address, r.created_at
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[],
                     $8::text[], $9::text[], $10::text[], $11::int[], $12::text[], $13::text[], $14::text[],
                     $15::timestamptz[])
           AS r(organization_id, token_id, method, path, query, status, scim_type, detail, resource_type,
                resource_id, duration_ms, request_body, notes, client_address, created_at)`,
      [
        column((r) => r.organizationId),
        column((r) => r.tokenId),
        column((r) => r.method),
        column((r) => r.path),
        column((r) => r.query),
        column((r) => r.status),
        column((r) => r.scimType),
        column((r) => r.detail),
        column((r) => r.resourceType),
        column((r) => r.resourceId),
        column((r) => r.durationMs),
        column((r) => (r.requestBody === null ? null : JSON.stringify(r.requestBody))),
        column((r) => JSON.stringify(r.notes)),
        column((r) => r.clientAddress),
        column((r) => r.createdAt),
      ],
    );
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
