import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { IntegrationsService } from '../integrations/integrations.service.js';
import {
  DeltaExpiredError,
  DirectoryClient,
  type DeltaUser,
  type UserState,
} from '../microsoft/directory.client.js';
import { GraphRequestError } from '../microsoft/microsoft.errors.js';
import type { LinkedUser } from '../users/users.repository.js';
import { UsersService } from '../users/users.service.js';
import { type PlannedOutcome, DeprovisioningRepository } from './deprovisioning.repository.js';
import { SyncFailure } from './deprovisioning.errors.js';
import type { SyncRunEntity } from './entities/sync-run.entity.js';
import { deactivationLimit, verdictFor } from './sync-plan.js';

const APPLY_CHUNK = 500;
const SCAN_CHUNK = 1000;

interface Counters {
  checked: number;
  notLinked: number;
  alreadyDeactivated: number;
  planned: number;
}

/** Raised between pages when the process is shutting down; the run ends as failed, with nothing applied. */
export class SyncInterrupted extends Error {}

/**
 * One directory sync: read the directory (delta query — a full round the first time, then changes only),
 * plan deactivations for linked users whose account is disabled or confirmed deleted, check the safety
 * threshold, then apply. Memory stays flat: pages are handled one at a time, the plan lives in the
 * database, and users missing from a full round are found with a keyset scan against the seen set.
 */
@Injectable()
export class SyncEngine {
  private readonly logger = new Logger(SyncEngine.name);

