import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { EntraConnectionService } from '../integrations/entra-connection.service.js';
import {
  DeltaLinkUnusableError,
  DirectoryClient,
  type DirectoryPage,
  type UserState,
} from '../microsoft/directory.client.js';
import { GraphRequestError } from '../microsoft/microsoft.errors.js';
import { type LinkedUser, UsersService } from '../users/users.service.js';
import { type PlannedOutcome, DeprovisioningRepository } from './deprovisioning.repository.js';
import { SyncFailure } from './deprovisioning.errors.js';
import type { SyncRunEntity } from './entities/sync-run.entity.js';
import { deactivationLimit, verdictFor } from './sync-plan.js';

const APPLY_CHUNK = 500;
const PLAN_CONCURRENCY = 2;

const SCAN_CHUNK = 1000;
const PROGRESS_EVERY_MS = 1000;
/** Missing users confirmed together: four full `$batch` requests, sent at once. */
const CONFIRM_CHUNK = 80;

interface Counters {
  checked: number;
  notLinked: number;
  /** A full round: directory users listed, and linked users it did not list. */
  listed: number;
  missing: number;
  alreadyDeactivated: number;
  planned: number;
}

/** Raised between pages or chunks when the process is shutting down; the run ends as failed (INTERRUPTED). */
export class SyncInterrupted extends Error {}

/**
 * How the engine ended a run, for the one place that finishes runs to write (SyncRunsService): the engine
 * never sets a run's status itself.
 */
export type RunEnd =
  | {
      status: 'succeeded';
      values: Partial<SyncRunEntity>;
      /** The delta link the directory state advances to once the run's changes are applied. */
      advanceDeltaLink?: string;
    }
  | { status: 'awaiting_approval'; values: Partial<SyncRunEntity>; limit: number }
  | { status: 'failed'; errorCode: string; errorMessage: string };

/**
 * One directory sync: read the directory (a full round the first time — `GET /users` at 999 per page, its
 * delta link taken before the read — then changes only, through the delta link), plan deactivations for
 * linked users whose account is disabled or confirmed deleted, check the safety threshold, then apply.
 * What a run holds does not grow with the directory: a bounded number of pages is in flight (each projected to
 * one string of ids as it arrives), the plan lives in the database, and users
 * missing from a full round are found with a keyset scan against the run's seen set (a side table).
 */
@Injectable()
export class SyncEngine {
  private readonly logger = new Logger(SyncEngine.name);
  /** Access tokens of the runs in progress, by organization; dropped when a run ends. */
  private readonly tokens = new Map<string, Promise<string>>();

