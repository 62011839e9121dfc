import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import { EventEntity } from './entities/event.entity.js';

@Injectable()
export class EventsRepository {
  private readonly events: OrganizationScopedRepository<EventEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.events = new OrganizationScopedRepository(EventEntity, () => this.txHost.tx);
  }

  /** Appends events of one organization in the current transaction; returns them with id, seq and time. */
  async insert(
    organizationId: string,
    rows: { type: string; data: Record<string, unknown> }[],
  ): Promise<EventEntity[]> {
    if (rows.length === 0) return [];
    const result = await this.events
      .acrossOrganizations()
      .createQueryBuilder()
      .insert()
      .values(
        rows.map((row) => ({
          organizationId,
          type: row.type,
          data: row.data,
          txId: () => '(pg_current_xact_id())::text::bigint',
        })) as QueryDeepPartialEntity<EventEntity>[],
      )
      .returning(['id', 'seq', 'created_at'])
      .execute();
    const raw = result.raw as { id: string; seq: string; created_at: Date }[];
    return raw.map((r, i) => {
      const event = new EventEntity();
      Object.assign(event, {
        id: r.id,
        seq: String(r.seq),
        organizationId,
        type: rows[i].type,
        data: rows[i].data,
        createdAt: new Date(r.created_at),
      });
      return event;
    });
  }

  /**
   * The organization's events after `afterSeq`, oldest first, within the retention window. Rows whose writing
   * transaction may still be open (or that started after one still open) are left for the next poll, so a
   * cursor never passes an event that commits later with a lower `seq`.
   */
  list(
    organizationId: string,
    query: { afterSeq: string | null; types: string[]; retentionDays: number; limit: number },
  ): Promise<EventEntity[]> {
    const builder = this.events
      .queryBuilder(organizationId, 'e')
      .andWhere('e.tx_id < (pg_snapshot_xmin(pg_current_snapshot()))::text::bigint')
      .andWhere(`e.created_at > now() - make_interval(days => :days)`, { days: query.retentionDays })
      .orderBy('e.seq', 'ASC')
      .take(query.limit);
    if (query.afterSeq) builder.andWhere('e.seq > :after', { after: query.afterSeq });
    if (query.types.length > 0) builder.andWhere('e.type IN (:...types)', { types: query.types });
    return builder.getMany();
  }

  /** Retention: removes events older than `days` across organizations; returns how many went. */
  async deleteOlderThan(days: number): Promise<number> {
    const result = await this.events
      .acrossOrganizations()
      .createQueryBuilder()
      .delete()
      .where(`created_at < now() - make_interval(days => :days)`, { days })
      .execute();
    return result.affected ?? 0;
  }
}
