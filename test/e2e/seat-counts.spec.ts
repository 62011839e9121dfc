import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ActivationService } from '../../src/activation/activation.service.js';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { SCHEMAS } from '../../src/scim/protocol/index.js';
import { ScimUsersService } from '../../src/scim/users/scim-users.service.js';
import type { Placement } from '../../src/users/users.service.js';
import { UsersService } from '../../src/users/users.service.js';
import { ownerOf, type TestOwner } from '../support/factory.js';
import { seatCountDrift } from '../support/seat-counts.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

/**
 * The seat counts kept on the organization row (`seats_used`, `seat_queue_length`): the activation policy
 * decides from them under the organization lock, so they must equal a fresh count of the users after any
 * change, however it is written, and concurrent writers must never oversubscribe the seats.
 */
describe('the seat counts on the organization', () => {
  let ctx: TestContext;
  let owner: TestOwner;
  let n = 0;

  const counts = async (organizationId: string) =>
    (
      await ctx.sql.query(
        `SELECT seats_used, seat_queue_length, seat_limit,
                (SELECT count(*)::int FROM users u WHERE u.organization_id = o.id AND u.status = 'active') AS active,
                (SELECT count(*)::int FROM users u WHERE u.organization_id = o.id AND u.status = 'pending'
                    AND u.pending_reason = 'awaiting_seat') AS queued
           FROM organizations o WHERE id = $1`,
        [organizationId],
      )
    ).rows[0] as {
      seats_used: number;
      seat_queue_length: number;
      seat_limit: number;
      active: number;
      queued: number;
    };

  const scimUser = (userName = `seat${++n}@contoso.com`) => ({
    schemas: [SCHEMAS.USER],
    userName,
    active: true,
    displayName: userName.split('@')[0],
    emails: [{ value: userName, type: 'work', primary: true }],
  });

  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await ownerOf(ctx, DEMO.users.diego.upn, { plan: 'enterprise', seatLimit: 3 });
  });
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));
  afterAll(() => ctx?.close());

  it('counts every write to users, however it is made: inserts, status changes, bulk updates, moves, deletes', async () => {
    const org = async () =>
      (await ctx.sql.query("INSERT INTO organizations (name) VALUES ('Counts') RETURNING id")).rows[0]
        .id as string;
    const [a, b] = [await org(), await org()];
    const insert = (organizationId: string, status: string, reason: string | null) =>
      ctx.sql.query(
        `INSERT INTO users (organization_id, email, display_name, status, pending_reason, pending_since)
         VALUES ($1, $2, 'x', $3::user_status, $4::user_pending_reason, CASE WHEN $3::user_status = 'pending' THEN now() END) RETURNING id`,
        [organizationId, `u${++n}@example.com`, status, reason],
      );
    const ids: string[] = [];
    for (const [status, reason] of [
      ['active', null],
      ['active', null],
      ['pending', 'awaiting_seat'],
      ['pending', 'awaiting_seat'],
      ['pending', 'awaiting_approval'],
      ['deactivated', null],
    ] as const)
      ids.push((await insert(a, status, reason)).rows[0].id as string);
    expect(await counts(a)).toMatchObject({ seats_used: 2, seat_queue_length: 2 });

    // A queued user activated, an approval turned into a wait, a deactivated one back: one statement each.
    await ctx.sql.query(
      "UPDATE users SET status = 'active', pending_reason = NULL, pending_since = NULL WHERE id = $1",
      [ids[2]],
    );
    await ctx.sql.query("UPDATE users SET pending_reason = 'awaiting_seat' WHERE id = $1", [ids[4]]);
    await ctx.sql.query("UPDATE users SET status = 'active' WHERE id = $1", [ids[5]]);
    expect(await counts(a)).toMatchObject({ seats_used: 4, seat_queue_length: 2 });

    // A bulk deactivation (as the directory sync writes it) and an update that changes no status.
    await ctx.sql.query(
      "UPDATE users SET status = 'deactivated', pending_reason = NULL WHERE id = ANY($1::uuid[])",
      [[ids[0], ids[1], ids[3]]],
    );
    await ctx.sql.query("UPDATE users SET display_name = 'y', status = status WHERE organization_id = $1", [
      a,
    ]);
    expect(await counts(a)).toMatchObject({ seats_used: 2, seat_queue_length: 1 });

    // Moved to another organization: it leaves one count and joins the other.
    await ctx.sql.query('UPDATE users SET organization_id = $2 WHERE id = ANY($1::uuid[])', [
      [ids[2], ids[4]],
      b,
    ]);
    expect(await counts(a)).toMatchObject({ seats_used: 1, seat_queue_length: 0 });
    expect(await counts(b)).toMatchObject({ seats_used: 1, seat_queue_length: 1 });

    await ctx.sql.query('DELETE FROM users WHERE organization_id = $1', [b]);
    expect(await counts(b)).toMatchObject({ seats_used: 0, seat_queue_length: 0 });
  });

  it('two arrivals racing for the last seat: the first to lock takes it, the other queues behind it', async () => {
    const activation = ctx.app.get(ActivationService);
    const users = ctx.app.get(UsersService);
    const organizationId = owner.organizationId;
    const before = await counts(organizationId);
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(organizationId, { seatLimit: before.seats_used + 1 }, SYSTEM_ACTOR);
    const arrival = { route: 'scim', requiresApproval: false } as const;
    const create = (placement: Placement) =>
      users.createProvisioned({
        organizationId,
        placement,
        email: `race${++n}@contoso.com`,
        displayName: 'Race',
        source: 'scim',
      });

    // The first holds the organization lock, with its decision made, until we let it go on.
    let decided!: (placement: Placement) => void;
    const firstDecided = new Promise<Placement>((resolve) => (decided = resolve));
    let goOn!: () => void;
    const released = new Promise<void>((resolve) => (goOn = resolve));
    const first = activation.admit(organizationId, arrival, async (placement) => {
      decided(placement);
      await released;
      return create(placement);
    });
    expect(await firstDecided).toEqual({ status: 'active' });

    // The second waits for that lock (PostgreSQL says so), and decides only after the first committed.
    const second = activation.admit(organizationId, arrival, create);
    for (;;) {
      const { rows } = await ctx.sql.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
      );
      if (rows[0].n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    goOn();
    const [won, lost] = await Promise.all([first, second]);
    expect(won.placement).toEqual({ status: 'active' });
    expect(lost.placement).toEqual({ status: 'pending', reason: 'awaiting_seat' });
    expect(await counts(organizationId)).toMatchObject({
      seats_used: before.seats_used + 1,
      active: before.seats_used + 1,
      seat_queue_length: before.queued + 1,
    });
  });

  it('concurrent SCIM creates never oversubscribe: one takes the free seat, the rest queue in order', async () => {
    const scim = ctx.app.get(ScimUsersService);
    const organizationId = owner.organizationId;
    const before = await counts(organizationId);
    // One seat more than is used, and nobody queued (the queue would keep it): a fresh limit and an empty queue.
    await ctx.sql.query(
      "UPDATE users SET status = 'deactivated', pending_reason = NULL, pending_since = NULL WHERE organization_id = $1 AND status = 'pending'",
      [organizationId],
    );
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(organizationId, { seatLimit: before.seats_used + 1 }, SYSTEM_ACTOR);
    const created = await Promise.all(
      Array.from({ length: 6 }, () => scim.create(organizationId, scimUser())),
    );
    const statuses = created.map(
      (view) => (view.resource[SCHEMAS.PRODUCT_USER] as { status: string; pendingReason?: string }).status,
    );
    expect(statuses.filter((s) => s === 'active')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'pending')).toHaveLength(5);
    const after = await counts(organizationId);
    expect(after).toMatchObject({ seats_used: after.seat_limit, seat_queue_length: 5, queued: 5 });
  });
});
