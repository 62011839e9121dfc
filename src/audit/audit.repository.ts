import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { Cursor } from '../common/pagination.js';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import type { WriteBatch } from '../database/write-batch.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';

/** The columns an audit event is written with (`id` and `created_at` are the table's defaults). */
export type AuditRow = Pick<
  AuditEventEntity,
  | 'organizationId'
  | 'actorType'
  | 'actorId'
  | 'action'
  | 'targetType'
  | 'targetId'
  | 'before'
  | 'after'
  | 'requestId'
>;

const json = (value: Record<string, unknown> | null) => (value === null ? null : JSON.stringify(value));

@Injectable()
export class AuditRepository {
  private readonly events: OrganizationScopedRepository<AuditEventEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.events = new OrganizationScopedRepository(AuditEventEntity, () => this.txHost.tx);
  }

  /**
   * Appends events of any organization, or of none (system events): an append-only trail written by the
   * service for whichever organization each event names, so this insert spans organizations by design.
   */
  async insertManyAcrossOrganizations(events: Partial<AuditEventEntity>[]): Promise<void> {
    const repository = this.events.acrossOrganizations();
    // Chunked: PostgreSQL caps a statement at 65,535 parameters.
    for (let i = 0; i < events.length; i += 1000) {
      await repository.insert(events.slice(i, i + 1000).map((e) => repository.create(e)) as never);
    }
  }

  /** Adds the insert of these events to a batch of the current transaction's writes (one statement). */
  addInserts(batch: WriteBatch, rows: AuditRow[]): void {
    if (rows.length === 0) return;
    const values = rows.map(
      (r) =>
        `(${batch.param(r.organizationId, 'uuid')}, ${batch.param(r.actorType, 'audit_actor_type')}, ` +
        `${batch.param(r.actorId, 'uuid')}, ${batch.param(r.action, 'text')}, ${batch.param(r.targetType, 'text')}, ` +
        `${batch.param(r.targetId, 'text')}, ${batch.param(json(r.before), 'jsonb')}, ` +
        `${batch.param(json(r.after), 'jsonb')}, ${batch.param(r.requestId, 'text')})`,
    );
    batch.add(
      'audit',
      `INSERT INTO audit_events (organization_id, actor_type, actor_id, action, target_type, target_id, before, after, request_id)
       VALUES ${values.join(', ')}`,
    );
  }

  /** Newest first. */
  list(
    organizationId: string,
    filter: { action?: string; targetId?: string },
    cursor: Cursor | null,
    take: number,
  ) {
    const query = this.events
      .queryBuilder(organizationId, 'e')
      .orderBy('e.created_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .take(take);
    if (filter.action) query.andWhere('e.action = :action', { action: filter.action });
    if (filter.targetId) query.andWhere('e.target_id = :targetId', { targetId: filter.targetId });
    if (cursor) query.andWhere('(e.created_at, e.id) < (:createdAt, :id)', cursor);
    return query.getMany();
  }
}
