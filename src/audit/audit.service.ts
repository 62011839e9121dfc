import { Injectable } from '@nestjs/common';
import { decodeCursor, toPage } from '../common/pagination.js';
import { currentRequestId } from '../common/request-context.js';
import type { WriteBatch } from '../database/write-batch.js';
import { AuditRepository, type AuditRow } from './audit.repository.js';
import type { ActorType } from './entities/audit-event.entity.js';

export interface AuditActor {
  type: ActorType;
  id: string | null;
}

export const SYSTEM_ACTOR: AuditActor = { type: 'system', id: null };

export interface AuditRecord {
  organizationId: string | null;
  actor: AuditActor;
  action: string;
  target?: { type: string; id: string };
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

@Injectable()
export class AuditService {
  constructor(private readonly repository: AuditRepository) {}

  /**
   * Appends one event, in the caller's transaction (if any) so it commits with the change it describes.
   */
  async record(event: AuditRecord): Promise<void> {
    await this.recordMany([event]);
  }

  /** Appends several events in one statement (bulk operations such as a directory sync). */
  async recordMany(events: AuditRecord[]): Promise<void> {
    if (events.length === 0) return;
    await this.repository.insertManyAcrossOrganizations(rowsOf(events));
  }

  /**
   * Appends events as part of a batch of the transaction's writes (the change they describe and its outbox
   * events, in one statement): they commit with it, exactly like `record`.
   */
  addToBatch(batch: WriteBatch, events: AuditRecord[]): void {
    this.repository.addInserts(batch, rowsOf(events));
  }

  async list(
    organizationId: string,
    query: { limit?: number; cursor?: string; action?: string; targetId?: string },
  ) {
    const limit = query.limit ?? 50;
    const rows = await this.repository.list(organizationId, query, decodeCursor(query.cursor), limit + 1);
    return toPage(rows, limit);
  }
}

function rowsOf(events: AuditRecord[]): AuditRow[] {
  const requestId = currentRequestId();
  return events.map((event) => ({
    organizationId: event.organizationId,
    actorType: event.actor.type,
    actorId: event.actor.id,
    action: event.action,
    targetType: event.target?.type ?? null,
    targetId: event.target?.id ?? null,
    before: event.before ?? null,
    after: event.after ?? null,
    requestId: requestId ?? null,
  }));
}
