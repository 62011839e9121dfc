import { EmulatorInputError } from './errors.js';
import {
  LOG_LIMIT,
  isCompliant,
  type CycleReport,
  type Exchange,
  type GroupAttributes,
  type NewProvisioningJob,
  type ProvisioningJobState,
  type UserAttributes,
} from './provisioning-jobs.js';
import {
  changedUserAttributes,
  createGroupBody,
  createUserBody,
  groupAttributesOf,
  membersBody,
  quote,
  setActiveBody,
  updateGroupBody,
  updateUserBody,
  userAttributesOf,
} from './scim-forms.js';
import type { EmulatorStore } from './store.js';
import type { Group, User } from './types.js';

/** Members per PATCH operation; Entra sends members in batches too. */
const MEMBER_BATCH = 100;
const TIMEOUT_MS = 60_000;

type FetchLike = typeof fetch;

interface Answer {
  status: number;
  body: unknown;
}

/** A request that did not get the answer Entra expects; the object goes to escrow. */
class ExchangeFailed extends Error {}

/** The directory users and groups the job must provision: assigned ones, and the user members of assigned groups. */
export function provisioningScope(
  store: EmulatorStore,
  tenantId: string,
  clientId: string,
): { users: Map<string, User>; groups: Map<string, Group> } {
  const users = new Map<string, User>();
  const groups = new Map<string, Group>();
  const inScope = (user: User | undefined) =>
    user && !user.deletedAt && user.tenantId.toLowerCase() === tenantId.toLowerCase();
  for (const a of store.assignmentsOf(tenantId, clientId)) {
    if (a.principalType === 'User') {
      const user = store.findUser(a.principalId);
      if (inScope(user)) users.set(user!.id, user!);
      continue;
    }
    const group = store.findGroup(a.principalId);
    if (!group || group.deletedAt) continue;
    groups.set(group.id, group);
    for (const m of store.memberships) {
      if (m.groupId !== group.id) continue;
      const user = store.findUser(m.memberId);
      if (inScope(user)) users.set(user!.id, user!);
    }
  }
  return { users, groups };
}

export function userAttributes(user: User, externalId: 'mailNickname' | 'objectId'): UserAttributes {
  return {
    userName: user.userPrincipalName,
    active: user.accountEnabled && !user.deletedAt,
    displayName: user.displayName,
    givenName: user.givenName,
    familyName: user.surname,
    email: user.mail,
    externalId: externalId === 'objectId' ? user.id : user.userPrincipalName.split('@')[0],
  };
}

function groupAttributes(group: Group): GroupAttributes {
  return { displayName: group.displayName, externalId: group.id };
}

function emptyReport(number: number, kind: CycleReport['kind'], startedAt: Date): CycleReport {
  return {
    number,
    kind,
    startedAt: startedAt.toISOString(),
    finishedAt: startedAt.toISOString(),
    durationMs: 0,
    requests: 0,
    usersCreated: 0,
    usersMatched: 0,
    usersUpdated: 0,
    usersDisabled: 0,
    usersDeleted: 0,
    groupsCreated: 0,
    groupsMatched: 0,
    groupsUpdated: 0,
    groupsDeleted: 0,
    membersAdded: 0,
    membersRemoved: 0,
    failed: 0,
    escrowed: 0,
  };
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(runners);
}

/**
 * The Entra provisioning service, simulated: Test Connection, an initial cycle and incremental cycles over
 * the users and groups assigned to an application, pushed to a SCIM Tenant URL with a bearer token. Each
 * cycle compares the directory with the job's cache (what it provisioned) and sends only what changed, in
 * Entra's order: users (query by userName, then POST or PATCH; disable what left the scope; DELETE what was
 * hard-deleted), then groups (query by displayName without members, POST or PATCH, then member changes,
 * DELETE what left the scope). A failed object goes to escrow and is retried in the next cycle.
 */