  constructor(
    private readonly repository: DeprovisioningRepository,
    private readonly integrations: EntraConnectionService,
    private readonly directory: DirectoryClient,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  async execute(run: SyncRunEntity, shouldStop: () => boolean): Promise<RunEnd> {
    try {
      return await this.executeRun(run, shouldStop);
    } finally {
      this.tokens.delete(run.organizationId);
    }
  }

  private async executeRun(run: SyncRunEntity, shouldStop: () => boolean): Promise<RunEnd> {
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
    // The threshold's base (and, for a full round, who is linked at all), counted while the directory is read
    // rather than after it.
    const linkedCount = this.users.countLinked(run.organizationId, run.tenantId);
    linkedCount.catch(() => undefined); // surfaced when awaited below
    const counters: Counters = {
      checked: 0,
      notLinked: 0,
      listed: 0,
      missing: 0,
      alreadyDeactivated: 0,
      planned: 0,
    };
    let deltaLink: string | null = null;
    let mode: 'full' | 'incremental' = state?.deltaLink ? 'incremental' : 'full';
    if (mode === 'incremental') {
      try {
        deltaLink = await this.readChanges(run, state!.deltaLink!, counters, shouldStop);
      } catch (error) {
        if (!(error instanceof DeltaLinkUnusableError)) throw error;
        // Whatever this round planned so far is dropped: the full round plans everyone afresh.
        this.logger.warn(`delta link of ${run.organizationId} is ${error.reason}: starting a full round`);
        await this.repository.dropOutcomes(run.id);
        mode = 'full';
        Object.assign(counters, {
          checked: 0,
          notLinked: 0,
          listed: 0,
          missing: 0,
          alreadyDeactivated: 0,
          planned: 0,
        });
      }
    }
    if (mode === 'full') deltaLink = await this.readAll(run, counters, shouldStop);
    if (mode === 'full') await this.planMissingUsers(run, counters);
    else if (state?.lastRunStartedAt) await this.recheckChangedUsers(run, state.lastRunStartedAt, counters);

    const { linked, active: linkedActive } = await linkedCount;
    // A full round looks up only the accounts it must act on: whoever it listed and is not linked (or went
    // missing) is counted from the totals instead.
    if (mode === 'full') counters.notLinked = Math.max(0, counters.listed - (linked - counters.missing));
    const limit = deactivationLimit(linkedActive, connection.deprovisionThreshold);
    const progress = {
      mode,
      deltaLink: deltaLink!,
      progressChecked: counters.checked,
      progressTotal: counters.checked,
      countChecked: counters.checked,
      countNotLinked: counters.notLinked,
      countAlreadyDeactivated: counters.alreadyDeactivated,
      countPlanned: counters.planned,
      thresholdLimit: limit,
    };

    // A preview: nothing applied, and the delta link is not advanced so the next real run sees the same changes.
    if (run.dryRun) return { status: 'succeeded', values: progress };
    if (counters.planned > limit) {
      this.logger.warn(
        `sync ${run.id} would deactivate ${counters.planned} users (limit ${limit}): waiting for approval`,
      );
      return { status: 'awaiting_approval', values: progress, limit };
    }
    await this.progress(run, progress);
    const applied = await this.applyPlan(run, false, shouldStop);
    return { status: 'succeeded', values: applied, advanceDeltaLink: deltaLink! };
  }

  /** Forgets the seen set of a run's full round: the run is over. */
  forgetRound(runId: string): Promise<void> {
    return this.users.forgetDirectoryRound(runId);
  }

  /** Forgets the seen sets of all rounds but those of the runs still running (a crashed worker's). */
  forgetRoundsExcept(runningRunIds: string[]): Promise<void> {
    return this.users.forgetDirectoryRoundsExcept(runningRunIds);
  }

  /**
   * Applies a plan held back for approval (the worker runs it, under its heartbeat and shutdown hooks),
   * re-reading each user's Entra state first.
   */
  async applyApprovedPlan(run: SyncRunEntity, shouldStop: () => boolean): Promise<RunEnd> {
    try {
      const applied = await this.applyPlan(run, true, shouldStop);
      return { status: 'succeeded', values: applied, advanceDeltaLink: run.deltaLink ?? undefined };
    } finally {
      this.tokens.delete(run.organizationId);
    }
  }

  /**
   * Applies a run's stored plan in chunks. With `recheck`, each user's Entra state is read again first
   * (approvals can come hours later) and only still-disabled or still-deleted accounts are deactivated.
   */
  private async applyPlan(
    run: SyncRunEntity,
    recheck: boolean,
    shouldStop: () => boolean,
  ): Promise<Pick<SyncRunEntity, 'countDeactivated' | 'countErrors' | 'lastOwnerDeactivated'>> {
    let deactivated = 0;
    let errors = 0;
    let lastOwnerDeactivated = false;
    let afterId: string | null = null;
    const stopIfAsked = () => {
      if (shouldStop())
        throw new SyncInterrupted(
          `The service shut down while the plan was being applied: ${deactivated} user(s) were deactivated, ` +
            'the users still planned were not.',
        );
    };
    for (;;) {
      stopIfAsked();
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
        stopIfAsked(); // the re-check can take long: nothing of this chunk is applied after a shutdown began
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
        await this.progress(run, { countErrors: errors });
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
      await this.progress(run, { countDeactivated: deactivated });
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
    return { countDeactivated: deactivated, countErrors: errors, lastOwnerDeactivated };
  }

  /**
   * A full round: the delta link for the next round is taken first (`$deltatoken=latest`), so any change
   * made while the read runs is reported by the next incremental round; then every user is read through
   * `GET /users` (999 per page). Returns that delta link.
   */
  private async readAll(run: SyncRunEntity, counters: Counters, shouldStop: () => boolean): Promise<string> {
    await this.users.forgetDirectoryRound(run.id);
    const deltaLink = await this.withToken(run.organizationId, (token) =>
      this.directory.latestDeltaLink(token),
    );
    await this.readPages(
      run,
      (link) => this.withToken(run.organizationId, (token) => this.directory.usersPage(token, link)),
      null,
      counters,
      true,
      shouldStop,
    );
    return deltaLink;
  }

  /** An incremental round from the stored delta link; returns the delta link that ends it. */
  private async readChanges(
    run: SyncRunEntity,
    startLink: string,
    counters: Counters,
    shouldStop: () => boolean,
  ): Promise<string> {
    const last = await this.readPages(
      run,
      (link) => this.withToken(run.organizationId, (token) => this.directory.usersDeltaPage(token, link!)),
      startLink,
      counters,
      false,
      shouldStop,
    );
    if (!last.deltaLink) {
      throw new SyncFailure('GRAPH_INCOMPLETE', 'Graph ended a delta round without a delta link.');
    }
    return last.deltaLink;
  }

  /**
   * Reads pages until one names no next page, and returns that last page. Pages must be fetched one after
   * another (each names the next), so the next page is requested as soon as a page arrives and fetched while
   * that one is planned: the read costs about its sequential Graph requests, and no more than one page beyond
   * those being planned (PLAN_CONCURRENCY) is ever held.
   */
  private async readPages(
    run: SyncRunEntity,
    fetchPage: (link: string | null) => Promise<DirectoryPage>,
    startLink: string | null,
    counters: Counters,
    full: boolean,
    shouldStop: () => boolean,
  ): Promise<DirectoryPage> {
    let next: Promise<DirectoryPage> | null = fetchPage(startLink);
    next.catch(() => undefined); // surfaced when awaited below
    // Pages are independent: plan up to PLAN_CONCURRENCY of them at once, waiting for the oldest beyond that.
    const planning: Promise<void>[] = [];
    let progressAt = 0;
    try {
      for (;;) {
        const page: DirectoryPage = await next;
        if (shouldStop())
          throw new SyncInterrupted('The service shut down during the run; nothing was applied.');
        next = page.nextLink ? fetchPage(page.nextLink) : null;
        next?.catch(() => undefined); // surfaced when awaited above; never an unhandled rejection
        if (planning.length >= PLAN_CONCURRENCY) await planning.shift();
        const planned = this.planPage(run, page, counters, full).then(() => {
          // Progress (and the check that the run is still ours) about once a second, not once a page: a
          // 300-page round would otherwise rewrite its run row 300 times.
          if (Date.now() - progressAt < PROGRESS_EVERY_MS) return;
          progressAt = Date.now();
          return this.progress(run, {
            progressChecked: counters.checked,
            countPlanned: counters.planned,
            mode: full ? 'full' : 'incremental',
          });
        });
        planned.catch(() => undefined); // surfaced by the awaits below
        planning.push(planned);
        if (!next) {
          await Promise.all(planning);
          return page;
        }
      }
    } finally {
      // Never leave planning running into a fallback round or the end of the run.
      await Promise.allSettled(planning);
    }
  }

  private async planPage(
    run: SyncRunEntity,
    page: DirectoryPage,
    counters: Counters,
    full: boolean,
  ): Promise<void> {
    counters.checked += page.count;
    if (page.count === 0) return;
    let linkedList: LinkedUser[];
    if (full) {
      // A full round (which lists no removals) records every account it listed, to find afterwards the linked
      // users it never listed, and looks up only the disabled ones: an enabled account changes nobody.
      counters.listed += page.count;
      [, linkedList] = await Promise.all([
        this.users.markSeenInDirectory(run.id, page.ids),
        this.users.findLinkedByObjectIds(run.organizationId, run.tenantId, page.disabledIds),
      ]);
    } else {
      linkedList = await this.users.findLinkedByObjectIds(
        run.organizationId,
        run.tenantId,
        page.ids.split(','),
      );
      counters.notLinked += page.count - linkedList.length;
    }
    const linked = new Map(linkedList.map((l) => [l.objectId, l]));
    const disabled = new Set(page.disabledIds);
    const removed = new Set(page.removedIds);
    const states = new Map<string, UserState>();
    const toConfirm: string[] = [];
    for (const objectId of linked.keys()) {
      // A removal is only a candidate until Graph confirms the user is gone (404), never an inference.
      if (removed.has(objectId)) toConfirm.push(objectId);
      else states.set(objectId, disabled.has(objectId) ? 'disabled' : 'enabled');
    }
    for (const [id, state] of await this.userStates(run.organizationId, toConfirm)) states.set(id, state);
    await this.plan(run, [...linked.values()], states, counters);
  }

  /** Full round: linked users the directory did not list are confirmed one by one ($batch) before acting. */
  private async planMissingUsers(run: SyncRunEntity, counters: Counters): Promise<void> {
    // Missing users are few and spread thin: gather them across scan chunks so each `$batch` is full.
    let toConfirm: LinkedUser[] = [];
    const confirm = async () => {
      const states = await this.userStates(
        run.organizationId,
        toConfirm.map((l) => l.objectId),
      );
      counters.checked += toConfirm.length;
      await this.plan(run, toConfirm, states, counters);
      toConfirm = [];
    };
    let after: string | null = null;
    for (;;) {
      const missing = await this.users.linkedNotSeen(
        run.organizationId,
        run.tenantId,
        run.id,
        after,
        SCAN_CHUNK,
      );
      if (missing.length === 0) break;
      after = missing[missing.length - 1].objectId;
      counters.missing += missing.length;
      toConfirm.push(...missing.filter((l) => l.status === 'active'));
      counters.alreadyDeactivated += missing.filter((l) => l.status === 'deactivated').length;
      if (toConfirm.length >= CONFIRM_CHUNK) await confirm();
    }
    if (toConfirm.length > 0) await confirm();
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

  /**
   * Records progress (and a heartbeat) while the run is still this worker's. If it is not (the sweeper ended
   * it after a stall), the work stops here instead of going on under a run recorded as failed.
   */
  private async progress(run: SyncRunEntity, values: Partial<SyncRunEntity>): Promise<void> {
    if (!(await this.repository.touchRun(run, run.workerId ?? '', values)))
      throw new SyncFailure('WORKER_LOST', 'The run was ended elsewhere while this worker was still on it.');
  }

  private userStates(organizationId: string, objectIds: string[]): Promise<Map<string, UserState>> {
    if (objectIds.length === 0) return Promise.resolve(new Map());
    return this.withToken(organizationId, (token) => this.directory.userStates(token, objectIds));
  }

  /**
   * Calls Graph with the connection's access token, read once and kept for the run (a run makes hundreds of
   * requests); a token Graph stops accepting mid-run (expiry, revocation) is refreshed once and retried.
   */
  private async withToken<T>(organizationId: string, call: (token: string) => Promise<T>): Promise<T> {
    let token = this.tokens.get(organizationId);
    if (!token) {
      token = this.integrations.graphAccessToken(organizationId);
      this.tokens.set(organizationId, token);
    }
    try {
      return await call(await token);
    } catch (error) {
      if (!(error instanceof GraphRequestError && error.status === 401)) throw error;
      const fresh = this.integrations.graphAccessToken(organizationId, true);
      this.tokens.set(organizationId, fresh);
      return call(await fresh);
    }
  }
}
