import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SchedulerRegistry } from '@nestjs/schedule';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { DeprovisioningRepository } from '../../src/deprovisioning/deprovisioning.repository.js';
import { SyncRunsService } from '../../src/deprovisioning/sync-runs.service.js';
import { EntraConnectionService } from '../../src/integrations/entra-connection.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { DEMO } from '@entra-integration/entra-emulator';
import { connectedOrganization, linkedUser, type TestOwner } from '../support/factory.js';
import { bearer, connectTenant, signIn } from '../support/sign-in.js';
import { outcomesOf, syncNow, waitForRun } from '../support/sync.js';
import { createTestContext, type TestContext } from '../support/test-app.js';
import { seatCountDrift } from '../support/seat-counts.js';

const contoso = DEMO.tenants.contoso;

type Org = TestOwner;

async function userOf(ctx: TestContext, org: Org, userId: string) {
  return (await ctx.http().get(`/api/v1/users/${userId}`).set(bearer(org.token)).expect(200)).body;
}

describe('directory sync (auto-deprovisioning)', () => {
  let ctx: TestContext;
  let org: Org;

  beforeAll(async () => {
    ctx = await createTestContext({ SYNC_POLL_INTERVAL_MS: '100' });
    org = await connectedOrganization(ctx, DEMO.users.adele.upn, { autoDeprovisionSync: true });
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('deactivates a user whose Entra account is disabled: sessions end, nothing is deleted', async () => {
    const alice = await linkedUser(ctx, org, 'alice@contoso.com');
    const session = (await signIn(ctx, alice.upn)).token;
    await ctx.http().get('/api/v1/me').set(bearer(session)).expect(200);
    // Never touched: an invited-only user without a Microsoft link, and directory users not linked here.
    const unlinked = await ctx.sql.query(
      `INSERT INTO users (organization_id, email, display_name, role) VALUES ($1, 'local@contoso.com', 'Local', 'employee') RETURNING id`,
      [org.organizationId],
    );

    ctx.emulator.store.updateUser(alice.entraId, { accountEnabled: false });
    const run = await syncNow(ctx, org.token);
    expect(run).toMatchObject({
      status: 'succeeded',
      trigger: 'manual',
      dryRun: false,
      mode: 'full',
      errorCode: null,
    });
    expect(run.counts).toMatchObject({ deactivated: 1, planned: 1 });
    expect(run.counts.notLinked).toBeGreaterThan(0);
    expect(run.counts.checked).toBeGreaterThanOrEqual(run.counts.notLinked);

    expect(await userOf(ctx, org, alice.userId)).toMatchObject({
      status: 'deactivated',
      deactivationReason: 'entra_account_disabled',
    });
    expect((await ctx.http().get('/api/v1/me').set(bearer(session)).expect(401)).body.code).toBe(
      'UNAUTHENTICATED',
    );
    expect(await outcomesOf(ctx, org.token, run.id)).toEqual([
      expect.objectContaining({
        userId: alice.userId,
        outcome: 'deactivated',
        reason: 'entra_account_disabled',
      }),
    ]);
    expect(await userOf(ctx, org, unlinked.rows[0].id)).toMatchObject({ status: 'active' });
    const disabledButUnlinked = await ctx.sql.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [
      'disabled.user@contoso.com',
    ]);
    expect(disabledButUnlinked.rows[0].n).toBe(0);

    const audit = await ctx
      .http()
      .get(`/api/v1/audit-events?action=user.deactivated&targetId=${alice.userId}`)
      .set(bearer(org.token))
      .expect(200);
    expect(audit.body.items[0]).toMatchObject({
      actor: { type: 'system' },
      after: { deactivationReason: 'entra_account_disabled', syncRunId: run.id },
    });
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(org.token)).expect(200);
    expect(status.body.lastSync).toMatchObject({ runId: run.id, status: 'succeeded', deactivated: 1 });
  });

  it('leaves already deactivated users untouched, and reads only changes the next time', async () => {
    const run = await syncNow(ctx, org.token);
    expect(run).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    expect(run.counts.deactivated).toBe(0);
    expect(run.counts.checked).toBeLessThan(5);
  });

  it('deactivates a user deleted from Entra without being disabled, once Graph confirms the deletion', async () => {
    const bob = await linkedUser(ctx, org, 'bob@contoso.com');
    await syncNow(ctx, org.token);
    ctx.emulator.store.deleteUser(bob.entraId);
    const run = await syncNow(ctx, org.token);
    expect(run.counts.deactivated).toBe(1);
    expect(await userOf(ctx, org, bob.userId)).toMatchObject({
      status: 'deactivated',
      deactivationReason: 'entra_account_deleted',
    });
  });

  it('re-deactivates a user reactivated by hand whose Entra account is still disabled', async () => {
    const carol = await linkedUser(ctx, org, 'carol@contoso.com');
    ctx.emulator.store.updateUser(carol.entraId, { accountEnabled: false });
    await syncNow(ctx, org.token);
    await ctx.http().post(`/api/v1/users/${carol.userId}/reactivate`).set(bearer(org.token)).expect(200);
    expect(await userOf(ctx, org, carol.userId)).toMatchObject({ status: 'active' });

    const run = await syncNow(ctx, org.token);
    expect(run.mode).toBe('incremental');
    expect(await userOf(ctx, org, carol.userId)).toMatchObject({
      status: 'deactivated',
      deactivationReason: 'entra_account_disabled',
    });
  });

  it('a dry run shows who would be deactivated, applies nothing, and the next real run still sees it', async () => {
    const dave = await linkedUser(ctx, org, 'dave@contoso.com');
    await syncNow(ctx, org.token);
    ctx.emulator.store.updateUser(dave.entraId, { accountEnabled: false });
    const preview = await syncNow(ctx, org.token, true);
    expect(preview).toMatchObject({
      status: 'succeeded',
      dryRun: true,
      counts: { planned: 1, deactivated: 0 },
    });
    expect(await outcomesOf(ctx, org.token, preview.id)).toEqual([
      expect.objectContaining({ userId: dave.userId, outcome: 'planned', reason: 'entra_account_disabled' }),
    ]);
    expect(await userOf(ctx, org, dave.userId)).toMatchObject({ status: 'active' });

    const real = await syncNow(ctx, org.token);
    expect(real.counts.deactivated).toBe(1);
    expect(await userOf(ctx, org, dave.userId)).toMatchObject({ status: 'deactivated' });
  });

  it('refuses a second run while one is queued or running (409 SYNC_IN_PROGRESS with its id)', async () => {
    ctx.emulator.store.updateGraphSettings({ latencyMs: 300 });
    try {
      const first = await ctx
        .http()
        .post('/api/v1/integrations/entra/sync')
        .set(bearer(org.token))
        .expect(202);
      const second = await ctx
        .http()
        .post('/api/v1/integrations/entra/sync?dryRun=true')
        .set(bearer(org.token))
        .expect(409);
      expect(second.body).toMatchObject({ code: 'SYNC_IN_PROGRESS', runId: first.body.id });
      const running = await ctx
        .http()
        .get(`/api/v1/integrations/entra/sync-runs/${first.body.id}`)
        .set(bearer(org.token))
        .expect(200);
      expect(['queued', 'running']).toContain(running.body.status);
      await waitForRun(ctx, org.token, first.body.id);
    } finally {
      ctx.emulator.store.updateGraphSettings({ latencyMs: 0 });
    }
  });

  it('holds back a run above the safety threshold; reject discards it, approve re-checks and applies', async () => {
    await ctx
      .http()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(org.token))
      .send({ deprovisionThreshold: { count: 1, percent: 0 } })
      .expect(200);
    const erin = await linkedUser(ctx, org, 'erin@contoso.com');
    const frank = await linkedUser(ctx, org, 'frank@contoso.com');
    await syncNow(ctx, org.token);
    ctx.emulator.store.updateUser(erin.entraId, { accountEnabled: false });
    ctx.emulator.store.updateUser(frank.entraId, { accountEnabled: false });

    const held = await syncNow(ctx, org.token);
    expect(held).toMatchObject({
      status: 'awaiting_approval',
      thresholdLimit: 1,
      counts: { planned: 2, deactivated: 0 },
    });
    expect(await userOf(ctx, org, erin.userId)).toMatchObject({ status: 'active' });
    const rejected = await ctx
      .http()
      .post(`/api/v1/integrations/entra/sync-runs/${held.id}/reject`)
      .set(bearer(org.token))
      .expect(200);
    expect(rejected.body.status).toBe('rejected');
    expect((await outcomesOf(ctx, org.token, held.id)).map((o) => o.outcome)).toEqual(['skipped', 'skipped']);

    // The changes were not consumed: the next run plans them again.
    const again = await syncNow(ctx, org.token);
    expect(again).toMatchObject({ status: 'awaiting_approval', counts: { planned: 2 } });
    ctx.emulator.store.updateUser(frank.entraId, { accountEnabled: true }); // fixed in Entra before the approval
    const approved = await ctx
      .http()
      .post(`/api/v1/integrations/entra/sync-runs/${again.id}/approve`)
      .set(bearer(org.token))
      .expect(202);
    expect(approved.body).toMatchObject({ id: again.id, decidedByUserId: org.userId });
    expect(['queued', 'running', 'succeeded']).toContain(approved.body.status);
    expect(await waitForRun(ctx, org.token, again.id)).toMatchObject({
      status: 'succeeded',
      counts: { deactivated: 1 },
      decidedByUserId: org.userId,
    });
    expect(await userOf(ctx, org, erin.userId)).toMatchObject({ status: 'deactivated' });
    expect(await userOf(ctx, org, frank.userId)).toMatchObject({ status: 'active' });
    const twice = await ctx
      .http()
      .post(`/api/v1/integrations/entra/sync-runs/${again.id}/approve`)
      .set(bearer(org.token))
      .expect(409);
    expect(twice.body.code).toBe('SYNC_RUN_NOT_AWAITING_APPROVAL');
    const audit = await ctx
      .http()
      .get('/api/v1/audit-events?action=sync.approved')
      .set(bearer(org.token))
      .expect(200);
    expect(audit.body.items).toHaveLength(1);
    await ctx
      .http()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(org.token))
      .send({ deprovisionThreshold: { count: 25, percent: 10 } })
      .expect(200);
  });

  it('fails without deactivating anybody when the directory cannot be read completely', async () => {
    const gina = await linkedUser(ctx, org, 'gina@contoso.com');
    ctx.emulator.store.updateUser(gina.entraId, { accountEnabled: false });
    ctx.emulator.store.addFault({ path: '/v1.0/$batch', kind: 'status', status: 500, times: Infinity });
    ctx.emulator.store.expireDeltaTokens(); // force a full round, which must confirm the missing and deleted users
    ctx.emulator.store.deleteUser((await linkedUser(ctx, org, 'henry@contoso.com')).entraId);
    try {
      const run = await syncNow(ctx, org.token);
      expect(run).toMatchObject({ status: 'failed', errorCode: 'DIRECTORY_UNAVAILABLE' });
      expect(run.errorMessage).toMatch(/nobody was deactivated/);
    } finally {
      ctx.emulator.store.clearFaults();
    }
    expect(await userOf(ctx, org, gina.userId)).toMatchObject({ status: 'active' });
    const recovered = await syncNow(ctx, org.token);
    expect(recovered).toMatchObject({ status: 'succeeded', mode: 'full' });
    expect(await userOf(ctx, org, gina.userId)).toMatchObject({ status: 'deactivated' });
  });

  it('rides out throttling: 429 with Retry-After on pages and on batch items', async () => {
    const ivan = await linkedUser(ctx, org, 'ivan@contoso.com');
    await syncNow(ctx, org.token);
    ctx.emulator.store.deleteUser(ivan.entraId);
    ctx.emulator.store.addFault({
      path: '/v1.0/users/delta',
      kind: 'status',
      status: 429,
      retryAfter: 0.2,
      times: 2,
    });
    ctx.emulator.store.addFault({
      path: `/v1.0/users/${ivan.entraId}`,
      kind: 'status',
      status: 429,
      retryAfter: 0.2,
      times: 2,
    });
    try {
      const run = await syncNow(ctx, org.token);
      expect(run).toMatchObject({ status: 'succeeded', counts: { deactivated: 1 } });
    } finally {
      ctx.emulator.store.clearFaults();
    }
    expect(await userOf(ctx, org, ivan.userId)).toMatchObject({
      deactivationReason: 'entra_account_deleted',
    });
  });

  it('finishes a run whose worker died as failed instead of leaving it running', async () => {
    // A run of another worker whose last heartbeat is still recent: it holds the organization's slot.
    const dead = await ctx.sql.query(
      `INSERT INTO sync_runs (organization_id, tenant_id, trigger, status, started_at, heartbeat_at, worker_id)
       VALUES ($1, $2, 'manual', 'running', now() - interval '10 minutes', now() - interval '30 seconds', 'gone:1') RETURNING id`,
      [org.organizationId, contoso.id],
    );
    const blocked = await ctx
      .http()
      .post('/api/v1/integrations/entra/sync')
      .set(bearer(org.token))
      .expect(409);
    expect(blocked.body.runId).toBe(dead.rows[0].id);
    // Then its worker dies: no heartbeat for longer than the abandonment limit.
    await ctx.sql.query(`UPDATE sync_runs SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1`, [
      dead.rows[0].id,
    ]);
    ctx.app.get(SyncRunsService).kick();
    const finished = await waitForRun(ctx, org.token, dead.rows[0].id);
    expect(finished).toMatchObject({ status: 'failed', errorCode: 'WORKER_LOST' });
    await syncNow(ctx, org.token);
  });

  it('queues one nightly run per organization and slot, however many replicas fire', async () => {
    const cron = ctx.app.get(SchedulerRegistry).getCronJob('entra-directory-sync');
    expect(String(cron.cronTime.source)).toBe('0 3 * * *');
    expect(cron.cronTime.timeZone).toBe('UTC');
    const runs = ctx.app.get(SyncRunsService);
    const slot = '2030-01-01T03:00Z';
    expect(await runs.enqueueScheduled(slot)).toBe(1);
    expect(await runs.enqueueScheduled(slot)).toBe(0);
    const list = await ctx
      .http()
      .get('/api/v1/integrations/entra/sync-runs')
      .set(bearer(org.token))
      .expect(200);
    const scheduled = list.body.items.filter((r: { trigger: string }) => r.trigger === 'schedule');
    expect(scheduled).toHaveLength(1);
    await waitForRun(ctx, org.token, scheduled[0].id);
    expect(await runs.enqueueScheduled(slot)).toBe(0); // even once that run has finished

    // Replicas firing at the same instant (each on its own connection): one run, and no replica fails.
    const sameInstant = '2030-01-03T03:00Z';
    const fired = await Promise.all(Array.from({ length: 4 }, () => runs.enqueueScheduled(sameInstant)));
    expect(fired.reduce((a, b) => a + b, 0)).toBe(1);
    const slotRuns = await ctx.sql.query(
      'SELECT id FROM sync_runs WHERE organization_id = $1 AND schedule_slot = $2',
      [org.organizationId, sameInstant],
    );
    expect(slotRuns.rows).toHaveLength(1);
    await waitForRun(ctx, org.token, slotRuns.rows[0].id);
  });

  it('stops with the toggle off (reactivating nobody), after a downgrade, and after a disconnect', async () => {
    const jane = await linkedUser(ctx, org, 'jane@contoso.com');
    await syncNow(ctx, org.token);
    ctx.emulator.store.updateUser(jane.entraId, { accountEnabled: false });
    await ctx
      .http()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(org.token))
      .send({ autoDeprovisionSync: false })
      .expect(200);
    const off = await ctx.http().post('/api/v1/integrations/entra/sync').set(bearer(org.token)).expect(409);
    expect(off.body.code).toBe('DEPROVISIONING_DISABLED');
    const runs = ctx.app.get(SyncRunsService);
    expect(await runs.enqueueScheduled('2030-01-02T03:00Z')).toBe(0);
    expect(await userOf(ctx, org, jane.userId)).toMatchObject({ status: 'active' });
    const deactivated = await ctx.sql.query(
      "SELECT count(*)::int AS n FROM users WHERE organization_id = $1 AND status = 'deactivated'",
      [org.organizationId],
    );
    expect(deactivated.rows[0].n).toBeGreaterThan(0); // turning it off reactivated nobody

    await ctx
      .http()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(org.token))
      .send({ autoDeprovisionSync: true })
      .expect(200);
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(org.organizationId, { plan: 'team' }, SYSTEM_ACTOR);
    expect(
      (await ctx.http().post('/api/v1/integrations/entra/sync').set(bearer(org.token)).expect(403)).body.code,
    ).toBe('PLAN_REQUIRED');
    expect(await runs.enqueueScheduled('2030-01-03T03:00Z')).toBe(0);
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(org.organizationId, { plan: 'enterprise' }, SYSTEM_ACTOR);

    await ctx.http().delete('/api/v1/integrations/entra').set(bearer(org.token)).expect(204);
    expect(
      (await ctx.http().post('/api/v1/integrations/entra/sync').set(bearer(org.token)).expect(409)).body.code,
    ).toBe('ENTRA_NOT_CONNECTED');
    expect(await runs.enqueueScheduled('2030-01-04T03:00Z')).toBe(0);
    expect(await userOf(ctx, org, jane.userId)).toMatchObject({ status: 'active' });
  });
});

