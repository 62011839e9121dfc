import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { isUniqueViolation } from '../common/database-errors.js';
import { decodeCursor, decodeSequenceCursor, encodeSequenceCursor, toPage } from '../common/pagination.js';
import type { Principal } from '../common/principal.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { EntraReauthorizationRequiredError } from '../integrations/integrations.errors.js';
import { IntegrationsService } from '../integrations/integrations.service.js';
import { GraphRequestError } from '../microsoft/microsoft.errors.js';
import { DeprovisioningRepository } from './deprovisioning.repository.js';
import {
  DeprovisioningDisabledError,
  SyncFailure,
  SyncInProgressError,
  SyncRunNotAwaitingApprovalError,
  SyncRunNotFoundError,
} from './deprovisioning.errors.js';
import type { SyncOutcome } from './entities/sync-run-outcome.entity.js';
import type { SyncRunEntity } from './entities/sync-run.entity.js';
import { SyncEngine, SyncInterrupted } from './sync-engine.service.js';

/** A run whose worker sent no heartbeat for this long is considered dead. */
const ABANDONED_AFTER_MS = 2 * 60_000;
const HEARTBEAT_MS = 15_000;

/**
 * The sync queue on PostgreSQL: triggers insert runs (a partial unique index keeps one queued-or-running
 * run per organization, across replicas), every replica's worker claims queued runs with SKIP LOCKED,
 * heartbeats while running, and fails runs whose worker died.
 */
