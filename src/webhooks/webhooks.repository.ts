import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { DeepPartial } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import type { Cursor } from '../common/pagination.js';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import { WebhookDeliveryEntity } from './entities/webhook-delivery.entity.js';
import { WebhookEndpointEntity } from './entities/webhook-endpoint.entity.js';

/** A pending delivery `d` may be attempted now: never tried or its retry time come, or its attempt is stale. */
const DUE = `(d.next_attempt_at <= now() OR (d.next_attempt_at IS NULL AND
  (d.last_attempt_at IS NULL OR d.last_attempt_at < now() - make_interval(secs => $3))))`;

@Injectable()
export class WebhooksRepository {
  private readonly endpoints: OrganizationScopedRepository<WebhookEndpointEntity>;
  private readonly deliveries: OrganizationScopedRepository<WebhookDeliveryEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.endpoints = new OrganizationScopedRepository(WebhookEndpointEntity, () => this.txHost.tx);
    this.deliveries = new OrganizationScopedRepository(WebhookDeliveryEntity, () => this.txHost.tx);
  }

  createEndpoint(organizationId: string, values: DeepPartial<WebhookEndpointEntity>) {
    return this.endpoints.create(organizationId, values);
  }

  listEndpoints(organizationId: string): Promise<WebhookEndpointEntity[]> {
    return this.endpoints.find(organizationId, { order: { createdAt: 'DESC', id: 'DESC' } });
  }

  findEndpoint(organizationId: string, id: string): Promise<WebhookEndpointEntity | null> {
    return this.endpoints.findOneBy(organizationId, { id });
  }

  lockEndpoint(organizationId: string, id: string): Promise<WebhookEndpointEntity | null> {
    return this.endpoints.lockOneBy(organizationId, { id });
  }

  enabledEndpoints(organizationId: string): Promise<WebhookEndpointEntity[]> {
    return this.endpoints.find(organizationId, { where: { enabled: true } });
  }

  saveEndpoint(endpoint: WebhookEndpointEntity): Promise<WebhookEndpointEntity> {
    return this.endpoints.save(endpoint.organizationId, endpoint);
  }

  deleteEndpoint(organizationId: string, id: string): Promise<number> {
    return this.endpoints.delete(organizationId, { id });
  }

  async insertDeliveries(
    organizationId: string,
    rows: DeepPartial<WebhookDeliveryEntity>[],
  ): Promise<WebhookDeliveryEntity[]> {
    const saved: WebhookDeliveryEntity[] = [];
    for (const row of rows) saved.push(await this.deliveries.create(organizationId, row));
    return saved;
  }

  listDeliveries(organizationId: string, endpointId: string, cursor: Cursor | null, limit: number) {
    const builder = this.deliveries
      .queryBuilder(organizationId, 'd')
      .andWhere('d.endpoint_id = :endpointId', { endpointId })
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .take(limit);
    if (cursor)
      builder.andWhere('(d.created_at, d.id) < (:createdAt, :id)', {
        createdAt: cursor.createdAt,
        id: cursor.id,
      });
    return builder.getMany();
  }

  findDelivery(organizationId: string, endpointId: string, id: string) {
    return this.deliveries.findOneBy(organizationId, { id, endpointId });
  }

  /** The worker's read: a job names only the delivery. */
  findDeliveryAcrossOrganizations(id: string): Promise<WebhookDeliveryEntity | null> {
    return this.deliveries.acrossOrganizations().findOneBy({ id });
  }

  findEndpointAcrossOrganizations(id: string): Promise<WebhookEndpointEntity | null> {
    return this.endpoints.acrossOrganizations().findOneBy({ id });
  }

  /**
   * Claims attempt number `attempts + 1` of a pending delivery that is due (never tried, its retry time come,
   * or in flight for longer than `staleSeconds`, i.e. its worker died): `claimed` for exactly one caller.
   * `waiting` while an earlier pending delivery of the same endpoint (lower `seq`) is not waiting out a
   * back-off (still to be tried, due again, or in flight): the check and the claim are one statement, so
   * deliveries that succeed go out in order. `gone` when it is no longer pending with that count, or not due.
   */
  async claimAttempt(
    id: string,
    attempts: number,
    staleSeconds: number,
  ): Promise<'claimed' | 'waiting' | 'gone'> {
    const rows = (await this.txHost.tx.query(
      `WITH candidate AS (
         SELECT d.id, NOT EXISTS (
                  SELECT 1 FROM webhook_deliveries e
                   WHERE e.endpoint_id = d.endpoint_id AND e.status = 'pending' AND e.seq < d.seq
                     AND (e.next_attempt_at IS NULL OR e.next_attempt_at <= now())) AS free
           FROM webhook_deliveries d
          WHERE d.id = $1 AND d.status = 'pending' AND d.attempts = $2 AND ${DUE}),
       claimed AS (
         UPDATE webhook_deliveries d SET attempts = d.attempts + 1, last_attempt_at = now(), next_attempt_at = NULL
           FROM candidate c
          WHERE d.id = c.id AND c.free AND d.status = 'pending' AND d.attempts = $2
          RETURNING d.id)
       SELECT (SELECT count(*) FROM candidate)::int AS due, (SELECT count(*) FROM claimed)::int AS claimed`,
      [id, attempts, staleSeconds],
    )) as { due: number; claimed: number }[];
    const row = rows[0];
    return row.claimed === 1 ? 'claimed' : row.due === 1 ? 'waiting' : 'gone';
  }

  /** The endpoint's earliest pending delivery that is due (see `claimAttempt`): the next one to attempt. */
  nextDueDelivery(endpointId: string, staleSeconds: number): Promise<WebhookDeliveryEntity | null> {
    return this.deliveries
      .acrossOrganizations()
      .createQueryBuilder('d')
      .where(`d.endpoint_id = :endpointId AND d.status = 'pending'`, { endpointId })
      .andWhere(DUE.replace('$3', ':stale'), { stale: staleSeconds })
      .orderBy('d.seq', 'ASC')
      .take(1)
      .getOne();
  }

  async recordOutcome(id: string, values: Omit<Partial<WebhookDeliveryEntity>, 'payload'>): Promise<void> {
    await this.deliveries
      .acrossOrganizations()
      .update({ id }, values as QueryDeepPartialEntity<WebhookDeliveryEntity>);
  }
}
