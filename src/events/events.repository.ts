import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import { WriteBatch } from '../database/write-batch.js';
import { EventEntity } from './entities/event.entity.js';

@Injectable()
export class EventsRepository {
  private readonly events: OrganizationScopedRepository<EventEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.events = new OrganizationScopedRepository(EventEntity, () => this.txHost.tx);
  }

  /** A batch of the current transaction's writes, to add the events' insert to. */
  batch(): WriteBatch {
    return new WriteBatch();
  }

  /**
   * Adds the insert of events of one organization to a batch of the transaction's writes; the returned reader
   * gives them, once the batch ran, with id, seq and time, in the order given.
   */
  addInsert(
    batch: WriteBatch,
    organizationId: string,
    rows: { type: string; data: Record<string, unknown> }[],
  ): (result: Record<string, Record<string, unknown>[]>) => EventEntity[] {
    const organization = batch.param(organizationId, 'uuid');
    const values = rows.map(
      (row) =>
        `((pg_current_xact_id())::text::bigint, ${organization}, ${batch.param(row.type, 'text')}, ` +
        `${batch.param(JSON.stringify(row.data), 'jsonb')})`,
    );
    const name = batch.add(
      'events',
      `INSERT INTO events (tx_id, organization_id, type, data) VALUES ${values.join(', ')}
       RETURNING id, seq::text AS seq, created_at`,
      true,
    );
    return (result) => {
      // `seq` follows the order of the VALUES list.
      const inserted = [...(result[name] as { id: string; seq: string; created_at: string }[])].sort(
        (a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1),
      );
      return inserted.map((r, i) =>
        Object.assign(new EventEntity(), {
          id: r.id,
          seq: r.seq,
          organizationId,
          type: rows[i].type,
          data: rows[i].data,
          createdAt: new Date(r.created_at),
        }),
      );
    };
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
