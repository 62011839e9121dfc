import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Cursor } from '../common/pagination.js';
import type { Tx } from '../common/transaction.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';

@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insertMany(events: Partial<AuditEventEntity>[], tx?: Tx): Promise<void> {
    const repository = (tx ?? this.dataSource.manager).getRepository(AuditEventEntity);
    // Chunked: PostgreSQL caps a statement at 65,535 parameters.
    for (let i = 0; i < events.length; i += 1000) {
      await repository.insert(events.slice(i, i + 1000).map((e) => repository.create(e)) as never);
    }
  }

  /** Newest first. */
  list(
    organizationId: string,
    filter: { action?: string; targetId?: string },
    cursor: Cursor | null,
    take: number,
  ) {
    const query = this.dataSource
      .getRepository(AuditEventEntity)
      .createQueryBuilder('e')
      .where('e.organization_id = :organizationId', { organizationId })
      .orderBy('e.created_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .take(take);
    if (filter.action) query.andWhere('e.action = :action', { action: filter.action });
    if (filter.targetId) query.andWhere('e.target_id = :targetId', { targetId: filter.targetId });
    if (cursor) query.andWhere('(e.created_at, e.id) < (:createdAt, :id)', cursor);
    return query.getMany();
  }
}