export class ProvisioningService {
  private readonly running = new Map<string, Promise<CycleReport>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: EmulatorStore,
    private readonly fetchImpl: FetchLike = fetch,
  ) {}

  /** `tenantId` may be a verified domain too. */
  createJob(input: NewProvisioningJob): ProvisioningJobState {
    const tenant = this.store.resolveTenant(input.tenantId);
    if (!tenant) throw new EmulatorInputError(`unknown tenant '${input.tenantId}'`);
    if (!this.store.findClient(input.clientId)) {
      throw new EmulatorInputError(`unknown client '${input.clientId}'`);
    }
    return this.store.provisioningJobs.create({ ...input, tenantId: tenant.id }, new Date(this.store.now()));
  }

  /** A new Secret Token, as after a rotation in the product; the cache stays. */
  setToken(id: string, token: string): ProvisioningJobState {
    if (!token) throw new EmulatorInputError('token must not be empty');
    const job = this.job(id);
    job.config.token = token;
    return job;
  }

  job(id: string): ProvisioningJobState {
    return this.store.provisioningJobs.require(id);
  }

  /** "Provisioning Status" on or off; off pauses cycles (the interval timer too) and keeps the cache. */
  setStatus(id: string, status: 'on' | 'off'): ProvisioningJobState {
    const job = this.job(id);
    job.status = status;
    return job;
  }

  removeJob(id: string): boolean {
    this.stopInterval(id);
    return this.store.provisioningJobs.remove(id);
  }

  /** Cycles every `seconds` while the job is on, like Entra's ~40-minute schedule (for manual runs). */
  startInterval(id: string, seconds: number, onCycle?: (report: CycleReport) => void): void {
    this.job(id);
    if (!(seconds > 0)) throw new EmulatorInputError('interval must be a positive number of seconds');
    this.stopInterval(id);
    const timer = setInterval(() => {
      if (this.store.provisioningJobs.find(id)?.status !== 'on' || this.running.has(id)) return;
      void this.runCycle(id).then(onCycle, () => undefined);
    }, seconds * 1000);
    timer.unref();
    this.timers.set(id, timer);
  }

  stopInterval(id: string): void {
    clearInterval(this.timers.get(id));
    this.timers.delete(id);
  }

  stopAll(): void {
    for (const id of [...this.timers.keys()]) this.stopInterval(id);
  }

  /** `GET /Users?filter=userName eq "<random GUID>"`: the target must answer 200 with an empty list. */
  async testConnection(id: string): Promise<CycleReport> {
    const job = this.job(id);
    const started = new Date(this.store.now());
    const report = emptyReport(job.cycles, 'test-connection', started);
    try {
      const answer = await this.send(job, report, 'GET', this.usersQuery(job, crypto.randomUUID()));
      const list = answer.body as { totalResults?: unknown; Resources?: unknown } | undefined;
      if (answer.status !== 200) {
        report.error = `expected 200, got ${answer.status}`;
      } else if (list?.totalResults !== 0 || !Array.isArray(list.Resources) || list.Resources.length !== 0) {
        report.error = 'expected an empty ListResponse (totalResults 0, Resources [])';
      }
    } catch (error) {
      report.error = (error as Error).message;
    }
    report.ok = report.error === undefined;
    this.finish(report, started);
    return report;
  }

  /** One cycle; concurrent calls for the same job share the cycle under way. */
  runCycle(id: string): Promise<CycleReport> {
    const job = this.job(id);
    if (job.status !== 'on') {
      return Promise.reject(new EmulatorInputError('provisioning is off for this job; turn it on first'));
    }
    const running = this.running.get(id);
    if (running) return running;
    const cycle = this.cycle(job).finally(() => this.running.delete(id));
    this.running.set(id, cycle);
    return cycle;
  }

  private async cycle(job: ProvisioningJobState): Promise<CycleReport> {
    const started = new Date(this.store.now());
    const report = emptyReport(job.cycles + 1, job.cycles === 0 ? 'initial' : 'incremental', started);
    job.cycles += 1;
    const compliant = isCompliant(job.config.tenantUrl);
    const scope = provisioningScope(this.store, job.config.tenantId, job.config.clientId);
    const escrowed = new Set(job.escrow.map((e) => `${e.objectType}|${e.sourceId}`));
    // Escrowed objects first, as Entra retries them at the start of the next cycle.
    const first = <T extends { id: string }>(type: string, items: T[]) => [
      ...items.filter((i) => escrowed.has(`${type}|${i.id}`)),
      ...items.filter((i) => !escrowed.has(`${type}|${i.id}`)),
    ];

    const users = first('User', [...scope.users.values()]);
    await inParallel(users, job.config.concurrency, (user) =>
      this.guard(job, report, 'User', user.id, () => this.syncUser(job, report, user, compliant)),
    );
    // Provisioned users that left the scope: disabled (soft-deleted, unassigned) or deleted (hard-deleted).
    const leavers = Object.values(job.users).filter((u) => !scope.users.has(u.sourceId));
    await inParallel(leavers, job.config.concurrency, (cached) =>
      this.guard(job, report, 'User', cached.sourceId, async () => {
        const source = this.store.findUser(cached.sourceId);
        if (!source) {
          await this.expect(
            job,
            report,
            'DELETE',
            this.resourceUrl(job, 'Users', cached.scimId),
            undefined,
            [204, 200, 404],
            cached.sourceId,
          );
          delete job.users[cached.sourceId];
          report.usersDeleted++;
          return;
        }
        if (!cached.sent.active) return;
        await this.patch(
          job,
          report,
          'Users',
          cached.scimId,
          setActiveBody(false, compliant),
          cached.sourceId,
        );
        cached.sent = { ...cached.sent, active: false };
        report.usersDisabled++;
      }),
    );

    for (const group of first('Group', [...scope.groups.values()])) {
      await this.guard(job, report, 'Group', group.id, () =>
        this.syncGroup(job, report, group, scope, compliant),
      );
    }
    for (const cached of Object.values(job.groups).filter((g) => !scope.groups.has(g.sourceId))) {
      await this.guard(job, report, 'Group', cached.sourceId, async () => {
        await this.expect(
          job,
          report,
          'DELETE',
          this.resourceUrl(job, 'Groups', cached.scimId),
          undefined,
          [204, 200, 404],
          cached.sourceId,
        );
        delete job.groups[cached.sourceId];
        report.groupsDeleted++;
      });
    }
    report.escrowed = job.escrow.length;
    this.finish(report, started);
    job.lastCycle = report;
    return report;
  }

  private async syncUser(
    job: ProvisioningJobState,
    report: CycleReport,
    user: User,
    compliant: boolean,
  ): Promise<void> {
    const wanted = userAttributes(user, job.config.userExternalId);
    const cached = job.users[user.id];
    if (cached) {
      const body = updateUserBody(cached.sent, wanted, compliant);
      if (!body) return;
      await this.patch(job, report, 'Users', cached.scimId, body, user.id);
      const changed = changedUserAttributes(cached.sent, wanted);
      cached.sent = wanted;
      if (changed.length === 1 && changed[0] === 'active' && !wanted.active) report.usersDisabled++;
      else report.usersUpdated++;
      return;
    }
    // Not provisioned by this job yet: match on userName first, so an existing account is adopted, not doubled.
    const found = await this.expect(
      job,
      report,
      'GET',
      this.usersQuery(job, wanted.userName),
      undefined,
      [200],
      user.id,
    );
    const existing = (found.body as { Resources?: Record<string, unknown>[] }).Resources?.[0];
    if (existing && typeof existing.id === 'string') {
      const current = userAttributesOf(existing);
      const body = updateUserBody(current, wanted, compliant);
      if (body) await this.patch(job, report, 'Users', existing.id, body, user.id);
      job.users[user.id] = { sourceId: user.id, scimId: existing.id, sent: wanted };
      report.usersMatched++;
      return;
    }
    const created = await this.expect(
      job,
      report,
      'POST',
      this.collectionUrl(job, 'Users'),
      createUserBody(wanted),
      [201],
      user.id,
    );
    const id = (created.body as { id?: unknown }).id;
    if (typeof id !== 'string') throw new ExchangeFailed('POST /Users answered 201 without an id');
    job.users[user.id] = { sourceId: user.id, scimId: id, sent: wanted };
    report.usersCreated++;
  }

  private async syncGroup(
    job: ProvisioningJobState,
    report: CycleReport,
    group: Group,
    scope: { users: Map<string, User> },
    compliant: boolean,
  ): Promise<void> {
    const wanted = groupAttributes(group);
    let cached = job.groups[group.id];
    if (!cached) {
      const query = `${this.collectionUrl(job, 'Groups')}${this.querySeparator(job)}excludedAttributes=members&filter=${encodeURIComponent(
        `displayName eq ${quote(wanted.displayName)}`,
      )}`;
      const found = await this.expect(job, report, 'GET', query, undefined, [200], group.id);
      const existing = (found.body as { Resources?: Record<string, unknown>[] }).Resources?.[0];
      if (existing && typeof existing.id === 'string') {
        const body = updateGroupBody(groupAttributesOf(existing), wanted, compliant);
        if (body) await this.patch(job, report, 'Groups', existing.id, body, group.id);
        cached = { sourceId: group.id, scimId: existing.id, sent: wanted, members: [] };
        report.groupsMatched++;
      } else {
        const created = await this.expect(
          job,
          report,
          'POST',
          this.collectionUrl(job, 'Groups'),
          createGroupBody(wanted),
          [201],
          group.id,
        );
        const id = (created.body as { id?: unknown }).id;
        if (typeof id !== 'string') throw new ExchangeFailed('POST /Groups answered 201 without an id');
        cached = { sourceId: group.id, scimId: id, sent: wanted, members: [] };
        report.groupsCreated++;
      }
      job.groups[group.id] = cached;
    } else {
      const body = updateGroupBody(cached.sent, wanted, compliant);
      if (body) {
        await this.patch(job, report, 'Groups', cached.scimId, body, group.id);
        cached.sent = wanted;
        report.groupsUpdated++;
      }
    }
    // Members: the group's direct user members that are in scope and provisioned by this job, by SCIM id.
    const wantedMembers = this.store.memberships
      .filter((m) => m.groupId === group.id && scope.users.has(m.memberId) && job.users[m.memberId])
      .map((m) => job.users[m.memberId].scimId);
    // A member the job deleted is gone from the target's groups already: nothing to send for it.
    const live = new Set(Object.values(job.users).map((u) => u.scimId));
    cached.members = cached.members.filter((id) => live.has(id));
    const add = wantedMembers.filter((id) => !cached.members.includes(id));
    const remove = cached.members.filter((id) => !wantedMembers.includes(id));
    for (let i = 0; i < Math.max(add.length, remove.length); i += MEMBER_BATCH) {
      const addNow = add.slice(i, i + MEMBER_BATCH);
      const removeNow = remove.slice(i, i + MEMBER_BATCH);
      const body = membersBody(addNow, removeNow, compliant);
      if (!body) continue;
      await this.patch(job, report, 'Groups', cached.scimId, body, group.id);
      cached.members = [...cached.members.filter((id) => !removeNow.includes(id)), ...addNow];
      report.membersAdded += addNow.length;
      report.membersRemoved += removeNow.length;
    }
  }

  private async guard(
    job: ProvisioningJobState,
    report: CycleReport,
    objectType: 'User' | 'Group',
    sourceId: string,
    work: () => Promise<void>,
  ): Promise<void> {
    const same = (e: { objectType: string; sourceId: string }) =>
      e.objectType === objectType && e.sourceId === sourceId;
    try {
      await work();
      job.escrow = job.escrow.filter((e) => !same(e));
    } catch (error) {
      report.failed++;
      const now = new Date(this.store.now()).toISOString();
      const message = error instanceof Error ? error.message : String(error);
      const entry = job.escrow.find(same);
      if (entry) {
        entry.attempts++;
        entry.lastFailedAt = now;
        entry.lastError = message;
      } else {
        job.escrow.push({
          objectType,
          sourceId,
          attempts: 1,
          firstFailedAt: now,
          lastFailedAt: now,
          lastError: message,
        });
      }
    }
  }

  private finish(report: CycleReport, started: Date): void {
    const finished = new Date(this.store.now());
    report.finishedAt = finished.toISOString();
    report.durationMs = finished.getTime() - started.getTime();
  }

  // --- HTTP ---------------------------------------------------------------------------------------

  private base(job: ProvisioningJobState): URL {
    return new URL(job.config.tenantUrl);
  }

  /** `{Tenant URL path}/{resource}` with the Tenant URL's own query (e.g. `aadOptscim062020`) kept. */
  private collectionUrl(job: ProvisioningJobState, resource: 'Users' | 'Groups'): string {
    const url = this.base(job);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${resource}`;
    return url.toString();
  }

  private resourceUrl(job: ProvisioningJobState, resource: 'Users' | 'Groups', id: string): string {
    const url = this.base(job);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${resource}/${encodeURIComponent(id)}`;
    return url.toString();
  }

  private querySeparator(job: ProvisioningJobState): string {
    return this.base(job).search ? '&' : '?';
  }

  private usersQuery(job: ProvisioningJobState, userName: string): string {
    return `${this.collectionUrl(job, 'Users')}${this.querySeparator(job)}filter=${encodeURIComponent(
      `userName eq ${quote(userName)}`,
    )}`;
  }

  private async patch(
    job: ProvisioningJobState,
    report: CycleReport,
    resource: 'Users' | 'Groups',
    scimId: string,
    body: unknown,
    sourceId: string,
  ): Promise<void> {
    await this.expect(
      job,
      report,
      'PATCH',
      this.resourceUrl(job, resource, scimId),
      body,
      [200, 204],
      sourceId,
    );
  }

  private async expect(
    job: ProvisioningJobState,
    report: CycleReport,
    method: string,
    url: string,
    body: unknown,
    statuses: number[],
    sourceId?: string,
  ): Promise<Answer> {
    const answer = await this.send(job, report, method, url, body, sourceId);
    if (!statuses.includes(answer.status)) {
      const detail = (answer.body as { detail?: unknown } | undefined)?.detail;
      throw new ExchangeFailed(
        `${method} ${new URL(url).pathname} answered ${answer.status || 'nothing'}${typeof detail === 'string' ? `: ${detail}` : ''}`,
      );
    }
    return answer;
  }

  /** One request, recorded in the job's log whatever happens. */
  private async send(
    job: ProvisioningJobState,
    report: CycleReport,
    method: string,
    url: string,
    body?: unknown,
    sourceId?: string,
  ): Promise<Answer> {
    const started = performance.now();
    const exchange: Exchange = {
      cycle: report.number,
      at: new Date(this.store.now()).toISOString(),
      method,
      url,
      ...(body !== undefined ? { requestBody: body } : {}),
      status: 0,
      durationMs: 0,
      ...(sourceId ? { sourceId } : {}),
    };
    report.requests++;
    try {
      const response = await this.fetchImpl(url, {
        method,
        headers: {
          authorization: `Bearer ${job.config.token}`,
          accept: 'application/scim+json',
          // Entra sends its bodies as application/json.
          ...(body !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await response.text();
      let parsed: unknown = text || undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // kept as text
      }
      exchange.status = response.status;
      if (parsed !== undefined) exchange.responseBody = parsed;
      return { status: response.status, body: parsed };
    } catch (error) {
      exchange.responseBody = { error: error instanceof Error ? error.message : String(error) };
      return { status: 0, body: undefined };
    } finally {
      exchange.durationMs = Math.round(performance.now() - started);
      job.log.push(exchange);
      if (job.log.length > LOG_LIMIT) job.log.splice(0, job.log.length - LOG_LIMIT);
    }
  }
}
