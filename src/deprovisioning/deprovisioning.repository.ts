import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { type FindOptionsWhere, In, LessThan } from 'typeorm';
import { isUniqueViolation } from '../common/database-errors.js';
import type { Cursor } from '../common/pagination.js';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import { preparedQuery } from '../database/prepared-statements.js';
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

/**
 * Sync runs (the job queue), their per-user outcomes and the delta state. Runs and states are scoped to an
 * organization; outcomes have no organization column and are reached through their run, which callers read
 * in its organization first. The worker's claim and sweep span organizations and say so in their names.
 */
@Injectable()
export class DeprovisioningRepository {
  private readonly runs: OrganizationScopedRepository<SyncRunEntity>;
  private readonly states: OrganizationScopedRepository<DirectorySyncStateEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.runs = new OrganizationScopedRepository(SyncRunEntity, () => this.txHost.tx);
    this.states = new OrganizationScopedRepository(DirectorySyncStateEntity, () => this.txHost.tx);
  }

  private get outcomes() {
    return this.txHost.tx.getRepository(SyncRunOutcomeEntity);
  }

  /**
   * Queues a run, or answers null when a unique index refuses it: the organization already has a queued or
   * running run, or this schedule slot was already queued (by another replica's scheduler).
   */
  async enqueueRun(organizationId: string, values: Partial<SyncRunEntity>): Promise<SyncRunEntity | null> {
    try {
      return await this.runs.create(organizationId, { ...values, status: 'queued' });
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  findRun(organizationId: string, id: string): Promise<SyncRunEntity | null> {
    return this.runs.findOneBy(organizationId, { id });
  }

  findActiveRun(organizationId: string): Promise<SyncRunEntity | null> {
    return this.runs.findOneBy(organizationId, { status: In(['queued', 'running']) });
  }

  listRuns(organizationId: string, cursor: Cursor | null, take: number): Promise<SyncRunEntity[]> {
    const query = this.runs
      .queryBuilder(organizationId, 'r')
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
  async claimNextRunAcrossOrganizations(workerId: string): Promise<SyncRunEntity | null> {
    const rows = (await this.txHost.tx.query(
      `UPDATE sync_runs SET status = 'running', worker_id = $1, started_at = COALESCE(started_at, now()),
              heartbeat_at = now(), finished_at = NULL
        WHERE id = (SELECT id FROM sync_runs WHERE status = 'queued' ORDER BY created_at, id FOR UPDATE SKIP LOCKED LIMIT 1)
          AND status = 'queued'
        RETURNING id, organization_id`,
      [workerId],
    )) as [{ id: string; organization_id: string }[], number];
    const claimed = rows[0][0];
    return claimed ? this.runs.findOneBy(claimed.organization_id, { id: claimed.id }) : null;
  }

  /** Running runs of any organization whose worker sent no heartbeat since `staleBefore` (it died). */
  findAbandonedRunsAcrossOrganizations(staleBefore: Date): Promise<SyncRunEntity[]> {
    return this.runs.acrossOrganizations().findBy({ status: 'running', heartbeatAt: LessThan(staleBefore) });
  }

  /**
   * Progress and heartbeat of a run this worker is running. Conditional, so a run that another replica
   * already ended (e.g. as WORKER_LOST) is never written to again.
   */
  async touchRun(
    run: Pick<SyncRunEntity, 'organizationId' | 'id'>,
    workerId: string,
    values: Partial<SyncRunEntity> = {},
  ): Promise<boolean> {
    const changed = await this.runs.update(run.organizationId, { id: run.id, status: 'running', workerId }, {
      ...values,
      heartbeatAt: () => 'now()',
    } as never);
    return changed === 1;
  }

  /**
   * Moves a run from one status to another only if it is still in the first (and matches `also`, e.g. the
   * worker that claimed it, or a stale heartbeat): every status change goes through here, so two actors racing
   * for one run (a worker and the sweeper, two approvals) can never both win. Returns whether it moved.
   * Moving a run back into the queue while another run of its organization is active is SYNC_IN_PROGRESS.
   */
  async transitionRun(
    run: Pick<SyncRunEntity, 'organizationId' | 'id'>,
    from: SyncStatus,
    values: Partial<SyncRunEntity>,
    also: RunCondition = {},
  ): Promise<boolean> {
    const where: FindOptionsWhere<SyncRunEntity> = { id: run.id, status: from };
    if (also.workerId !== undefined) where.workerId = also.workerId;
    if (also.heartbeatBefore !== undefined) where.heartbeatAt = LessThan(also.heartbeatBefore);
    try {
      return (await this.runs.update(run.organizationId, where, values as never)) === 1;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Back into queued/running while another run of the organization is there: name that run.
      const active = await this.findActiveRun(run.organizationId);
      throw new SyncInProgressError(active?.id ?? 'unknown');
    }
  }

  /**
   * Records outcomes of a run, a thousand per statement. Each page of a sync adds a few, so the statement goes
   * out on the pool (`preparedQuery`) with one array per column, without entity objects per row and a TypeORM
   * query runner per statement.
   */
  async addOutcomes(runId: string, outcomes: PlannedOutcome[]): Promise<void> {
    for (let i = 0; i < outcomes.length; i += 1000) {
      const chunk = outcomes.slice(i, i + 1000);
      await preparedQuery(
        this.txHost.tx,
        `INSERT INTO sync_run_outcomes (run_id, user_id, object_id, outcome, reason, detail)
         SELECT $1, o.user_id, o.object_id, o.outcome::sync_outcome, o.reason::deactivation_reason, o.detail
           FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[])
                WITH ORDINALITY AS o(user_id, object_id, outcome, reason, detail, n)
          ORDER BY o.n`,
        [
          runId,
          chunk.map((o) => o.userId),
          chunk.map((o) => o.objectId),
          chunk.map((o) => o.outcome),
          chunk.map((o) => o.reason),
          chunk.map((o) => o.detail ?? null),
        ],
      );
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

  /** Ids of the runs running now in any organization (their rounds' seen sets are in use). */
  async runningRunIdsAcrossOrganizations(): Promise<string[]> {
    const rows = await this.runs
      .acrossOrganizations()
      .find({ select: { id: true }, where: { status: 'running' } });
    return rows.map((r) => r.id);
  }

  /** Forgets what a run planned so far (its round is read again from the start). */
  async dropOutcomes(runId: string): Promise<void> {
    await this.outcomes.delete({ runId });
  }

  findState(organizationId: string, tenantId: string): Promise<DirectorySyncStateEntity | null> {
    return this.states.findOneBy(organizationId, { tenantId });
  }

  /** Every tenant's sync state of the organization; returns how many were dropped. */
  deleteStates(organizationId: string): Promise<number> {
    return this.states.delete(organizationId, {});
  }

  async saveState(
    organizationId: string,
    tenantId: string,
    deltaLink: string | null,
    lastRunStartedAt: Date,
  ): Promise<void> {
    await this.states.upsert(organizationId, { tenantId, deltaLink, lastRunStartedAt }, [
      'organizationId',
      'tenantId',
    ]);
  }
}
