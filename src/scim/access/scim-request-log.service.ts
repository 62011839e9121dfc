import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { decodeCursor, toPage } from '../../common/pagination.js';
import {
  type ScimRequestFilter,
  ScimRequestLogRepository,
  type ScimRequestRow,
} from './scim-request-log.repository.js';

/** How long the provisioning log keeps an entry. */
export const SCIM_LOG_RETENTION_DAYS = 30;
/** Entries wait at most this long before they are written, in one statement with everything that came meanwhile. */
export const SCIM_LOG_FLUSH_EVERY_MS = 1_000;
/** A batch this large is written at once, without waiting for the timer. */
const FLUSH_AT = 500;
/** A replica prunes the log at most this often, from the write path (no scheduler needed). */
const PRUNE_EVERY_MS = 60 * 60_000;
const PRUNE_BATCH = 10_000;
/**
 * More entries than this waiting (the database is down or not keeping up): the oldest successful read goes
 * first, so failures and writes are the last to be lost.
 */
const MAX_BUFFERED = 5_000;

/** A successful GET: what the log can best spare when it must drop something. */
const isSpareable = (row: ScimRequestRow) => row.method === 'GET' && row.status < 400;

/** SQLSTATE classes of errors a row itself causes (bad data, a constraint: its organization was deleted). */
const rowError = (error: unknown) =>
  /^(22|23)/.test(String((error as { code?: unknown } | null)?.code ?? ''));

/**
 * Writes the provisioning log off the request path: entries are buffered and written together, one statement
 * a second (or per 500 entries), so a busy Entra job costs one INSERT a second rather than one per request,
 * and a response never waits for its log entry. Every request is logged (reads too). Nothing is lost on the
 * way: a batch the database refuses is kept and written again on the next round (a row that can never be
 * written — its organization was deleted meanwhile — is dropped alone), the buffer is flushed on shutdown, and
 * only beyond 5,000 waiting entries are successful reads dropped, oldest first, then the oldest of the rest.
 * Readers of the log call `flush()` first, so what this replica answered is always in it; another replica's
 * entries appear within a second.
 */
@Injectable()
export class ScimRequestLogService implements OnApplicationShutdown {
  private readonly logger = new Logger(ScimRequestLogService.name);
  private buffer: ScimRequestRow[] = [];
  /** Entries still being completed (the owner of a token refused before authentication is looked up). */
  private readonly completing = new Set<Promise<unknown>>();
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** A write is under way, or the last one failed: only the timer writes then (once a second, not per request). */
  private holding = false;
  private dropped = 0;
  private prunedAt = 0;

  constructor(private readonly repository: ScimRequestLogRepository) {}

  record(entry: ScimRequestRow | Promise<ScimRequestRow | null>): void {
    if (entry instanceof Promise) {
      const completing = entry
        .then((row) => row && this.record(row))
        .catch((error: unknown) => this.logger.warn(`provisioning log entry lost: ${String(error)}`))
        .finally(() => this.completing.delete(completing));
      this.completing.add(completing);
      return;
    }
    this.buffer.push(entry);
    this.bound();
    if (this.buffer.length >= FLUSH_AT && !this.holding) void this.flush();
    else this.schedule();
  }

  /** Resolves once every entry recorded so far is written (or kept for the next round, and its failure logged). */
  async flush(): Promise<void> {
    await Promise.all([...this.completing]);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.buffer;
    this.buffer = [];
    this.holding = true;
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
    if (this.buffer.length)
      this.logger.warn(`${this.buffer.length} provisioning log entries could not be written before shutdown`);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer || this.buffer.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, SCIM_LOG_FLUSH_EVERY_MS);
    // A waiting batch never keeps the process alive; shutdown flushes it.
    this.timer.unref();
  }

  /** Keeps the buffer within MAX_BUFFERED: successful reads go first, oldest first. */
  private bound(): void {
    const excess = this.buffer.length - MAX_BUFFERED;
    if (excess <= 0) return;
    let spare = excess;
    const kept = this.buffer.filter((row) => !(spare > 0 && isSpareable(row) && spare--));
    this.buffer = kept.slice(kept.length - MAX_BUFFERED);
    this.dropped += excess;
  }

  private async write(rows: ScimRequestRow[]): Promise<void> {
    if (this.dropped) {
      this.logger.warn(`${this.dropped} provisioning log entries dropped: the database is not keeping up`);
      this.dropped = 0;
    }
    const unwritten = rows.length > 0 ? await this.insert(rows) : [];
    this.holding = unwritten.length > 0;
    if (unwritten.length) {
      // Before what arrived meanwhile, so the next round writes them first.
      this.buffer = [...unwritten, ...this.buffer];
      this.bound();
    }
    this.schedule();
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

  /** Writes `rows`; returns those to try again (the database was unavailable). */
  private async insert(rows: ScimRequestRow[]): Promise<ScimRequestRow[]> {
    try {
      await this.repository.insertAcrossOrganizations(rows);
      return [];
    } catch (error) {
      if (!rowError(error)) {
        this.logger.warn(
          `could not write ${rows.length} provisioning log entries, trying again: ${String(error)}`,
        );
        return rows;
      }
    }
    // A row the database refuses must not take the others with it: one at a time, and only it is dropped.
    const unwritten: ScimRequestRow[] = [];
    for (const row of rows) {
      try {
        await this.repository.insertAcrossOrganizations([row]);
      } catch (error) {
        if (!rowError(error)) unwritten.push(row);
        else this.logger.warn(`provisioning log entry dropped, the database refuses it: ${String(error)}`);
      }
    }
    return unwritten;
  }
}