  constructor(
    private readonly repository: DeprovisioningRepository,
    private readonly integrations: IntegrationsService,
    private readonly directory: DirectoryClient,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  async execute(run: SyncRunEntity, shouldStop: () => boolean): Promise<void> {
    const connection = await this.integrations.findByOrganization(run.organizationId);
    if (!connection || connection.tenantId !== run.tenantId) {
      throw new SyncFailure('ENTRA_NOT_CONNECTED', 'The organization is no longer connected to this tenant.');
    }
    if (!connection.healthy) {
      throw new SyncFailure(
        'SYNC_NOT_AVAILABLE',
        'The connection needs reauthorization or the Enterprise plan.',
      );
    }
    if (!run.dryRun && !connection.autoDeprovisionSyncEnabled) {
      throw new SyncFailure(
        'DEPROVISIONING_DISABLED',
        'Auto-deprovisioning was switched off before the run started.',
      );
    }

    const state = await this.repository.findState(run.organizationId, run.tenantId);
    const counters: Counters = { checked: 0, notLinked: 0, alreadyDeactivated: 0, planned: 0 };
    let deltaLink: string;
    let mode: 'full' | 'incremental' = state?.deltaLink ? 'incremental' : 'full';
    try {
      deltaLink = await this.readRound(
        run,
        mode === 'incremental' ? state!.deltaLink : null,
        counters,
        shouldStop,
      );
    } catch (error) {
      if (!(error instanceof DeltaExpiredError)) throw error;
      this.logger.warn(`delta token of ${run.organizationId} expired: starting a full round`);
      mode = 'full';
      Object.assign(counters, { checked: 0, notLinked: 0, alreadyDeactivated: 0, planned: 0 });
      deltaLink = await this.readRound(run, null, counters, shouldStop);
    }
    if (mode === 'full') await this.planMissingUsers(run, counters);
    else if (state?.lastRunStartedAt) await this.recheckChangedUsers(run, state.lastRunStartedAt, counters);
    await this.repository.forgetSeen(run.id);

    const linkedActive = await this.users.countLinkedActive(run.organizationId, run.tenantId);
    const limit = deactivationLimit(linkedActive, connection.deprovisionThreshold);
    const progress = {
      mode,
      deltaLink,
      progressChecked: counters.checked,
      progressTotal: counters.checked,
      countChecked: counters.checked,
      countNotLinked: counters.notLinked,
      countAlreadyDeactivated: counters.alreadyDeactivated,
      countPlanned: counters.planned,
      thresholdLimit: limit,
    };

    if (run.dryRun) {
      // A preview: nothing applied, and the delta link is not advanced so the next real run sees the same changes.
      await this.repository.updateRun(run.id, { ...progress, status: 'succeeded', finishedAt: new Date() });
      return;
    }
    if (counters.planned > limit) {
      await this.repository.updateRun(run.id, {
        ...progress,
        status: 'awaiting_approval',
        finishedAt: new Date(),
      });
      await this.audit.record({
        organizationId: run.organizationId,
        actor: { type: 'system', id: null },
        action: 'sync.awaiting_approval',
        target: { type: 'sync_run', id: run.id },
        after: { planned: counters.planned, limit },
      });
      this.logger.warn(
        `sync ${run.id} would deactivate ${counters.planned} users (limit ${limit}): waiting for approval`,
      );
      return;
    }
    await this.repository.updateRun(run.id, progress);
    const applied = await this.applyPlan(run, false);
    await this.repository.saveState(run.organizationId, run.tenantId, deltaLink, run.startedAt ?? new Date());
    await this.repository.updateRun(run.id, {
      status: 'succeeded',
      countDeactivated: applied.deactivated,
      countErrors: applied.errors,
      lastOwnerDeactivated: applied.lastOwnerDeactivated,
      finishedAt: new Date(),
    });
  }

  /**
   * Applies a run's stored plan in chunks. With `recheck`, each user's Entra state is read again first
   * (approvals can come hours later) and only still-disabled or still-deleted accounts are deactivated.
   */
  async applyPlan(
    run: SyncRunEntity,
    recheck: boolean,
  ): Promise<{ deactivated: number; errors: number; lastOwnerDeactivated: boolean }> {
    let deactivated = 0;
    let errors = 0;
    let lastOwnerDeactivated = false;
    let afterId: string | null = null;
    for (;;) {
      const page = await this.repository.outcomesPage(run.id, 'planned', afterId, APPLY_CHUNK);
      if (page.length === 0) break;
      afterId = page[page.length - 1].id;
      let items = page;
      if (recheck) {
        const states = await this.userStates(
          run.organizationId,
          page.map((o) => o.objectId),
        );
        const stale = page.filter((o) => states.get(o.objectId) === 'enabled');
        await this.repository.setOutcomes(
          stale.map((o) => o.id),
          'skipped',
          'enabled again in Entra before the approval',
        );
        items = page.filter((o) => states.get(o.objectId) !== 'enabled');
      }
      let result: { deactivated: string[]; lastOwnerDeactivated: boolean };
      try {
        result = await this.users.deactivateForDirectory(
          run.organizationId,
          items.map((o) => ({ userId: o.userId, reason: o.reason })),
          { runId: run.id },
        );
      } catch (error) {
        // One failed chunk (rolled back whole) must not stop the others: record it per user and go on.
        this.logger.error(`sync ${run.id}: a deactivation chunk failed: ${String(error)}`);
        await this.repository.setOutcomes(
          items.map((o) => o.id),
          'error',
          'the deactivation could not be saved',
        );
        errors += items.length;
        await this.repository.updateRun(run.id, { countErrors: errors });
        continue;
      }
      const done = new Set(result.deactivated);
      await this.repository.setOutcomes(
        items.filter((o) => done.has(o.userId)).map((o) => o.id),
        'deactivated',
      );
      await this.repository.setOutcomes(
        items.filter((o) => !done.has(o.userId)).map((o) => o.id),
        'skipped',
        'no longer active when the plan was applied',
      );
      deactivated += done.size;
      lastOwnerDeactivated ||= result.lastOwnerDeactivated;
      await this.repository.updateRun(run.id, { countDeactivated: deactivated });
    }
    if (lastOwnerDeactivated) {
      this.logger.error(
        `SYNC ${run.id} DEACTIVATED THE LAST ACTIVE OWNER of organization ${run.organizationId}: their Entra account is ` +
          'disabled or deleted. Nobody can administer the organization until an operator or Entra restores an owner.',
      );
      await this.audit.record({
        organizationId: run.organizationId,
        actor: { type: 'system', id: null },
        action: 'sync.last_owner_deactivated',
        target: { type: 'sync_run', id: run.id },
      });
    }
    return { deactivated, errors, lastOwnerDeactivated };
  }

  /** Reads one delta round page by page; returns the delta link that ends it. */
  private async readRound(
    run: SyncRunEntity,
    startLink: string | null,
    counters: Counters,
    shouldStop: () => boolean,
  ): Promise<string> {
    const full = startLink === null;
    let link: string | null = startLink;
    for (let first = true; ; first = false) {
      if (shouldStop()) throw new SyncInterrupted('the process is shutting down');
      const page = await this.withToken(run.organizationId, (token) =>
        this.directory.usersDeltaPage(token, first ? startLink : link),
      );
      if (full)
        await this.repository.markSeen(
          run.id,
          page.users.filter((u) => !u.removed).map((u) => u.id),
        );
      await this.planPage(run, page.users, counters);
      await this.repository.updateRun(run.id, {
        progressChecked: counters.checked,
        countPlanned: counters.planned,
        mode: full ? 'full' : 'incremental',
      });
      if (page.deltaLink) return page.deltaLink;
      if (!page.nextLink)
        throw new SyncFailure('GRAPH_INCOMPLETE', 'Graph ended a delta round without a delta link.');
      link = page.nextLink;
    }
  }

  private async planPage(run: SyncRunEntity, page: DeltaUser[], counters: Counters): Promise<void> {
    counters.checked += page.length;
    const linked = new Map(
      (
        await this.users.findLinkedByObjectIds(
          run.organizationId,
          run.tenantId,
          page.map((u) => u.id),
        )
      ).map((l) => [l.objectId, l]),
    );
    counters.notLinked += page.length - linked.size;
    const states = new Map<string, UserState>();
    const toConfirm: string[] = [];
    for (const user of page) {
      if (!linked.has(user.id)) continue;
      // A removal is only a candidate until Graph confirms the user is gone (404), never an inference.
      if (user.removed) toConfirm.push(user.id);
      else states.set(user.id, user.accountEnabled === false ? 'disabled' : 'enabled');
    }
    for (const [id, state] of await this.userStates(run.organizationId, toConfirm)) states.set(id, state);
    await this.plan(run, [...linked.values()], states, counters);
  }

  /** Full round: linked users the directory did not list are confirmed one by one ($batch) before acting. */
  private async planMissingUsers(run: SyncRunEntity, counters: Counters): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const linked = await this.users.linkedPage(run.organizationId, run.tenantId, after, SCAN_CHUNK);
      if (linked.length === 0) return;
      after = linked[linked.length - 1].objectId;
      const seen = await this.repository.seen(
        run.id,
        linked.map((l) => l.objectId),
      );
      const missing = linked.filter((l) => !seen.has(l.objectId) && l.status === 'active');
      counters.alreadyDeactivated += linked.filter(
        (l) => !seen.has(l.objectId) && l.status === 'deactivated',
      ).length;
      if (missing.length === 0) continue;
      const states = await this.userStates(
        run.organizationId,
        missing.map((l) => l.objectId),
      );
      counters.checked += missing.length;
      await this.plan(run, missing, states, counters);
    }
  }

  /** Incremental round: users changed here since the last run (e.g. reactivated by hand) are checked again. */
  private async recheckChangedUsers(run: SyncRunEntity, since: Date, counters: Counters): Promise<void> {
    const changed = await this.users.linkedActiveChangedSince(run.organizationId, run.tenantId, since);
    for (let i = 0; i < changed.length; i += SCAN_CHUNK) {
      const chunk = changed.slice(i, i + SCAN_CHUNK);
      const planned = await this.repository.plannedUserIds(
        run.id,
        chunk.map((l) => l.userId),
      );
      const pending = chunk.filter((l) => !planned.has(l.userId));
      const states = await this.userStates(
        run.organizationId,
        pending.map((l) => l.objectId),
      );
      counters.checked += pending.length;
      await this.plan(run, pending, states, counters);
    }
  }

  private async plan(
    run: SyncRunEntity,
    linked: LinkedUser[],
    states: Map<string, UserState>,
    counters: Counters,
  ): Promise<void> {
    const planned: PlannedOutcome[] = [];
    for (const user of linked) {
      const state = states.get(user.objectId);
      if (!state) continue;
      const verdict = verdictFor(state, user.status);
      if (verdict.action === 'already_deactivated') counters.alreadyDeactivated++;
      if (verdict.action === 'deactivate') {
        planned.push({
          userId: user.userId,
          objectId: user.objectId,
          outcome: 'planned',
          reason: verdict.reason,
        });
      }
    }
    counters.planned += planned.length;
    await this.repository.addOutcomes(run.id, planned);
  }

  private userStates(organizationId: string, objectIds: string[]): Promise<Map<string, UserState>> {
    if (objectIds.length === 0) return Promise.resolve(new Map());
    return this.withToken(organizationId, (token) => this.directory.userStates(token, objectIds));
  }

  /** Calls Graph with the connection's token; a token Graph stops accepting mid-run is refreshed once. */
  private async withToken<T>(organizationId: string, call: (token: string) => Promise<T>): Promise<T> {
    try {
      return await call(await this.integrations.graphAccessToken(organizationId));
    } catch (error) {
      if (error instanceof GraphRequestError && error.status === 401) {
        return call(await this.integrations.graphAccessToken(organizationId, true));
      }
      throw error;
    }
  }
}
