import { Injectable } from '@nestjs/common';
import { DataSource, type FindOptionsWhere, In, LessThan } from 'typeorm';
import { isUniqueViolation } from '../common/database-errors.js';
import type { Cursor } from '../common/pagination.js';
import { isUuid } from '../common/uuid.js';
import { DirectorySyncStateEntity } from './entities/directory-sync-state.entity.js';
import {
  type DeactivationReason,
  type SyncOutcome,
  SyncRunOutcomeEntity,
} from './entities/sync-run-outcome.entity.js';
import { SyncRunEntity, type SyncStatus } from './entities/sync-run.entity.js';
import { SyncInProgressError } from './deprovisioning.errors.js';

export interface PlannedOutcome {
  userId: string;
  objectId: string;
  outcome: SyncOutcome;
  reason: DeactivationReason;
  detail?: string | null;
}

/** What else a run must still match for a status change to apply (beyond its expected status). */
export interface RunCondition {
  /** The worker that claimed it. */
  workerId?: string;
  /** Its last heartbeat is older than this (the sweeper of abandoned runs). */
  heartbeatBefore?: Date;
}

/** Sync runs (the job queue), their per-user outcomes, the seen-object scratch set and the delta state. */
@Injectable()
export class DeprovisioningRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get runs() {
    return this.dataSource.getRepository(SyncRunEntity);
  }

  private get outcomes() {
    return this.dataSource.getRepository(SyncRunOutcomeEntity);
  }

  /**
   * Queues a run, or answers null when a unique index refuses it: the organization already has a queued or
   * running run, or this schedule slot was already queued (by another replica's scheduler).
   */
  async enqueueRun(values: Partial<SyncRunEntity>): Promise<SyncRunEntity | null> {
    try {
      return await this.runs.save(this.runs.create({ ...values, status: 'queued' }));
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  async findRun(organizationId: string, id: string): Promise<SyncRunEntity | null> {
    return isUuid(id) ? this.runs.findOneBy({ organizationId, id }) : null;
  }

  findActiveRun(organizationId: string): Promise<SyncRunEntity | null> {
    return this.runs.findOneBy({ organizationId, status: In(['queued', 'running']) });
  }

  listRuns(organizationId: string, cursor: Cursor | null, take: number): Promise<SyncRunEntity[]> {
    const query = this.runs
      .createQueryBuilder('r')
      .where('r.organization_id = :organizationId', { organizationId })
      .orderBy('r.created_at', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .take(take);
    if (cursor) query.andWhere('(r.created_at, r.id) < (:createdAt, :id)', cursor);
    return query.getMany();
  }

  /**
   * Claims the oldest queued run for this worker; SKIP LOCKED lets replicas claim different runs at once.
   * An approved plan keeps the start of the run that planned it (the delta state resumes from there).
   */
  async claimNextRun(workerId: string): Promise<SyncRunEntity | null> {
    const rows = (await this.dataSource.query(
      `UPDATE sync_runs SET status = 'running', worker_id = $1, started_at = COALESCE(started_at, now()),
              heartbeat_at = now(), finished_at = NULL
        WHERE id = (SELECT id FROM sync_runs WHERE status = 'queued' ORDER BY created_at, id FOR UPDATE SKIP LOCKED LIMIT 1)
          AND status = 'queued'
        RETURNING id, organization_id`,
      [workerId],
    )) as [{ id: string; organization_id: string }[], number];
    const claimed = rows[0][0];
    return claimed ? this.runs.findOneBy({ id: claimed.id }) : null;
  }

  /** Running runs whose worker sent no heartbeat since `staleBefore` (the process died). */
  findAbandonedRuns(staleBefore: Date): Promise<SyncRunEntity[]> {
    return this.runs.findBy({ status: 'running', heartbeatAt: LessThan(staleBefore) });
  }

  /**
   * Progress and heartbeat of a run this worker is running. Conditional, so a run that another replica
   * already ended (e.g. as WORKER_LOST) is never written to again.
   */
  async touchRun(id: string, workerId: string, values: Partial<SyncRunEntity> = {}): Promise<boolean> {
    const result = await this.runs.update({ id, status: 'running', workerId }, {
      ...values,
      heartbeatAt: () => 'now()',
    } as never);
    return (result.affected ?? 0) === 1;
  }

  /**
   * Moves a run from one status to another only if it is still in the first (and matches `also`, e.g. the
   * worker that claimed it, or a stale heartbeat): every status change goes through here, so two actors racing
   * for one run (a worker and the sweeper, two approvals) can never both win. Returns whether it moved.
   * Moving a run back into the queue while another run of its organization is active is SYNC_IN_PROGRESS.
   */
  async transitionRun(
    id: string,
    from: SyncStatus,
    values: Partial<SyncRunEntity>,
    also: RunCondition = {},
  ): Promise<boolean> {
    const where: FindOptionsWhere<SyncRunEntity> = { id, status: from };
    if (also.workerId !== undefined) where.workerId = also.workerId;
    if (also.heartbeatBefore !== undefined) where.heartbeatAt = LessThan(also.heartbeatBefore);
    try {
      const result = await this.runs.update(where, values as never);
      return (result.affected ?? 0) === 1;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Back into queued/running while another run of the organization is there: name that run.
      const rows = (await this.dataSource.query(
        `SELECT a.id FROM sync_runs r JOIN sync_runs a ON a.organization_id = r.organization_id
          WHERE r.id = $1 AND a.status IN ('queued', 'running')`,
        [id],
      )) as { id: string }[];
      throw new SyncInProgressError(rows[0]?.id ?? 'unknown');
    }
  }

  async addOutcomes(runId: string, outcomes: PlannedOutcome[]): Promise<void> {
    for (let i = 0; i < outcomes.length; i += 1000) {
      const chunk = outcomes
        .slice(i, i + 1000)
        .map((o) => this.outcomes.create({ runId, detail: null, ...o }));
      await this.outcomes.insert(chunk as never);
    }
  }

  /** A keyset page of the run's outcomes with the given kind, in insertion order. */
  outcomesPage(runId: string, outcome: SyncOutcome | undefined, afterId: string | null, take: number) {
    const query = this.outcomes
      .createQueryBuilder('o')
      .where('o.run_id = :runId', { runId })
      .orderBy('o.id', 'ASC')
      .take(take);
    if (outcome) query.andWhere('o.outcome = :outcome', { outcome });
    if (afterId) query.andWhere('o.id > :afterId', { afterId });
    return query.getMany();
  }

  async setOutcomes(ids: string[], outcome: SyncOutcome, detail: string | null = null): Promise<void> {
    if (ids.length > 0) await this.outcomes.update({ id: In(ids) }, { outcome, detail });
  }

  /** Marks every still-planned outcome of the run as skipped (a rejected plan), in one statement. */
  async skipPlanned(runId: string, detail: string): Promise<void> {
    await this.outcomes.update({ runId, outcome: 'planned' }, { outcome: 'skipped', detail });
  }

  /** Which of `userIds` the run already plans to deactivate. */
  async plannedUserIds(runId: string, userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const rows = await this.outcomes.find({
      select: { userId: true },
      where: { runId, outcome: 'planned', userId: In(userIds) },
    });
    return new Set(rows.map((r) => r.userId));
  }

  findState(organizationId: string, tenantId: string): Promise<DirectorySyncStateEntity | null> {
    return this.dataSource.getRepository(DirectorySyncStateEntity).findOneBy({ organizationId, tenantId });
  }

  async saveState(
    organizationId: string,
    tenantId: string,
    deltaLink: string | null,
    lastRunStartedAt: Date,
  ): Promise<void> {
    await this.dataSource
      .getRepository(DirectorySyncStateEntity)
      .upsert({ organizationId, tenantId, deltaLink, lastRunStartedAt }, ['organizationId', 'tenantId']);
  }
}
