import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Cursor } from '../common/pagination.js';
import type { Tx } from '../common/transaction.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';

@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(event: Partial<AuditEventEntity>, tx?: Tx): Promise<void> {
    const repository = (tx ?? this.dataSource.manager).getRepository(AuditEventEntity);
    await repository.save(repository.create(event));
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
