import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { WriteBatch } from '../database/write-batch.js';
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

/**
 * A consumer of recorded events, run inside the transaction that records them (the webhooks fan them out to
 * their deliveries). What it needs to read for that (the organization's endpoints) it may add to the statement
 * that inserts the events (`readAlong`, returning the part's name): no round trip of its own per recording.
 */
export interface RecordedEventsListener {
  readAlong?(batch: WriteBatch, organizationId: string): string;
  consume(events: RecordedEvent[], readAlong: Record<string, unknown>[]): Promise<void>;
}

/** Recording events within a batch of writes: run it once the batch ran, with the batch's result. */
export type PublishRecorded = (result: Record<string, Record<string, unknown>[]>) => Promise<void>;

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
      const batch = this.repository.batch();
      const publish = this.addToBatch(batch, organizationId, events);
      await publish(await batch.run(this.txHost.tx));
    });
  }

  /**
   * Records events of one organization as part of a batch of the transaction's writes (the change they
   * describe and its audit events, in one statement): the caller runs the batch, then the returned step, which
   * hands the events to the consumers, in the same transaction. Outside a transaction the caller opens one.
   */
  addToBatch(
    batch: WriteBatch,
    organizationId: string,
    events: { type: EventType; data: Record<string, unknown> }[],
  ): PublishRecorded {
    if (events.length === 0) return () => Promise.resolve();
    const inserted = this.repository.addInsert(batch, organizationId, events);
    const reads = this.listeners.map((listener) => listener.readAlong?.(batch, organizationId));
    return async (result) => {
      const recorded = inserted(result).map((event) => ({
        organizationId,
        envelope: toEventResponse(event),
      }));
      for (const [i, listener] of this.listeners.entries()) {
        const read = reads[i];
        await listener.consume(recorded, read ? (result[read] ?? []) : []);
      }
    };
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