describe('directory sync failures and edges', () => {
  let ctx: TestContext;
  let org: Org;

  beforeAll(async () => {
    ctx = await createTestContext({ SYNC_POLL_INTERVAL_MS: '100' });
    org = await connectedOrganization(ctx, DEMO.users.adele.upn, { autoDeprovisionSync: true });
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('a refresh token Microsoft rejects fails the run with ENTRA_REAUTHORIZATION_REQUIRED and deactivates nobody', async () => {
    const kim = await linkedUser(ctx, org, 'kim@contoso.com');
    ctx.emulator.store.updateUser(kim.entraId, { accountEnabled: false });
    ctx.emulator.store.revokeRefreshTokens({ tenantId: contoso.id });
    await ctx.sql.query("UPDATE entra_connections SET access_token_expires_at = now() - interval '1 minute'");
    const started = await ctx
      .http()
      .post('/api/v1/integrations/entra/sync')
      .set(bearer(org.token))
      .expect(202);
    const run = await waitForRun(ctx, org.token, started.body.id);
    expect(run).toMatchObject({ status: 'failed', errorCode: 'ENTRA_REAUTHORIZATION_REQUIRED' });
    expect(await userOf(ctx, org, kim.userId)).toMatchObject({ status: 'active' });
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(org.token)).expect(200);
    expect(status.body.status).toBe('reauthorization_required');
    const next = await ctx.http().post('/api/v1/integrations/entra/sync').set(bearer(org.token)).expect(409);
    expect(next.body.code).toBe('ENTRA_REAUTHORIZATION_REQUIRED');
  });

  it('says so loudly when it deactivates the last active owner', async () => {
    expect((await connectTenant(ctx, org.token, DEMO.users.adele.upn)).status).toBe('connected');
    ctx.emulator.store.updateUser(DEMO.users.adele.id, { accountEnabled: false });
    const started = await ctx
      .http()
      .post('/api/v1/integrations/entra/sync')
      .set(bearer(org.token))
      .expect(202);
    // The owner's own session ends with the run, so watch it from the database.
    let run: { status: string; last_owner_deactivated: boolean } | undefined;
    for (let i = 0; i < 200 && !['succeeded', 'failed'].includes(run?.status ?? ''); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      run = (
        await ctx.sql.query('SELECT status, last_owner_deactivated FROM sync_runs WHERE id = $1', [
          started.body.id,
        ])
      ).rows[0];
    }
    expect(run).toEqual({ status: 'succeeded', last_owner_deactivated: true });
    await ctx.http().get('/api/v1/me').set(bearer(org.token)).expect(401);
    const row = await ctx.sql.query('SELECT status FROM users WHERE id = $1', [org.userId]);
    expect(row.rows[0].status).toBe('deactivated');
    const audit = await ctx.sql.query(
      "SELECT count(*)::int AS n FROM audit_events WHERE action = 'sync.last_owner_deactivated'",
    );
    expect(audit.rows[0].n).toBe(1);
  });

  it('keeps runs to their organization: another organization gets 404', async () => {
    const [{ id }] = (await ctx.sql.query('SELECT id FROM sync_runs LIMIT 1')).rows;
    const other = await signIn(ctx, DEMO.users.diego.upn);
    const me = await ctx.http().get('/api/v1/me').set(bearer(other.token)).expect(200);
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(me.body.organizationId, { plan: 'enterprise' }, SYSTEM_ACTOR);
    const response = await ctx
      .http()
      .get(`/api/v1/integrations/entra/sync-runs/${id}`)
      .set(bearer(other.token))
      .expect(404);
    expect(response.body.code).toBe('SYNC_RUN_NOT_FOUND');
    await ctx
      .http()
      .post(`/api/v1/integrations/entra/sync-runs/${id}/approve`)
      .set(bearer(other.token))
      .expect(404);
  });
});

describe('directory sync under timeouts and shutdowns', () => {
  let ctx: TestContext;
  let org: Org;

  beforeAll(async () => {
    ctx = await createTestContext({ SYNC_POLL_INTERVAL_MS: '100', GRAPH_TIMEOUT_MS: '800' });
    org = await connectedOrganization(ctx, DEMO.users.adele.upn, { autoDeprovisionSync: true });
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('gives up on a Graph request that never answers, fails the run and deactivates nobody', async () => {
    const lena = await linkedUser(ctx, org, 'lena@contoso.com');
    ctx.emulator.store.updateUser(lena.entraId, { accountEnabled: false });
    ctx.emulator.store.addFault({ path: '/v1.0/users/delta', kind: 'timeout', times: Infinity });
    try {
      const run = await syncNow(ctx, org.token);
      expect(run).toMatchObject({ status: 'failed', errorCode: 'DIRECTORY_UNAVAILABLE' });
    } finally {
      ctx.emulator.store.clearFaults();
    }
    expect(await userOf(ctx, org, lena.userId)).toMatchObject({ status: 'active' });
  });

  it('a run cut short by a shutdown ends as failed (INTERRUPTED), never left running', async () => {
    ctx.emulator.store.generateUsers(contoso.id, 4000);
    ctx.emulator.store.updateGraphSettings({ latencyMs: 250 });
    try {
      const started = await ctx
        .http()
        .post('/api/v1/integrations/entra/sync')
        .set(bearer(org.token))
        .expect(202);
      for (let i = 0; i < 100; i++) {
        const { rows } = await ctx.sql.query('SELECT progress_checked FROM sync_runs WHERE id = $1', [
          started.body.id,
        ]);
        if (rows[0].progress_checked > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await ctx.reopen({}); // the old process stops: graceful shutdown of the worker
      const { rows } = await ctx.sql.query('SELECT status, error_code FROM sync_runs WHERE id = $1', [
        started.body.id,
      ]);
      expect(rows[0]).toEqual({ status: 'failed', error_code: 'INTERRUPTED' });
    } finally {
      ctx.emulator.store.updateGraphSettings({ latencyMs: 0 });
    }
    const users = await ctx.sql.query("SELECT count(*)::int AS n FROM users WHERE status = 'deactivated'");
    expect(users.rows[0].n).toBe(0);
  });
});

describe('approving a held-back plan goes through the queue', () => {
  let ctx: TestContext;
  let org: Org;

  beforeAll(async () => {
    ctx = await createTestContext({ SYNC_POLL_INTERVAL_MS: '100' });
    org = await connectedOrganization(ctx, DEMO.users.adele.upn, { autoDeprovisionSync: true });
    await ctx
      .http()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(org.token))
      .send({ deprovisionThreshold: { count: 1, percent: 0 } })
      .expect(200);
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  /** Linked users, disabled in Entra after a first sync, and the run that holds their deactivation back. */
  async function heldBackRun(upns: string[]) {
    const users = [];
    for (const upn of upns) users.push(await linkedUser(ctx, org, upn));
    await syncNow(ctx, org.token);
    for (const user of users) ctx.emulator.store.updateUser(user.entraId, { accountEnabled: false });
    const held = await syncNow(ctx, org.token);
    expect(held).toMatchObject({ status: 'awaiting_approval', counts: { planned: users.length } });
    return { users, held };
  }

  async function waitForStatus(runId: string, status: string) {
    for (let i = 0; i < 400; i++) {
      const { rows } = await ctx.sql.query('SELECT status FROM sync_runs WHERE id = $1', [runId]);
      if (rows[0].status === status) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`run ${runId} never became ${status}`);
  }

  const runsOfOrganization = async () =>
    (
      await ctx.sql.query('SELECT id, status, error_code FROM sync_runs WHERE organization_id = $1', [
        org.organizationId,
      ])
    ).rows;

  it('an approval an hour after the hold is applied by the worker: one run, never WORKER_LOST, 409 meanwhile', async () => {
    const { users, held } = await heldBackRun(['amy@contoso.com', 'bob@contoso.com', 'cid@contoso.com']);
    // The hold happened an hour ago, far beyond the two minutes after which a silent run counts as abandoned.
    await ctx.sql.query(
      `UPDATE sync_runs SET created_at = created_at - interval '1 hour', started_at = started_at - interval '1 hour',
              finished_at = finished_at - interval '1 hour', heartbeat_at = heartbeat_at - interval '1 hour'
        WHERE id = $1`,
      [held.id],
    );
    const before = await runsOfOrganization();
    ctx.emulator.store.updateGraphSettings({ latencyMs: 300 }); // the re-check of each user reads Graph
    try {
      const approved = await ctx
        .http()
        .post(`/api/v1/integrations/entra/sync-runs/${held.id}/approve`)
        .set(bearer(org.token))
        .expect(202);
      expect(approved.body).toMatchObject({ id: held.id, decidedByUserId: org.userId, finishedAt: null });
      expect(['queued', 'running']).toContain(approved.body.status);

      const meanwhile = await ctx
        .http()
        .post('/api/v1/integrations/entra/sync')
        .set(bearer(org.token))
        .expect(409);
      expect(meanwhile.body).toMatchObject({ code: 'SYNC_IN_PROGRESS', runId: held.id });

      await waitForStatus(held.id, 'running');
      // Applying under the worker's heartbeat: no replica's sweep finds it abandoned.
      const stale = await ctx.app
        .get(DeprovisioningRepository)
        .findAbandonedRunsAcrossOrganizations(new Date(Date.now() - 2 * 60_000));
      expect(stale.map((r) => r.id)).not.toContain(held.id);
      const dryRunMeanwhile = await ctx
        .http()
        .post('/api/v1/integrations/entra/sync?dryRun=true')
        .set(bearer(org.token))
        .expect(409);
      expect(dryRunMeanwhile.body.runId).toBe(held.id);
    } finally {
      ctx.emulator.store.updateGraphSettings({ latencyMs: 0 });
    }

    const finished = await waitForRun(ctx, org.token, held.id);
    expect(finished).toMatchObject({
      status: 'succeeded',
      errorCode: null,
      counts: { deactivated: 3, planned: 3 },
      // The run keeps the start of the round that planned it.
      startedAt: held.startedAt ? new Date(Date.parse(held.startedAt) - 3_600_000).toISOString() : null,
    });
    for (const user of users)
      expect(await userOf(ctx, org, user.userId)).toMatchObject({ status: 'deactivated' });
    const after = await runsOfOrganization();
    expect(after).toHaveLength(before.length); // no second run was accepted
    expect(after.filter((r) => r.error_code === 'WORKER_LOST')).toEqual([]);
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(org.token)).expect(200);
    expect(status.body.lastSync).toEqual({
      runId: held.id,
      trigger: 'manual',
      dryRun: false,
      status: 'succeeded',
      startedAt: finished.startedAt,
      finishedAt: finished.finishedAt,
      deactivated: 3,
      planned: 3,
      errorCode: null,
    });
    const audit = await ctx.sql.query(
      "SELECT action, after FROM audit_events WHERE target_id = $1 AND action LIKE 'sync.%' ORDER BY created_at",
      [held.id],
    );
    expect(audit.rows.map((r) => r.action)).toEqual([
      'sync.requested',
      'sync.awaiting_approval',
      'sync.approved',
      'sync.finished',
    ]);
    expect(audit.rows[3].after).toMatchObject({ status: 'succeeded', deactivated: 3 });
  });

  it('lists the connections whose sync runs now with the same shape as a single lookup', async () => {
    const integrations = ctx.app.get(EntraConnectionService);
    const single = await integrations.findByOrganization(org.organizationId);
    expect(single).toMatchObject({ healthy: true, features: { autoDeprovisionSync: true } });
    expect(await integrations.listSyncEnabled()).toEqual([single]);
  });

  it('a status change that finds an unexpected status changes nothing', async () => {
    const { users, held } = await heldBackRun(['dee@contoso.com', 'eve@contoso.com']);
    const repository = ctx.app.get(DeprovisioningRepository);
    const row = async () =>
      (await ctx.sql.query('SELECT status, error_code, finished_at FROM sync_runs WHERE id = $1', [held.id]))
        .rows[0];
    const original = await row();
    // A worker finishing a run it does not hold (it is awaiting approval, not running).
    const run = { id: held.id, organizationId: org.organizationId };
    expect(await repository.transitionRun(run, 'running', { status: 'succeeded' })).toBe(false);
    expect(await repository.touchRun(run, 'some-worker', { countDeactivated: 9 })).toBe(false);
    expect(await row()).toEqual(original);

    const rejected = await ctx
      .http()
      .post(`/api/v1/integrations/entra/sync-runs/${held.id}/reject`)
      .set(bearer(org.token))
      .expect(200);
    expect(rejected.body.status).toBe('rejected');
    // Neither a second decision nor a late approval touches a rejected run.
    for (const action of ['approve', 'reject']) {
      const late = await ctx
        .http()
        .post(`/api/v1/integrations/entra/sync-runs/${held.id}/${action}`)
        .set(bearer(org.token))
        .expect(409);
      expect(late.body.code).toBe('SYNC_RUN_NOT_AWAITING_APPROVAL');
    }
    expect((await row()).status).toBe('rejected');
    expect((await outcomesOf(ctx, org.token, held.id)).map((o) => o.outcome)).toEqual(['skipped', 'skipped']);
    for (const user of users) ctx.emulator.store.updateUser(user.entraId, { accountEnabled: true });
  });

  it('a run ended as WORKER_LOST elsewhere is never overwritten by its worker finishing late', async () => {
    ctx.emulator.store.generateUsers(contoso.id, 1500);
    ctx.emulator.store.updateGraphSettings({ latencyMs: 200 });
    let runId: string;
    try {
      const started = await ctx
        .http()
        .post('/api/v1/integrations/entra/sync?dryRun=true')
        .set(bearer(org.token))
        .expect(202);
      runId = started.body.id;
      await waitForStatus(runId, 'running');
      // Another replica's sweep ended it while this worker was still reading the directory.
      await ctx.sql.query(
        "UPDATE sync_runs SET status = 'failed', error_code = 'WORKER_LOST', finished_at = now() WHERE id = $1",
        [runId],
      );
    } finally {
      ctx.emulator.store.updateGraphSettings({ latencyMs: 0 });
    }
    // This process runs one run at a time: once the next run is done, the swept one's worker has stopped.
    await syncNow(ctx, org.token, true);
    const { rows } = await ctx.sql.query('SELECT status, error_code FROM sync_runs WHERE id = $1', [runId]);
    expect(rows[0]).toEqual({ status: 'failed', error_code: 'WORKER_LOST' });
  });

  it('a shutdown while an approved plan is being applied ends the run INTERRUPTED, not succeeded', async () => {
    const { users, held } = await heldBackRun(['fay@contoso.com', 'gus@contoso.com']);
    ctx.emulator.store.updateGraphSettings({ latencyMs: 400 });
    try {
      await ctx
        .http()
        .post(`/api/v1/integrations/entra/sync-runs/${held.id}/approve`)
        .set(bearer(org.token))
        .expect(202);
      await waitForStatus(held.id, 'running');
      await ctx.reopen({}); // the old process stops: graceful shutdown of the worker
    } finally {
      ctx.emulator.store.updateGraphSettings({ latencyMs: 0 });
    }
    const { rows } = await ctx.sql.query(
      'SELECT status, error_code, error_message FROM sync_runs WHERE id = $1',
      [held.id],
    );
    expect(rows[0]).toMatchObject({ status: 'failed', error_code: 'INTERRUPTED' });
    expect(rows[0].error_message).toMatch(/while the plan was being applied/);
    for (const user of users) expect(await userOf(ctx, org, user.userId)).toMatchObject({ status: 'active' });
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(org.token)).expect(200);
    expect(status.body.lastSync).toMatchObject({
      runId: held.id,
      status: 'failed',
      errorCode: 'INTERRUPTED',
    });
  });
});
