import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '@entra-integration/entra-emulator';
import { SyncRunsService } from '../../src/deprovisioning/sync-runs.service.js';
import { connectedOrganization, linkedUser, type TestOwner } from '../support/factory.js';
import { bearer } from '../support/sign-in.js';
import { syncNow, waitForRun } from '../support/sync.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

interface Envelope {
  id: string;
  type: string;
  data: { run?: { id: string; status: string; finishedAt: string | null }; source?: string };
}

describe('a sync run ends together with its event', () => {
  let ctx: TestContext;
  let org: TestOwner;

  const syncEvents = async () =>
    (
      await ctx
        .http()
        .get('/api/v1/events?types=sync.succeeded,sync.failed,sync.awaiting_approval')
        .set(bearer(org.token))
        .expect(200)
    ).body.items as Envelope[];
  const runStatus = async (id: string) =>
    (await ctx.http().get(`/api/v1/integrations/entra/sync-runs/${id}`).set(bearer(org.token)).expect(200))
      .body.status as string;

  beforeAll(async () => {
    ctx = await createTestContext({ SYNC_POLL_INTERVAL_MS: '100' });
    org = await connectedOrganization(ctx, DEMO.users.adele.upn, { autoDeprovisionSync: true });
  });
  afterAll(() => ctx?.close());

  it('a finished run has exactly one sync event, with the run as GET shows it', async () => {
    const run = await syncNow(ctx, org.token);
    const events = (await syncEvents()).filter((e) => e.data.run?.id === run.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'sync.succeeded',
      data: { run: { id: run.id, status: 'succeeded', finishedAt: run.finishedAt }, source: 'sync' },
    });
  });

  it('when its event cannot be recorded, the run is not shown as ended either, and a later end brings both', async () => {
    const alice = await linkedUser(ctx, org, 'alice.events@contoso.com');
    ctx.emulator.store.updateUser(alice.entraId, { accountEnabled: false });
    // The outbox refuses sync events for a while. A sequence counts the refusals: it is not transactional,
    // so the test sees that the worker tried even though each try rolled back.
    await ctx.sql.query(`CREATE SEQUENCE sync_event_refusals`);
    await ctx.sql.query(`
      CREATE FUNCTION refuse_sync_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.type LIKE 'sync.%' THEN
          PERFORM nextval('sync_event_refusals');
          RAISE EXCEPTION 'the outbox is unavailable';
        END IF;
        RETURN NEW;
      END $$`);
    await ctx.sql.query(
      `CREATE TRIGGER refuse_sync_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_sync_events()`,
    );
    const before = await syncEvents();
    let runId: string;
    try {
      const started = await ctx
        .http()
        .post('/api/v1/integrations/entra/sync')
        .set(bearer(org.token))
        .expect(202);
      runId = started.body.id;
      for (;;) {
        const tried = await ctx.sql.query(`SELECT is_called FROM sync_event_refusals`);
        if (tried.rows[0].is_called) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // The end rolled back with its event: the run still shows as running, and the feed has nothing new.
      expect(await runStatus(runId)).toBe('running');
      expect(await syncEvents()).toEqual(before);
      const audit = await ctx.sql.query(
        `SELECT count(*)::int AS n FROM audit_events WHERE target_id = $1 AND action = 'sync.finished'`,
        [runId],
      );
      expect(audit.rows[0].n).toBe(0);
      // Nor did the delta link advance past a round whose end was not recorded.
      const state = await ctx.sql.query(
        `SELECT last_run_started_at FROM directory_sync_states WHERE organization_id = $1`,
        [org.organizationId],
      );
      const started2 = await ctx.sql.query(`SELECT started_at FROM sync_runs WHERE id = $1`, [runId]);
      for (const row of state.rows)
        expect(new Date(row.last_run_started_at).getTime()).toBeLessThan(
          new Date(started2.rows[0].started_at).getTime(),
        );
    } finally {
      await ctx.sql.query(`DROP TRIGGER refuse_sync_events ON events`);
      await ctx.sql.query(`DROP FUNCTION refuse_sync_events()`);
      await ctx.sql.query(`DROP SEQUENCE sync_event_refusals`);
    }

    // Its worker is gone from the run (no heartbeat any more): the sweeper ends it, and the event comes with it.
    await ctx.sql.query(`UPDATE sync_runs SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1`, [
      runId,
    ]);
    ctx.app.get(SyncRunsService).kick();
    const ended = await waitForRun(ctx, org.token, runId);
    expect(ended).toMatchObject({ status: 'failed', errorCode: 'WORKER_LOST' });
    const events = (await syncEvents()).filter((e) => e.data.run?.id === runId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'sync.failed',
      data: { run: { id: runId, status: 'failed', finishedAt: ended.finishedAt }, source: 'sync' },
    });
  });
});
