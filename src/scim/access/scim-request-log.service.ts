import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { DeepPartial } from 'typeorm';
import { decodeCursor, toPage } from '../../common/pagination.js';
import type { ScimRequestEntity } from './entities/scim-request.entity.js';
import { type ScimRequestFilter, ScimRequestLogRepository } from './scim-request-log.repository.js';

/** How long the provisioning log keeps an entry. */
export const SCIM_LOG_RETENTION_DAYS = 30;
/** A replica prunes the log at most this often, from the write path (no scheduler needed). */
const PRUNE_EVERY_MS = 60 * 60_000;
const PRUNE_BATCH = 10_000;
/** More entries than this waiting to be written means the database is not keeping up: drop, and say so. */
const MAX_BUFFERED = 5_000;

/**
 * Writes the provisioning log off the request path: entries that arrive together are written in one statement
 * right after the responses went out, so a burst of Entra requests costs one INSERT per batch rather than one
 * per request. Readers of the log call `flush()` first, so what this replica answered is always in it.
 */
@Injectable()
export class ScimRequestLogService implements OnApplicationShutdown {
  private readonly logger = new Logger(ScimRequestLogService.name);
  private buffer: DeepPartial<ScimRequestEntity>[] = [];
  /** Entries still being completed (the owner of a token refused before authentication is looked up). */
  private readonly completing = new Set<Promise<unknown>>();
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;
  private prunedAt = 0;

  constructor(private readonly repository: ScimRequestLogRepository) {}

  record(entry: DeepPartial<ScimRequestEntity> | Promise<DeepPartial<ScimRequestEntity> | null>): void {
    if (entry instanceof Promise) {
      const completing = entry
        .then((row) => row && this.record(row))
        .catch((error: unknown) => this.logger.warn(`provisioning log entry lost: ${String(error)}`))
        .finally(() => this.completing.delete(completing));
      this.completing.add(completing);
      return;
    }
    if (this.buffer.length >= MAX_BUFFERED) {
      this.logger.warn('provisioning log entry dropped: the database is not keeping up');
      return;
    }
    this.buffer.push(entry);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Resolves once every entry recorded so far is written (or its write failed and was logged). */
  async flush(): Promise<void> {
    await Promise.all([...this.completing]);
    const rows = this.buffer;
    this.buffer = [];
    this.writing = this.writing.then(() => this.write(rows));
    return this.writing;
  }

  async list(organizationId: string, query: ScimRequestFilter & { limit?: number; cursor?: string }) {
    await this.flush();
    const limit = query.limit ?? 50;
    const rows = await this.repository.list(organizationId, query, decodeCursor(query.cursor), limit + 1);
    return toPage(rows, limit);
  }

  /** The newest request of the organization and its newest failed one. */
  async latest(organizationId: string) {
    await this.flush();
    const [request, error] = await Promise.all([
      this.repository.latest(organizationId, false),
      this.repository.latest(organizationId, true),
    ]);
    return { request, error };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  private async write(rows: DeepPartial<ScimRequestEntity>[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.repository.insertAcrossOrganizations(rows);
    } catch (error) {
      this.logger.warn(`could not write ${rows.length} provisioning log entries: ${String(error)}`);
    }
    if (Date.now() - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = Date.now();
    try {
      let removed = 0;
      for (let round = 0; round < 100; round++) {
        const batch = await this.repository.pruneAcrossOrganizations(SCIM_LOG_RETENTION_DAYS, PRUNE_BATCH);
        removed += batch;
        if (batch < PRUNE_BATCH) break;
      }
      if (removed) this.logger.log(`pruned ${removed} provisioning log entries older than 30 days`);
    } catch (error) {
      this.logger.warn(`could not prune the provisioning log: ${String(error)}`);
    }
  }
}
