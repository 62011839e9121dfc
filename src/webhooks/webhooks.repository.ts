import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { DeepPartial } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import type { Cursor } from '../common/pagination.js';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import { WebhookDeliveryEntity } from './entities/webhook-delivery.entity.js';
import { WebhookEndpointEntity } from './entities/webhook-endpoint.entity.js';

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
   * Claims attempt number `attempts + 1` of a pending delivery: true for exactly one caller, so a job that
   * the queue hands out again (after a crash) never makes a second attempt of the same number.
   */
  async claimAttempt(id: string, attempts: number): Promise<boolean> {
    const result = await this.deliveries
      .acrossOrganizations()
      .createQueryBuilder()
      .update()
      .set({ attempts: attempts + 1, lastAttemptAt: () => 'now()', nextAttemptAt: null })
      .where('id = :id AND status = :status AND attempts = :attempts', { id, status: 'pending', attempts })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  async recordOutcome(id: string, values: Omit<Partial<WebhookDeliveryEntity>, 'payload'>): Promise<void> {
    await this.deliveries
      .acrossOrganizations()
      .update({ id }, values as QueryDeepPartialEntity<WebhookDeliveryEntity>);
  }
}
