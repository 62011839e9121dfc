import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { type EventDto, toEventResponse } from './dto/event.dto.js';
import type { EventType } from './event-types.js';
import { InvalidEventCursorError } from './events.errors.js';
import { EventsRepository } from './events.repository.js';

export const EVENT_RETENTION_DAYS = 30;
const RETENTION_EVERY_MS = 60 * 60_000;

/** An event just recorded, as consumers see it: its organization and its envelope. */
export interface RecordedEvent {
  organizationId: string;
  envelope: EventDto;
}

/** Runs inside the transaction that records the events (the webhooks fan them out to their deliveries). */
export type RecordedEventsListener = (events: RecordedEvent[]) => Promise<void>;

export function encodeEventCursor(seq: string): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

export function decodeEventCursor(cursor: string | undefined): string | null {
  if (!cursor) return null;
  const match = /^seq:([1-9]\d{0,17})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new InvalidEventCursorError();
  return match[1];
}

/**
 * The transactional outbox. `record` is the one entry point for every module: call it inside the transaction
 * that makes the change (it joins it, or opens one), so an event exists exactly when its change does.
 */
@Injectable()
export class EventsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(EventsService.name);
  private readonly listeners: RecordedEventsListener[] = [];
  private retention: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: EventsRepository,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
  ) {}

  /** Records one event of the organization, in the current transaction. `data` is built by REST mappers. */
  async record(organizationId: string, type: EventType, data: Record<string, unknown>): Promise<void> {
    await this.recordMany(organizationId, [{ type, data }]);
  }

  /** Records several events of one organization at once (a directory sync's deactivations). */
  async recordMany(
    organizationId: string,
    events: { type: EventType; data: Record<string, unknown> }[],
  ): Promise<void> {
    if (events.length === 0) return;
    await this.txHost.withTransaction(async () => {
      const recorded = (await this.repository.insert(organizationId, events)).map((event) => ({
        organizationId,
        envelope: toEventResponse(event),
      }));
      for (const listener of this.listeners) await listener(recorded);
    });
  }

  /** Registers a listener that runs in the recording transaction (one per consumer, at start-up). */
  onRecorded(listener: RecordedEventsListener): void {
    this.listeners.push(listener);
  }

  /** The organization's events after the cursor, oldest first. */
  async list(organizationId: string, query: { after?: string; types?: string[]; limit?: number }) {
    const limit = query.limit ?? 100;
    const afterSeq = decodeEventCursor(query.after);
    const rows = await this.repository.list(organizationId, {
      afterSeq,
      types: query.types ?? [],
      retentionDays: EVENT_RETENTION_DAYS,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1)?.seq ?? afterSeq;
    return { items, nextCursor: last ? encodeEventCursor(last) : null, hasMore: rows.length > limit };
  }

  onModuleInit(): void {
    // Idempotent, so every replica may run it; the index on created_at keeps it cheap.
    this.retention = setInterval(() => void this.applyRetention(), RETENTION_EVERY_MS);
    this.retention.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.retention);
  }

  /** Deletes events older than the retention window. */
  async applyRetention(): Promise<number> {
    try {
      return await this.repository.deleteOlderThan(EVENT_RETENTION_DAYS);
    } catch (error) {
      this.logger.warn(`event retention failed: ${String(error)}`);
      return 0;
    }
  }
}
