import pg from 'pg';
import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMAS } from '../../src/scim/protocol/index.js';
import { ownerOf, scimTokenOf, type TestOwner } from '../support/factory.js';
import { seatCountDrift } from '../support/seat-counts.js';
import { bearer } from '../support/sign-in.js';
import { statementsSentDuring } from '../support/statements.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const { adele } = DEMO.users;
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface Sent {
  text: string;
  name?: string;
}

/**
 * The statements the service sent inside the request's transaction (from its START TRANSACTION to its COMMIT, on
 * that connection): background work (the job queue's polls, the provisioning log's batched writes) runs on other
 * connections and outside it.
 */
async function transactionOf(send: () => Promise<unknown>): Promise<Sent[]> {
  const byClient = new Map<pg.Client, Sent[]>();
  for (const { client, text, name } of await statementsSentDuring(send))
    byClient.set(client, [...(byClient.get(client) ?? []), { text, name }]);
  const transactions = [...byClient.values()].filter((sent) =>
    sent.some((s) => s.text === 'START TRANSACTION'),
  );
  expect(transactions).toHaveLength(1);
  const sent = transactions[0];
  return sent.slice(
    sent.findIndex((s) => s.text === 'START TRANSACTION') + 1,
    sent.findIndex((s) => s.text === 'COMMIT'),
  );
}

/** What runs while the organization's row lock is held: everything after the lock statement. */
const underLock = (sent: Sent[]) =>
  sent.slice(sent.findIndex((s) => /FROM organizations .*FOR NO KEY UPDATE/.test(s.text)) + 1);

/**
 * SCIM writes at Entra's pace (issue 12): a POST and a PATCH `active` as few prepared statements, with the
 * organization lock held over the status change's one write (the user, its audit event and its outbox event
 * together) — and exactly the effects they had before: the user, the audit trail, the events and their webhook
 * deliveries, sessions ended, seat counts right.
 */