@Injectable()
export class SyncRunsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SyncRunsService.name);
  private readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: DeprovisioningRepository,
    private readonly engine: SyncEngine,
    private readonly integrations: IntegrationsService,
    private readonly audit: AuditService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.sync.workerEnabled) return;
    this.timer = setInterval(() => this.kick(), this.config.sync.pollIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Before the database closes: stop claiming runs and let the current one end (as INTERRUPTED) cleanly. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.draining;
  }

  /** "Sync now": queues a run (202), or SYNC_IN_PROGRESS naming the run already queued or running. */
  async requestSync(principal: Principal, dryRun: boolean): Promise<SyncRunEntity> {
    const connection = await this.integrations.requireConnection(principal.organizationId);
    if (!connection.healthy) throw new EntraReauthorizationRequiredError();
    if (!dryRun && !connection.autoDeprovisionSyncEnabled) throw new DeprovisioningDisabledError();
    const run = await this.enqueue({
      organizationId: principal.organizationId,
      tenantId: connection.tenantId,
      trigger: 'manual',
      dryRun,
      requestedByUserId: principal.userId,
    });
    if (!run) {
      const active = await this.repository.findActiveRun(principal.organizationId);
      throw new SyncInProgressError(active?.id ?? 'unknown');
    }
    await this.audit.record({
      organizationId: principal.organizationId,
      actor: { type: 'user', id: principal.userId },
      action: 'sync.requested',
      target: { type: 'sync_run', id: run.id },
      after: { dryRun },
    });
    this.kick();
    return run;
  }

  /** The nightly trigger: one run per eligible organization and schedule slot, however many replicas fire. */
  async enqueueScheduled(slot: string): Promise<number> {
    let queued = 0;
    for (const connection of await this.integrations.listSyncEnabled()) {
      const run = await this.enqueue({
        organizationId: connection.organizationId,
        tenantId: connection.tenantId,
        trigger: 'schedule',
        scheduleSlot: slot,
        dryRun: false,
      });
      if (run) queued++;
    }
    this.kick();
    return queued;
  }

  async list(organizationId: string, query: { limit?: number; cursor?: string }) {
    const limit = query.limit ?? 20;
    const rows = await this.repository.listRuns(organizationId, decodeCursor(query.cursor), limit + 1);
    return toPage(rows, limit);
  }

  async get(organizationId: string, id: string): Promise<SyncRunEntity> {
    const run = await this.repository.findRun(organizationId, id);
    if (!run) throw new SyncRunNotFoundError();
    return run;
  }

  async outcomes(
    organizationId: string,
    id: string,
    query: { outcome?: SyncOutcome; limit?: number; cursor?: string },
  ) {
    const run = await this.get(organizationId, id);
    const limit = query.limit ?? 50;
    const after = query.cursor ? decodeSequenceCursor(query.cursor) : null;
    const rows = await this.repository.outcomesPage(run.id, query.outcome, after, limit + 1);
    const items = rows.slice(0, limit);
    return {
      items,
      nextCursor: rows.length > limit ? encodeSequenceCursor(items[items.length - 1].id) : null,
    };
  }

  /** Applies a plan held back by the safety threshold, re-checking every user first. */
  async approve(principal: Principal, id: string): Promise<SyncRunEntity> {
    const run = await this.get(principal.organizationId, id);
    let claimed: boolean;
    try {
      claimed = await this.repository.transitionRun(run.id, 'awaiting_approval', {
        status: 'running',
        decidedByUserId: principal.userId,
      });
    } catch (error) {
      // Another run of the organization is queued or running: apply this plan after it.
      if (isUniqueViolation(error)) {
        throw new SyncInProgressError(
          (await this.repository.findActiveRun(principal.organizationId))?.id ?? 'unknown',
        );
      }
      throw error;
    }
    if (!claimed) throw new SyncRunNotAwaitingApprovalError(run.status);
    await this.audit.record({
      organizationId: principal.organizationId,
      actor: { type: 'user', id: principal.userId },
      action: 'sync.approved',
      target: { type: 'sync_run', id: run.id },
      after: { planned: run.countPlanned },
    });
    try {
      const applied = await this.engine.applyApprovedPlan(run);
      if (run.deltaLink)
        await this.repository.saveState(
          run.organizationId,
          run.tenantId,
          run.deltaLink,
          run.startedAt ?? new Date(),
        );
      await this.repository.updateRun(run.id, {
        status: 'succeeded',
        countDeactivated: applied.deactivated,
        countErrors: applied.errors,
        lastOwnerDeactivated: applied.lastOwnerDeactivated,
        finishedAt: new Date(),
      });
    } catch (error) {
      await this.fail(run, error);
    }
    return this.get(principal.organizationId, id);
  }

  async reject(principal: Principal, id: string): Promise<SyncRunEntity> {
    const run = await this.get(principal.organizationId, id);
    if (
      !(await this.repository.transitionRun(run.id, 'awaiting_approval', {
        status: 'rejected',
        decidedByUserId: principal.userId,
      }))
    ) {
      throw new SyncRunNotAwaitingApprovalError(run.status);
    }
    await this.repository.skipPlanned(run.id, 'plan rejected');
    await this.audit.record({
      organizationId: principal.organizationId,
      actor: { type: 'user', id: principal.userId },
      action: 'sync.rejected',
      target: { type: 'sync_run', id: run.id },
      after: { planned: run.countPlanned },
    });
    return this.get(principal.organizationId, id);
  }

  /** Runs queued work in this process until none is left (one run at a time per process). */
  kick(): void {
    if (!this.config.sync.workerEnabled || this.stopping || this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    try {
      await this.repository.failAbandonedRuns(new Date(Date.now() - ABANDONED_AFTER_MS));
      while (!this.stopping) {
        const run = await this.repository.claimNextRun(this.workerId);
        if (!run) return;
        await this.runOne(run);
      }
    } catch (error) {
      this.logger.error(
        `sync worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    }
  }

  private async runOne(run: SyncRunEntity): Promise<void> {
    const heartbeat = setInterval(
      () => void this.repository.updateRun(run.id, {}).catch(() => undefined),
      HEARTBEAT_MS,
    );
    try {
      this.logger.log(
        `sync ${run.id} of ${run.organizationId} started (${run.trigger}${run.dryRun ? ', dry run' : ''})`,
      );
      await this.engine.execute(run, () => this.stopping);
      this.logger.log(`sync ${run.id} finished`);
    } catch (error) {
      await this.fail(run, error);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async fail(run: SyncRunEntity, error: unknown): Promise<void> {
    const { code, message } = describeFailure(error);
    if (code === 'INTERNAL_ERROR')
      this.logger.error(`sync ${run.id} failed: ${error instanceof Error ? error.stack : String(error)}`);
    else this.logger.warn(`sync ${run.id} failed: ${code}: ${message}`);
    await this.repository.updateRun(run.id, {
      status: 'failed',
      errorCode: code,
      errorMessage: message,
      finishedAt: new Date(),
    });
  }

  private async enqueue(values: Partial<SyncRunEntity>): Promise<SyncRunEntity | null> {
    try {
      return await this.repository.createRun({ ...values, status: 'queued' });
    } catch (error) {
      if (isUniqueViolation(error)) return null; // one already queued/running, or this slot done
      throw error;
    }
  }
}

function describeFailure(error: unknown): { code: string; message: string } {
  if (error instanceof SyncFailure) return { code: error.code, message: error.message };
  if (error instanceof EntraReauthorizationRequiredError) return { code: error.code, message: error.message };
  if (error instanceof SyncInterrupted)
    return { code: 'INTERRUPTED', message: 'The service shut down during the run; nothing was applied.' };
  if (error instanceof GraphRequestError) {
    return {
      code: 'DIRECTORY_UNAVAILABLE',
      message: `The directory could not be read completely (Graph ${error.status || 'no response'} ${error.graphCode}); nobody was deactivated.`,
    };
  }
  return {
    code: 'INTERNAL_ERROR',
    message: 'The run failed unexpectedly; nobody was deactivated by its failed step.',
  };
}
