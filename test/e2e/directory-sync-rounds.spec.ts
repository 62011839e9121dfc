import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DEMO } from '@entra-integration/entra-emulator';
import { connectedOrganization, linkedUser, type TestOwner } from '../support/factory.js';
import { bearer } from '../support/sign-in.js';
import { syncNow, waitForRun } from '../support/sync.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const contoso = DEMO.tenants.contoso;
const DIRECTORY_SIZE = 2_500;

/**
 * How a sync reads the directory at Graph's real page sizes: full rounds through `GET /users` (999 per page)
 * with the delta link taken before the read, incremental rounds through that link, and a full round whenever
 * the stored link cannot be used.
 */
describe('directory sync rounds', () => {
  let ctx: TestContext;
  let org: TestOwner;
  /** Linked before the bulk of the directory exists: listed on the first page of a full read. */
  let early: Awaited<ReturnType<typeof linkedUser>>;

  const requests = () => ctx.emulator.store.graphRequestCount();
  const statusOf = async (userId: string) =>
    (await ctx.http().get(`/api/v1/users/${userId}`).set(bearer(org.token)).expect(200)).body as {
      status: string;
      deactivationReason: string | null;
    };
  const storedDeltaLink = async () =>
    (
      await ctx.sql.query('SELECT delta_link FROM directory_sync_states WHERE organization_id = $1', [
        org.organizationId,
      ])
    ).rows[0]?.delta_link as string | undefined;
  const storeDeltaLink = (link: string) =>
    ctx.sql.query('UPDATE directory_sync_states SET delta_link = $2 WHERE organization_id = $1', [
      org.organizationId,
      link,
    ]);

  beforeAll(async () => {
    ctx = await createTestContext({ SYNC_POLL_INTERVAL_MS: '100' });
    org = await connectedOrganization(ctx, DEMO.users.adele.upn, { autoDeprovisionSync: true });
    early = await linkedUser(ctx, org, 'early@contoso.com');
    ctx.emulator.store.generateUsers(contoso.id, DIRECTORY_SIZE);
  });
  afterAll(() => ctx?.close());

  it('reads a full round as GET /users at 999 per page after taking its delta link, then only the changes', async () => {
    const before = requests();
    const full = await syncNow(ctx, org.token);
    expect(full).toMatchObject({ status: 'succeeded', mode: 'full' });
    expect(full.counts.checked).toBeGreaterThan(DIRECTORY_SIZE);
    // One `$deltatoken=latest` request and ceil(~2,510 / 999) = 3 pages of users (a token refresh may add
    // one); delta pages (200 users at most) would have taken 13 or more.
    expect(requests() - before, 'Graph requests of the full round').toBeGreaterThanOrEqual(4);
    expect(requests() - before, 'Graph requests of the full round').toBeLessThanOrEqual(5);
    expect(await storedDeltaLink()).toMatch(/\/v1\.0\/users\/delta\?\$deltatoken=/);

    const later = await linkedUser(ctx, org, 'later@contoso.com');
    await syncNow(ctx, org.token);
    ctx.emulator.store.updateUser(later.entraId, { accountEnabled: false });
    const changesFrom = requests();
    const incremental = await syncNow(ctx, org.token);
    expect(incremental).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    expect(incremental.counts).toMatchObject({ deactivated: 1 });
    expect(requests() - changesFrom).toBe(1); // one delta page holding the one change
    expect(await statusOf(later.userId)).toMatchObject({
      status: 'deactivated',
      deactivationReason: 'entra_account_disabled',
    });
  });

  it('a change made while a full round is being read shows up in the next incremental round', async () => {
    // No delta state (as after connecting): the next run is a full round.
    await ctx.sql.query('DELETE FROM directory_sync_states WHERE organization_id = $1', [org.organizationId]);
    // Slow pages, so the change lands between reading the first page and the end of the read.
    ctx.emulator.store.addFault({ path: /^\/v1\.0\/users$/, kind: 'latency', delayMs: 300, times: 3 });
    const before = requests();
    const started = await ctx.http().post('/api/v1/integrations/entra/sync').set(bearer(org.token));
    expect(started.status).toBe(202);
    // The latest delta link, the first page and the second page requested: the first page was answered.
    while (requests() - before < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    ctx.emulator.store.updateUser(early.entraId, { accountEnabled: false });

    const full = await waitForRun(ctx, org.token, started.body.id);
    expect(full).toMatchObject({ status: 'succeeded', mode: 'full' });
    // The round listed the account while it was still enabled.
    expect(await statusOf(early.userId)).toMatchObject({ status: 'active' });

    const next = await syncNow(ctx, org.token);
    expect(next).toMatchObject({ status: 'succeeded', mode: 'incremental', counts: { deactivated: 1 } });
    expect(await statusOf(early.userId)).toMatchObject({
      status: 'deactivated',
      deactivationReason: 'entra_account_disabled',
    });
  });

  it.each([
    ['expired (410)', () => ctx.emulator.store.expireDeltaTokens()],
    [
      'invalid (400)',
      () => storeDeltaLink(`${ctx.config.entra.graphBaseUrl}/v1.0/users/delta?$deltatoken=not-a-token`),
    ],
    [
      'for another host',
      () => storeDeltaLink('https://graph.example.invalid/v1.0/users/delta?$deltatoken=abc'),
    ],
  ])('a delta link that is %s starts a full round instead of failing', async (_, spoil) => {
    const disabled = await linkedUser(ctx, org, `disabled-${randomUUID().slice(0, 8)}@contoso.com`);
    await syncNow(ctx, org.token);
    ctx.emulator.store.updateUser(disabled.entraId, { accountEnabled: false });
    await spoil();

    const run = await syncNow(ctx, org.token);
    expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded', mode: 'full', errorCode: null });
    expect(await statusOf(disabled.userId)).toMatchObject({ status: 'deactivated' });
    // The full round stored a working link again: the run after it is incremental.
    expect(await storedDeltaLink()).toMatch(
      new RegExp(`^${ctx.config.entra.graphBaseUrl}/v1\\.0/users/delta\\?`),
    );
    expect(await syncNow(ctx, org.token)).toMatchObject({ status: 'succeeded', mode: 'incremental' });
  });

  it('keeps a full round’s seen set off the identity rows, and still finds the users it never listed', async () => {
    const gone = await linkedUser(ctx, org, 'gone@contoso.com');
    await syncNow(ctx, org.token);
    ctx.emulator.store.deleteUser(gone.entraId);
    const identities = async () =>
      (await ctx.sql.query('SELECT id, xmin::text AS version FROM microsoft_identities ORDER BY id')).rows;
    const rowsBefore = await identities();

    ctx.emulator.store.expireDeltaTokens();
    const run = await syncNow(ctx, org.token);
    expect(run).toMatchObject({ status: 'succeeded', mode: 'full', counts: { deactivated: 1 } });
    expect(await statusOf(gone.userId)).toMatchObject({
      status: 'deactivated',
      deactivationReason: 'entra_account_deleted',
    });
    // Not one identity row was rewritten by the round, and its seen set went with the run.
    expect(await identities()).toEqual(rowsBefore);
    const seen = await ctx.sql.query('SELECT count(*)::int AS n FROM directory_sync_seen');
    expect(seen.rows[0].n).toBe(0);
  });

  it('clears the seen set a crashed worker left behind when the service starts again', async () => {
    // A worker died after its run ended but before dropping its seen set.
    const finished = await ctx.sql.query(
      `INSERT INTO sync_runs (organization_id, tenant_id, trigger, status, finished_at)
       VALUES ($1, $2, 'manual', 'failed', now()) RETURNING id`,
      [org.organizationId, contoso.id],
    );
    const runId = finished.rows[0].id as string;
    await ctx.sql.query(
      'INSERT INTO directory_sync_seen (run_id, object_id) SELECT $1, gen_random_uuid() FROM generate_series(1, 50)',
      [runId],
    );
    await ctx.reopen({});
    const deadline = Date.now() + 10_000;
    let left = 50;
    while (left > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      left = (
        await ctx.sql.query('SELECT count(*)::int AS n FROM directory_sync_seen WHERE run_id = $1', [runId])
      ).rows[0].n as number;
    }
    expect(left).toBe(0);
    expect(await syncNow(ctx, org.token)).toMatchObject({ status: 'succeeded' });
  });

  /** `GET /users` itself (the pages of a full round), not `/users/delta` or `/users/{id}`. */
  const USERS_PAGES = /^\/v1\.0\/users$/;

  it('a full round rides out throttled users pages (429, 503, 504 with Retry-After) and reads every page', async () => {
    const disabled = await linkedUser(ctx, org, `throttled-${randomUUID().slice(0, 8)}@contoso.com`);
    await syncNow(ctx, org.token);
    ctx.emulator.store.updateUser(disabled.entraId, { accountEnabled: false });
    ctx.emulator.store.expireDeltaTokens();
    for (const status of [429, 503, 504])
      ctx.emulator.store.addFault({ path: USERS_PAGES, kind: 'status', status, retryAfter: 0.1, times: 1 });
    try {
      const run = await syncNow(ctx, org.token);
      expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded', mode: 'full', errorCode: null });
      expect(run.counts.checked).toBeGreaterThan(DIRECTORY_SIZE);
    } finally {
      ctx.emulator.store.clearFaults();
    }
    expect(await statusOf(disabled.userId)).toMatchObject({
      status: 'deactivated',
      deactivationReason: 'entra_account_disabled',
    });
  });

  it('gives up on a users page after three retries, fails the run and deactivates nobody', async () => {
    const disabled = await linkedUser(ctx, org, `outage-${randomUUID().slice(0, 8)}@contoso.com`);
    await syncNow(ctx, org.token);
    ctx.emulator.store.updateUser(disabled.entraId, { accountEnabled: false });
    ctx.emulator.store.expireDeltaTokens();
    ctx.emulator.store.addFault({
      path: USERS_PAGES,
      kind: 'status',
      status: 503,
      retryAfter: 0.1,
      times: 4,
    });
    try {
      const run = await syncNow(ctx, org.token);
      expect(run).toMatchObject({ status: 'failed', errorCode: 'DIRECTORY_UNAVAILABLE' });
      expect(run.errorMessage).toMatch(/Graph 503/);
    } finally {
      ctx.emulator.store.clearFaults();
    }
    expect(await statusOf(disabled.userId)).toMatchObject({ status: 'active' });
    // The outage is over: the next run reads the directory and acts.
    expect(await syncNow(ctx, org.token)).toMatchObject({ status: 'succeeded', mode: 'full' });
    expect(await statusOf(disabled.userId)).toMatchObject({ status: 'deactivated' });
  });

  it('fails at once when Graph asks to wait longer than the request may take, instead of waiting past it', async () => {
    const disabled = await linkedUser(ctx, org, `slow-${randomUUID().slice(0, 8)}@contoso.com`);
    await syncNow(ctx, org.token);
    ctx.emulator.store.updateUser(disabled.entraId, { accountEnabled: false });
    ctx.emulator.store.expireDeltaTokens();
    // Twice GRAPH_TIMEOUT_MS (30 s here): sleeping through it would outlast the test's own timeout.
    ctx.emulator.store.addFault({ path: USERS_PAGES, kind: 'status', status: 429, retryAfter: 60, times: 1 });
    try {
      const run = await syncNow(ctx, org.token);
      expect(run).toMatchObject({ status: 'failed', errorCode: 'DIRECTORY_UNAVAILABLE' });
      expect(run.errorMessage).toMatch(/Graph 429/);
    } finally {
      ctx.emulator.store.clearFaults();
    }
    expect(await statusOf(disabled.userId)).toMatchObject({ status: 'active' });
  });
});