describe('SCIM writes: few prepared statements, one write under the organization lock, nothing lost', () => {
  let ctx: TestContext;
  let contoso: TestOwner;
  let token: string;
  let endpointId: string;

  const scim = (method: 'post' | 'patch', path: string) =>
    ctx.http()[method](`/scim/v2${path}`).set('Authorization', `Bearer ${token}`);
  const setActive = (id: string, value: string) =>
    scim('patch', `/Users/${id}`).send({
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'active', value }],
    });
  const trailOf = async (userId: string) => ({
    audit: (
      await ctx.sql.query<{ action: string }>(
        'SELECT action FROM audit_events WHERE target_id = $1 ORDER BY created_at, id',
        [userId],
      )
    ).rows.map((r) => r.action),
    events: (
      await ctx.sql.query<{ type: string; id: string }>(
        `SELECT type, id::text FROM events WHERE data->'user'->>'id' = $1 ORDER BY seq`,
        [userId],
      )
    ).rows,
    deliveries: (
      await ctx.sql.query<{ message_id: string; event_type: string }>(
        `SELECT message_id::text, event_type FROM webhook_deliveries WHERE endpoint_id = $1
            AND payload->'data'->'user'->>'id' = $2 ORDER BY seq`,
        [endpointId, userId],
      )
    ).rows,
  });

  beforeAll(async () => {
    // Deliveries are only recorded here: no worker sends them.
    ctx = await createTestContext({ WEBHOOK_WORKER_ENABLED: 'false' });
    contoso = await ownerOf(ctx, adele.upn, { plan: 'enterprise', seatLimit: 100 });
    ({ token } = await scimTokenOf(ctx, contoso));
    const endpoint = await ctx
      .http()
      .post('/api/v1/webhooks')
      .set(bearer(contoso.token))
      .send({ url: 'http://127.0.0.1:9/hooks', eventTypes: ['user.*'] })
      .expect(201);
    endpointId = (endpoint.body as { id: string }).id;
    // Every statement once, so each connection has the texts prepared.
    const warm = await scim('post', '/Users')
      .send({ schemas: [SCHEMAS.USER], userName: 'warm@contoso.com' })
      .expect(201);
    await setActive(warm.body.id, 'False').expect(204);
    await setActive(warm.body.id, 'True').expect(204);
  });
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));
  afterAll(() => ctx?.close());

  const prepared = (sent: Sent[]) => sent.every((s) => /^s_[0-9a-f]{32}$/.test(s.name ?? ''));
  const endpointEnabled = (enabled: boolean) =>
    ctx
      .http()
      .patch(`/api/v1/webhooks/${endpointId}`)
      .set(bearer(contoso.token))
      .send({ enabled })
      .expect(200);

  it('creates a user in three prepared statements, one of them under the lock, with its audit, event and delivery', async () => {
    const post = (userName: string) =>
      scim('post', '/Users')
        .send({
          schemas: [SCHEMAS.USER],
          userName,
          active: true,
          displayName: 'New Hire',
          emails: [{ primary: true, type: 'work', value: userName }],
        })
        .expect(201);
    let id = '';
    const sent = await transactionOf(async () => {
      id = (await post('new.hire@contoso.com')).body.id;
    });
    // The row, the lock, then the user with its audit and outbox events and the read of the webhook endpoints.
    expect(sent[0].text).toMatch(/INSERT INTO scim_users/);
    const locked = underLock(sent);
    expect(sent.length - locked.length).toBe(2);
    expect(prepared(sent.slice(0, 3))).toBe(true);
    expect(locked[0].text).toMatch(
      /INSERT INTO users .*INSERT INTO audit_events .*INSERT INTO events .*FROM webhook_endpoints/,
    );
    // An endpoint wants the event: its delivery and the job that sends it.
    expect(locked.slice(1).map((s) => s.text)).toEqual([
      expect.stringMatching(/^INSERT INTO webhook_deliveries/),
      expect.stringMatching(/pgboss\.job/),
    ]);
    const trail = await trailOf(id);
    expect(trail.audit).toEqual(['user.created']);
    expect(trail.events.map((e) => e.type)).toEqual(['user.created']);
    expect(trail.deliveries).toEqual([{ message_id: trail.events[0].id, event_type: 'user.created' }]);
    const { rows } = await ctx.sql.query('SELECT status, email, display_name FROM users WHERE id = $1', [id]);
    expect(rows).toEqual([{ status: 'active', email: 'new.hire@contoso.com', display_name: 'New Hire' }]);

    // No endpoint wants it: three statements in all.
    await endpointEnabled(false);
    try {
      const quiet = await transactionOf(() => post('second.hire@contoso.com'));
      expect(quiet).toHaveLength(3);
      expect(prepared(quiet)).toBe(true);
      expect(underLock(quiet)).toHaveLength(1);
    } finally {
      await endpointEnabled(true);
    }
  });

  it('still answers 409 for a taken userName, and adopts a user holding the userName as an address', async () => {
    await scim('post', '/Users')
      .send({ schemas: [SCHEMAS.USER], userName: 'NEW.HIRE@contoso.com' })
      .expect(409);
    // Adele signed in: she holds her address; a POST of it adopts her instead of creating a second account.
    const adopted = await scim('post', '/Users')
      .send({ schemas: [SCHEMAS.USER], userName: adele.upn, active: true })
      .expect(201);
    expect(adopted.body.id).toBe(contoso.userId);
    const { rows } = await ctx.sql.query(
      'SELECT count(*)::int AS n FROM users WHERE organization_id = $1 AND email = $2',
      [contoso.organizationId, adele.upn.toLowerCase()],
    );
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('deactivates with PATCH active in four statements, one under the lock that also ends the sessions', async () => {
    const created = await scim('post', '/Users')
      .send({ schemas: [SCHEMAS.USER], userName: 'leaver@contoso.com' })
      .expect(201);
    const id = created.body.id as string;
    await ctx.sql.query(
      `INSERT INTO sessions (user_id, token_hash, expires_at)
       VALUES ($1, 'scim-write-statements-leaver', now() + interval '1 day')`,
      [id],
    );
    await endpointEnabled(false);
    let sent: Sent[];
    try {
      sent = await transactionOf(() => setActive(id, 'False').expect(204));
    } finally {
      await endpointEnabled(true);
    }
    // The SCIM row with its user, the SCIM row's write, the organization's lock and the user's (in that order, one
    // statement); then the user's write with the audit and outbox events and the end of its sessions.
    expect(sent).toHaveLength(4);
    expect(prepared(sent)).toBe(true);
    expect(sent[2].text).toMatch(
      /FROM organizations o JOIN users u .*FOR NO KEY UPDATE OF o FOR UPDATE OF u/,
    );
    const locked = underLock(sent);
    expect(locked).toHaveLength(1);
    expect(locked[0].text).toMatch(
      /UPDATE users SET .*UPDATE sessions SET .*INSERT INTO audit_events .*INSERT INTO events .*FROM webhook_endpoints/,
    );

    const { rows } = await ctx.sql.query(
      `SELECT u.status, u.deactivation_reason, s.revoked_at IS NOT NULL AS revoked
         FROM users u JOIN sessions s ON s.user_id = u.id WHERE u.id = $1`,
      [id],
    );
    expect(rows).toEqual([{ status: 'deactivated', deactivation_reason: 'scim_deactivated', revoked: true }]);
    const trail = await trailOf(id);
    expect(trail.audit).toEqual(['user.created', 'user.deactivated']);
    expect(trail.events.map((e) => e.type)).toEqual(['user.created', 'user.deactivated']);
    // The endpoint was off while the user left: only the creation was delivered.
    expect(trail.deliveries.map((d) => d.event_type)).toEqual(['user.created']);
  });

  it('brings a user back with PATCH active in four statements, one under the lock, with its delivery', async () => {
    const created = await scim('post', '/Users')
      .send({ schemas: [SCHEMAS.USER], userName: 'returner@contoso.com' })
      .expect(201);
    const id = created.body.id as string;
    await setActive(id, 'False').expect(204);
    await endpointEnabled(false);
    try {
      const sent = await transactionOf(() => setActive(id, 'True').expect(204));
      expect(sent).toHaveLength(4);
      expect(prepared(sent)).toBe(true);
      expect(underLock(sent)).toHaveLength(1);
    } finally {
      await endpointEnabled(true);
    }
    const { rows } = await ctx.sql.query('SELECT status FROM users WHERE id = $1', [id]);
    expect(rows).toEqual([{ status: 'active' }]);
    const trail = await trailOf(id);
    expect(trail.audit).toEqual(['user.created', 'user.deactivated', 'user.reactivated']);
    expect(trail.deliveries.map((d) => d.event_type)).toEqual(['user.created', 'user.deactivated']);
  });

  it('queues a user when no seat is free, with user.created and user.pending recorded and delivered in order', async () => {
    await ctx.sql.query('UPDATE organizations SET seat_limit = seats_used WHERE id = $1', [
      contoso.organizationId,
    ]);
    try {
      const created = await scim('post', '/Users')
        .send({ schemas: [SCHEMAS.USER], userName: 'queued@contoso.com' })
        .expect(201);
      expect(created.body[SCHEMAS.PRODUCT_USER]).toMatchObject({
        status: 'pending',
        pendingReason: 'awaiting_seat',
      });
      const trail = await trailOf(created.body.id as string);
      expect(trail.audit).toEqual(['user.created']);
      expect(trail.events.map((e) => e.type)).toEqual(['user.created', 'user.pending']);
      expect(trail.deliveries).toEqual(trail.events.map((e) => ({ message_id: e.id, event_type: e.type })));
    } finally {
      await ctx.sql.query('UPDATE organizations SET seat_limit = 100 WHERE id = $1', [
        contoso.organizationId,
      ]);
    }
  });
});
