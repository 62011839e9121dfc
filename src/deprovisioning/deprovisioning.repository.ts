import { Injectable } from '@nestjs/common';
import { DataSource, In, LessThan } from 'typeorm';
import type { Cursor } from '../common/pagination.js';
import { isUuid } from '../common/uuid.js';
import { DirectorySyncStateEntity } from './entities/directory-sync-state.entity.js';
import {
  type DeactivationReason,
  type SyncOutcome,
  SyncRunOutcomeEntity,
} from './entities/sync-run-outcome.entity.js';
import { SyncRunEntity, type SyncStatus } from './entities/sync-run.entity.js';

export interface PlannedOutcome {
  userId: string;
  objectId: string;
  outcome: SyncOutcome;
  reason: DeactivationReason;
  detail?: string | null;
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

  createRun(values: Partial<SyncRunEntity>): Promise<SyncRunEntity> {
    return this.runs.save(this.runs.create(values));
  }

  async findRun(organizationId: string, id: string): Promise<SyncRunEntity | null> {
    return isUuid(id) ? this.runs.findOneBy({ organizationId, id }) : null;
  }

  findActiveRun(organizationId: string): Promise<SyncRunEntity | null> {
    return this.runs.findOneBy({ organizationId, status: In(['queued', 'running']) });
  }

  findLatestRun(organizationId: string): Promise<SyncRunEntity | null> {
    return this.runs.findOne({ where: { organizationId }, order: { createdAt: 'DESC', id: 'DESC' } });
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

  /** Claims the oldest queued run for this worker; SKIP LOCKED lets replicas claim different runs at once. */
  async claimNextRun(workerId: string): Promise<SyncRunEntity | null> {
    const rows = (await this.dataSource.query(
      `UPDATE sync_runs SET status = 'running', worker_id = $1, started_at = now(), heartbeat_at = now()
        WHERE id = (SELECT id FROM sync_runs WHERE status = 'queued' ORDER BY created_at, id FOR UPDATE SKIP LOCKED LIMIT 1)
        RETURNING id, organization_id`,
      [workerId],
    )) as [{ id: string; organization_id: string }[], number];
    const claimed = rows[0][0];
    return claimed ? this.runs.findOneBy({ id: claimed.id }) : null;
  }

  /** Runs whose worker stopped sending heartbeats (the process died) end as failed, never "running" forever. */
  async failAbandonedRuns(staleBefore: Date): Promise<number> {
    const result = await this.runs.update(
      { status: 'running', heartbeatAt: LessThan(staleBefore) },
      {
        status: 'failed',
        errorCode: 'WORKER_LOST',
        errorMessage:
          'The process running this sync stopped before finishing; nothing after its last step was applied.',
        finishedAt: () => 'now()',
      },
    );
    return result.affected ?? 0;
  }

  async updateRun(id: string, values: Partial<SyncRunEntity>): Promise<void> {
    await this.runs.update({ id }, { ...values, heartbeatAt: () => 'now()' } as never);
  }

  /** Moves a run from one status to another only if it is still in the first (approval races). */
  async transitionRun(id: string, from: SyncStatus, values: Partial<SyncRunEntity>): Promise<boolean> {
    const result = await this.runs.update({ id, status: from }, values as never);
    return (result.affected ?? 0) === 1;
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
