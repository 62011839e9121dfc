import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsService } from 'nestjs-cls';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { toSyncRunResponse } from './dto/sync-run.dto.js';
import { EventsService } from '../events/events.service.js';
import { AuditService } from '../audit/audit.service.js';
import { decodeCursor, decodeSequenceCursor, encodeSequenceCursor, toPage } from '../common/pagination.js';
import type { Principal } from '../common/principal.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { EntraReauthorizationRequiredError } from '../integrations/integrations.errors.js';
import { EntraConnectionService } from '../integrations/entra-connection.service.js';
import { SYNC_RUN_CHANGED, type SyncRunChangedEvent } from '../integrations/sync-summary.port.js';
import { GraphRequestError } from '../microsoft/microsoft.errors.js';
import { DeprovisioningRepository, type RunCondition } from './deprovisioning.repository.js';
import {
  DeprovisioningDisabledError,
  SyncFailure,
  SyncInProgressError,
  SyncRunNotAwaitingApprovalError,
  SyncRunNotFoundError,
  type SyncRunFailureCode,
} from './deprovisioning.errors.js';
import type { SyncOutcome } from './entities/sync-run-outcome.entity.js';
import type { SyncRunEntity } from './entities/sync-run.entity.js';
import { type RunEnd, SyncEngine, SyncInterrupted } from './sync-engine.service.js';
import { databaseOutage } from '../common/database-errors.js';

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
  private orphansSweptAt = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: DeprovisioningRepository,
    private readonly engine: SyncEngine,
    private readonly integrations: EntraConnectionService,
    private readonly audit: AuditService,
    private readonly outbox: EventsService,
    private readonly events: EventEmitter2,
    private readonly cls: ClsService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
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
    const run = await this.enqueue(principal.organizationId, {
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
      actor: principal.actor,
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
      const run = await this.enqueue(connection.organizationId, {
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

  /**
   * Approves a plan held back by the safety threshold: the run goes back to the queue (202) and a worker
   * applies the stored plan under its heartbeat, re-checking every user first. While it waits or runs, the
   * organization's active run is this one (SYNC_IN_PROGRESS for any other).
   */
  async approve(principal: Principal, id: string): Promise<SyncRunEntity> {
    const run = await this.get(principal.organizationId, id);
    // Another run of the organization queued or running refuses it (SYNC_IN_PROGRESS): approve after that one.
    const queued = await this.repository.transitionRun(run, 'awaiting_approval', {
      status: 'queued',
      decidedByUserId: principal.userId,
      approvedAt: new Date(),
      finishedAt: null,
    });
    if (!queued) throw new SyncRunNotAwaitingApprovalError(run.status);
    await this.audit.record({
      organizationId: principal.organizationId,
      actor: principal.actor,
      action: 'sync.approved',
      target: { type: 'sync_run', id: run.id },
      after: { planned: run.countPlanned },
    });
    const approved = await this.get(principal.organizationId, id);
    await this.publish(approved);
    this.kick();
    return approved;
  }

  /** Discards a plan held back by the safety threshold. */
  async reject(principal: Principal, id: string): Promise<SyncRunEntity> {
    const run = await this.get(principal.organizationId, id);
    if (
      !(await this.repository.transitionRun(run, 'awaiting_approval', {
        status: 'rejected',
        decidedByUserId: principal.userId,
      }))
    ) {
      throw new SyncRunNotAwaitingApprovalError(run.status);
    }
    await this.repository.skipPlanned(run.id, 'plan rejected');
    await this.audit.record({
      organizationId: principal.organizationId,
      actor: principal.actor,
      action: 'sync.rejected',
      target: { type: 'sync_run', id: run.id },
      after: { planned: run.countPlanned },
    });
    const rejected = await this.get(principal.organizationId, id);
    await this.publish(rejected);
    return rejected;
  }

  /** Runs queued work in this process until none is left (one run at a time per process). */
  kick(): void {
    if (!this.config.sync.workerEnabled || this.stopping || this.draining) return;
    // A context of its own: kicked from a request, the worker must not carry that request's context (or a
    // transaction it might be in) into the runs it drains afterwards.
    this.draining = this.cls
      .run({ ifNested: 'override' }, () => this.drain())
      .finally(() => {
        this.draining = undefined;
      });
  }

  private async drain(): Promise<void> {
    try {
      await this.sweepAbandonedRuns();
      while (!this.stopping) {
        const run = await this.repository.claimNextRunAcrossOrganizations(this.workerId);
        if (!run) return;
        await this.publish(run);
        await this.runOne(run);
      }
    } catch (error) {
      // PostgreSQL away (down, restarting, cut off): the next poll tries again, so one line says so.
      const outage = databaseOutage(error);
      if (outage)
        this.logger.warn(`sync worker: the database is unavailable (${outage}); retrying at the next poll`);
      else
        this.logger.error(
          `sync worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
    }
  }

  /** Runs whose worker stopped sending heartbeats (the process died) end as failed, never "running" forever. */
  private async sweepAbandonedRuns(): Promise<void> {
    const staleBefore = new Date(Date.now() - ABANDONED_AFTER_MS);
    // A seen set outlives its run only when a worker died between ending the run and dropping it: rare, so
    // looked for once per abandonment period rather than at every poll.
    if (Date.now() - this.orphansSweptAt >= ABANDONED_AFTER_MS) {
      this.orphansSweptAt = Date.now();
      await this.engine.forgetRoundsExcept(await this.repository.runningRunIdsAcrossOrganizations());
    }
    for (const run of await this.repository.findAbandonedRunsAcrossOrganizations(staleBefore)) {
      await this.finish(
        run,
        {
          status: 'failed',
          errorCode: 'WORKER_LOST',
          errorMessage:
            'The process running this sync stopped before finishing; nothing after its last step was applied.',
        },
        // Only if it is still running with a stale heartbeat: its worker may have finished it meanwhile.
        { heartbeatBefore: staleBefore },
      );
    }
  }

  private async runOne(run: SyncRunEntity): Promise<void> {
    const heartbeat = setInterval(
      () => void this.repository.touchRun(run, this.workerId).catch(() => undefined),
      HEARTBEAT_MS,
    );
    const shouldStop = () => this.stopping;
    const approved = run.approvedAt !== null;
    let end: RunEnd;
    try {
      this.logger.log(
        `sync ${run.id} of ${run.organizationId} started (${approved ? 'approved plan' : run.trigger}${run.dryRun ? ', dry run' : ''})`,
      );
      end = approved
        ? await this.engine.applyApprovedPlan(run, shouldStop)
        : await this.engine.execute(run, shouldStop);
    } catch (error) {
      end = this.failure(run, error);
    }
    try {
      await this.finish(run, end, { workerId: this.workerId });
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * Finishing a run, written once for every way a run ends (succeeded, held for approval, failed, interrupted,
   * worker lost): one transaction holds the conditional update from `running` (so a run ended elsewhere is
   * never overwritten), the delta state, the audit event and the `sync.*` event of the outbox, so a run never
   * shows as ended without its event, nor an event for an end that rolled back. The summary for the integration
   * status follows after the commit. Returns whether this call ended the run.
   */
  private async finish(run: SyncRunEntity, end: RunEnd, also: RunCondition): Promise<boolean> {
    const values: Partial<SyncRunEntity> =
      end.status === 'failed'
        ? { status: 'failed', errorCode: end.errorCode, errorMessage: end.errorMessage }
        : { ...end.values, status: end.status };
    const finished = await this.txHost.withTransaction(async () => {
      const ended = await this.repository.transitionRun(
        run,
        'running',
        { ...values, finishedAt: new Date() },
        also,
      );
      if (!ended) return null;
      // However the run ended, its round is over: its seen set goes (the sweeper catches a crashed worker's).
      await this.engine.forgetRound(run.id);
      if (end.status === 'succeeded' && end.advanceDeltaLink) {
        await this.repository.saveState(
          run.organizationId,
          run.tenantId,
          end.advanceDeltaLink,
          run.startedAt ?? new Date(),
        );
      }
      const after = await this.get(run.organizationId, run.id);
      await this.audit.record({
        organizationId: run.organizationId,
        actor: { type: 'system', id: null },
        action: end.status === 'awaiting_approval' ? 'sync.awaiting_approval' : 'sync.finished',
        target: { type: 'sync_run', id: run.id },
        after:
          end.status === 'awaiting_approval'
            ? { planned: after.countPlanned, limit: end.limit }
            : {
                status: after.status,
                errorCode: after.errorCode,
                deactivated: after.countDeactivated,
                errors: after.countErrors,
              },
      });
      await this.outbox.record(
        run.organizationId,
        `sync.${after.status === 'succeeded' || after.status === 'awaiting_approval' ? after.status : 'failed'}`,
        { run: toSyncRunResponse(after), source: 'sync' },
      );
      return after;
    });
    if (!finished) {
      this.logger.warn(`sync ${run.id} was not ended as ${end.status}: it is no longer running here`);
      return false;
    }
    await this.publish(finished);
    this.logger.log(
      `sync ${run.id} ended: ${finished.status}${finished.errorCode ? ` (${finished.errorCode})` : ''}`,
    );
    return true;
  }

  private failure(run: SyncRunEntity, error: unknown): RunEnd {
    const { code, message } = describeFailure(error);
    if (code === 'INTERNAL_ERROR')
      this.logger.error(`sync ${run.id} failed: ${error instanceof Error ? error.stack : String(error)}`);
    else this.logger.warn(`sync ${run.id} failed: ${code}: ${message}`);
    return { status: 'failed', errorCode: code, errorMessage: message };
  }

  /** Tells the integration status the run's new state; a failed listener never fails the run. */
  private async publish(run: SyncRunEntity): Promise<void> {
    const event: SyncRunChangedEvent = {
      organizationId: run.organizationId,
      runCreatedAt: run.createdAt.toISOString(),
      summary: {
        runId: run.id,
        trigger: run.trigger,
        dryRun: run.dryRun,
        status: run.status,
        startedAt: run.startedAt?.toISOString() ?? null,
        finishedAt: run.finishedAt?.toISOString() ?? null,
        deactivated: run.countDeactivated,
        planned: run.countPlanned,
        errorCode: run.errorCode,
      },
    };
    try {
      await this.events.emitAsync(SYNC_RUN_CHANGED, event);
    } catch (error) {
      this.logger.error(`sync ${run.id}: the run summary was not published: ${String(error)}`);
    }
  }

  private async enqueue(
    organizationId: string,
    values: Partial<SyncRunEntity>,
  ): Promise<SyncRunEntity | null> {
    const run = await this.repository.enqueueRun(organizationId, values);
    if (!run) return null; // one already queued/running, or this slot done
    await this.publish(run);
    return run;
  }
}

function describeFailure(error: unknown): { code: SyncRunFailureCode; message: string } {
  if (error instanceof SyncFailure) return { code: error.code, message: error.message };
  if (error instanceof EntraReauthorizationRequiredError)
    return { code: 'ENTRA_REAUTHORIZATION_REQUIRED', message: error.message };
  if (error instanceof SyncInterrupted) return { code: 'INTERRUPTED', message: error.message };
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
