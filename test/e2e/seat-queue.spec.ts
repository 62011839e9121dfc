import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { EVENT_DATA_SCHEMA } from '../../src/events/dto/event.dto.js';
import type { EventType } from '../../src/events/event-types.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { connectedOrganization, directoryUser, type TestOwner } from '../support/factory.js';
import { committedDocument, schemaViolations } from '../support/schema-check.js';
import { bearer, signIn } from '../support/sign-in.js';
import { syncNow } from '../support/sync.js';
import { createTestContext, type TestContext } from '../support/test-app.js';
import { seatCountDrift } from '../support/seat-counts.js';

interface UserRow {
  id: string;
  email: string;
  status: string;
  pendingReason: string | null;
  queuePosition: number | null;
}

describe('the seat queue of auto-provisioned users', () => {
  let ctx: TestContext;
  let owner: TestOwner;
  let organizations: OrganizationsService;
  let people = 0;

  /** A new Contoso member signing in for the first time; returns their address and where they ended. */
  async function arrive(name = `person${++people}`) {
    const upn = `${name}@contoso.com`;
    const entra = directoryUser(ctx, upn);
    const result = await signIn(ctx, upn);
    return { upn, entraId: entra.id, result };
  }

  async function users(query = '') {
    const response = await ctx
      .http()
      .get(`/api/v1/users?limit=200${query}`)
      .set(bearer(owner.token))
      .expect(200);
    return response.body.items as UserRow[];
  }

  const queue = async () =>
    (await users('&status=pending'))
      .filter((u) => u.pendingReason === 'awaiting_seat')
      .sort((a, b) => a.queuePosition! - b.queuePosition!)
      .map((u) => u.email);

  const active = async () =>
    (
      await ctx.sql.query(
        "SELECT count(*)::int AS n FROM users WHERE organization_id = $1 AND status = 'active'",
        [owner.organizationId],
      )
    ).rows[0].n as number;

  const setSeats = (seatLimit: number) =>
    organizations.updateSubscription(owner.organizationId, { seatLimit }, SYSTEM_ACTOR);

  const userId = async (email: string) => (await users()).find((u) => u.email === email)!.id;

  beforeAll(async () => {
    ctx = await createTestContext({ SYNC_POLL_INTERVAL_MS: '100' });
    owner = await connectedOrganization(
      ctx,
      DEMO.users.adele.upn,
      { autoProvisionUsers: true, autoDeprovisionSync: true },
      2,
    );
    organizations = ctx.app.get(OrganizationsService);
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('queues arrivals first in, first out once the seats are taken; queued users hold no seat', async () => {
    expect((await arrive('first')).result.error).toBeNull();
    for (const name of ['q1', 'q2', 'q3']) {
      const { result } = await arrive(name);
      expect(result.location).toBe(
        `${ctx.config.appUiUrl}/sign-in?error=seat_limit_reached&reason=awaiting_seat`,
      );
    }
    expect(await queue()).toEqual(['q1@contoso.com', 'q2@contoso.com', 'q3@contoso.com']);
    expect((await users('&status=pending')).map((u) => u.queuePosition)).toEqual([1, 2, 3]);
    const organization = await ctx.http().get('/api/v1/organization').set(bearer(owner.token)).expect(200);
    expect(organization.body.seatsUsed).toBe(2);
    // Each queued arrival is in the events feed as user.pending, with the REST user and its reason.
    const feed = await ctx
      .http()
      .get('/api/v1/events?types=user.pending')
      .set(bearer(owner.token))
      .expect(200);
    const pending = (await users('&status=pending')).sort((a, b) => a.queuePosition! - b.queuePosition!);
    expect(feed.body.items).toHaveLength(3);
    feed.body.items.forEach((event: { type: string; data: Record<string, unknown> }, i: number) => {
      expect(event.type).toBe('user.pending');
      expect(event.data).toMatchObject({
        user: {
          id: pending[i].id,
          email: pending[i].email,
          status: 'pending',
          pendingReason: 'awaiting_seat',
        },
        reason: 'awaiting_seat',
        source: 'sign_in',
      });
    });
    // Queued users cannot sign in yet.
    expect((await signIn(ctx, 'q1@contoso.com')).location).toContain(
      'error=account_pending&reason=awaiting_seat',
    );
  });

  it('a deactivation by hand gives its seat to the oldest queued user, audited', async () => {
    const first = await userId('first@contoso.com');
    await ctx.http().post(`/api/v1/users/${first}/deactivate`).set(bearer(owner.token)).expect(200);
    expect(await queue()).toEqual(['q2@contoso.com', 'q3@contoso.com']);
    const q1 = (await users()).find((u) => u.email === 'q1@contoso.com')!;
    expect(q1).toMatchObject({ status: 'active', pendingReason: null, queuePosition: null });
    const audit = await ctx
      .http()
      .get(`/api/v1/audit-events?action=user.activated&targetId=${q1.id}`)
      .set(bearer(owner.token))
      .expect(200);
    expect(audit.body.items[0]).toMatchObject({
      actor: { type: 'system' },
      after: { status: 'active', cause: 'seat_freed:user_deactivated' },
    });
    // The feed says why: a freed seat moved the queue (the service, not a tenant assignment nor a person).
    const feed = await ctx
      .http()
      .get('/api/v1/events?types=user.activated')
      .set(bearer(owner.token))
      .expect(200);
    const activated = (feed.body.items as { type: EventType; data: { user: { id: string } } }[]).filter(
      (e) => e.data.user.id === q1.id,
    );
    expect(activated).toHaveLength(1);
    expect(activated[0].data).toMatchObject({
      user: { id: q1.id, status: 'active' },
      reason: 'seat_freed:user_deactivated',
      source: 'system',
    });
    const document = committedDocument();
    expect(schemaViolations(document, 'EventDto', activated[0])).toEqual([]);
    expect(schemaViolations(document, EVENT_DATA_SCHEMA['user.activated'], activated[0].data)).toEqual([]);
    expect((await signIn(ctx, 'q1@contoso.com')).error).toBeNull();
    expect(await active()).toBe(2);
  });

  it('a raised seat limit seats as many as it adds, in order; a lower one seats nobody', async () => {
    await setSeats(3);
    expect(await queue()).toEqual(['q3@contoso.com']);
    expect(await active()).toBe(3);
    await setSeats(2);
    expect(await queue()).toEqual(['q3@contoso.com']);
    expect(await active()).toBe(3);
  });

  it('a plan change moves the queue too (e.g. after a limit set outside the service)', async () => {
    await ctx.sql.query('UPDATE organizations SET seat_limit = 4 WHERE id = $1', [owner.organizationId]);
    expect(await queue()).toEqual(['q3@contoso.com']);
    await organizations.updateSubscription(owner.organizationId, { plan: 'enterprise' }, SYSTEM_ACTOR);
    expect(await queue()).toEqual([]);
    expect(await active()).toBe(4);
  });

  it('a deactivation by the directory sync frees a seat for the queue', async () => {
    const waiting = await arrive('q4');
    expect(waiting.result.error).toBe('seat_limit_reached');
    const q2 = ctx.emulator.store.users.find((u) => u.userPrincipalName === 'q2@contoso.com')!;
    ctx.emulator.store.updateUser(q2.id, { accountEnabled: false });
    const run = await syncNow(ctx, owner.token);
    expect(run.counts).toMatchObject({ deactivated: 1 });
    expect(await queue()).toEqual([]);
    expect((await users()).find((u) => u.email === 'q4@contoso.com')).toMatchObject({ status: 'active' });
    expect(await active()).toBe(4);
  });

  it('activating by hand skips the queue when a seat is free, and is 409 SEAT_LIMIT_REACHED when none is', async () => {
    await arrive('q5');
    await arrive('q6');
    const q6 = await userId('q6@contoso.com');
    const full = await ctx.http().post(`/api/v1/users/${q6}/activate`).set(bearer(owner.token));
    expect(full.status).toBe(409);
    expect(full.body).toMatchObject({ code: 'SEAT_LIMIT_REACHED', seatLimit: 4 });
    await ctx.sql.query('UPDATE organizations SET seat_limit = 5 WHERE id = $1', [owner.organizationId]);
    await ctx.http().post(`/api/v1/users/${q6}/activate`).set(bearer(owner.token)).expect(200);
    expect(await queue()).toEqual(['q5@contoso.com']);
    expect(await active()).toBe(5);
    const unknown = await ctx
      .http()
      .post('/api/v1/users/00000000-0000-4000-8000-000000000000/activate')
      .set(bearer(owner.token));
    expect(unknown.body.code).toBe('USER_NOT_FOUND');
  });

  it('concurrent arrivals never take more seats than there are; the rest each get a place in the queue', async () => {
    // q5 waits; two seats are added: q5 gets one, and of eight concurrent arrivals exactly one gets the other.
    await setSeats(7);
    expect(await queue()).toEqual([]);
    expect(await active()).toBe(6);
    const names = Array.from({ length: 8 }, (_, i) => `rush${i}`);
    const results = await Promise.all(names.map((name) => arrive(name)));
    expect(results.filter((r) => r.result.error === null)).toHaveLength(1);
    expect(results.filter((r) => r.result.error === 'seat_limit_reached')).toHaveLength(7);
    expect(await active()).toBe(7);
    const waiting = await users('&status=pending');
    const rushQueue = waiting.filter((u) => u.email.startsWith('rush'));
    expect(rushQueue.map((u) => u.queuePosition).sort((a, b) => a! - b!)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('concurrent deactivations and arrivals keep the limit and serve the queue first in, first out', async () => {
    const before = await queue();
    const rushers = (await users()).filter((u) => u.status === 'active' && u.email.startsWith('q'));
    const leaving = rushers.slice(0, 3);
    await Promise.all([
      ...leaving.map((u) =>
        ctx.http().post(`/api/v1/users/${u.id}/deactivate`).set(bearer(owner.token)).expect(200),
      ),
      arrive('late1'),
      arrive('late2'),
    ]);
    expect(await active()).toBe(7);
    const after = await queue();
    // The three oldest waiting got the seats; everyone else still waits, the newcomers behind them.
    expect(after.slice(0, before.length - 3)).toEqual(before.slice(3));
    expect(after.slice(before.length - 3).sort()).toEqual(['late1@contoso.com', 'late2@contoso.com']);
    for (const email of before.slice(0, 3))
      expect((await users()).find((u) => u.email === email)).toMatchObject({ status: 'active' });
  });
});
