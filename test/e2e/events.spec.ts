import { TransactionHost } from '@nestjs-cls/transactional';
import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { EVENT_DATA_SCHEMA } from '../../src/events/dto/event.dto.js';
import type { EventType } from '../../src/events/event-types.js';
import { EventsService } from '../../src/events/events.service.js';
import { UsersService } from '../../src/users/users.service.js';
import { ownerOf, type TestOwner } from '../support/factory.js';
import { committedDocument, schemaViolations } from '../support/schema-check.js';
import { addMember } from '../support/seed.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const { adele, megan, diego } = DEMO.users;

interface Envelope {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown> & { user?: { id: string } };
}

describe('the events outbox and feed', () => {
  let ctx: TestContext;
  let contoso: TestOwner;
  let fabrikam: TestOwner;
  let reader: string;
  let meganId: string;

  const key = async (owner: TestOwner, scopes: string[]) =>
    (
      await ctx
        .http()
        .post('/api/v1/api-keys')
        .set(bearer(owner.token))
        .send({ name: 'feed', scopes })
        .expect(201)
    ).body.key as string;
  const poll = async (token: string, query = '') =>
    (await ctx.http().get(`/api/v1/events${query}`).set(bearer(token)).expect(200)).body as {
      items: Envelope[];
      nextCursor: string | null;
      hasMore: boolean;
    };

  beforeAll(async () => {
    ctx = await createTestContext();
    contoso = await ownerOf(ctx, adele.upn, { seatLimit: 10 });
    fabrikam = await ownerOf(ctx, diego.upn);
    meganId = await addMember(ctx, contoso.organizationId, megan, DEMO.tenants.contoso.id, 'employee');
    reader = await key(contoso, ['events:read', 'users:read']);
  });
  afterAll(() => ctx?.close());

  it('records the sign-up and each change with the REST user, its reason and its source', async () => {
    const first = await poll(reader);
    expect(first.items.map((e) => e.type)).toEqual(['user.created']);
    expect(first.items[0].data).toMatchObject({ source: 'sign_in', user: { id: contoso.userId } });

    await ctx
      .http()
      .patch(`/api/v1/users/${meganId}`)
      .set(bearer(contoso.token))
      .send({ role: 'manager' })
      .expect(200);
    const deactivated = await ctx
      .http()
      .post(`/api/v1/users/${meganId}/deactivate`)
      .set(bearer(contoso.token))
      .expect(200);
    await ctx.http().post(`/api/v1/users/${meganId}/reactivate`).set(bearer(contoso.token)).expect(200);

    const next = await poll(reader, `?after=${first.nextCursor}`);
    expect(next.items.map((e) => e.type)).toEqual([
      'user.role_changed',
      'user.deactivated',
      'user.reactivated',
    ]);
    expect(next.items[0].data).toMatchObject({ previousRole: 'employee', source: 'manual' });
    // data.user is exactly what the REST API answered for that change.
    expect(next.items[1].data).toEqual({ user: deactivated.body, reason: 'manual', source: 'manual' });
    for (const event of next.items) {
      expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(event.timestamp)).not.toBeNaN();
    }
    const rest = await ctx.http().get(`/api/v1/users/${meganId}`).set(bearer(reader)).expect(200);
    expect(next.items[2].data.user).toEqual(rest.body);

    // Nothing new: the same cursor comes back, so a poller can keep it.
    const idle = await poll(reader, `?after=${next.nextCursor}`);
    expect(idle).toEqual({ items: [], nextCursor: next.nextCursor, hasMore: false });
  });

  it('filters by type and pages oldest first', async () => {
    const deactivations = await poll(reader, '?types=user.deactivated');
    expect(deactivations.items.map((e) => e.type)).toEqual(['user.deactivated']);
    const both = await poll(reader, '?types=user.created,user.reactivated');
    expect(both.items.map((e) => e.type)).toEqual(['user.created', 'user.reactivated']);

    const one = await poll(reader, '?limit=1');
    expect(one.hasMore).toBe(true);
    const two = await poll(reader, `?limit=1&after=${one.nextCursor}`);
    expect(two.items[0].id).not.toBe(one.items[0].id);
    expect(two.items[0].type).toBe('user.role_changed');
  });

  it('records invitation events', async () => {
    const before = await poll(reader);
    const invitation = await ctx
      .http()
      .post('/api/v1/invitations')
      .set(bearer(contoso.token))
      .send({ email: 'new.hire@contoso.com', role: 'employee' })
      .expect(201);
    await ctx
      .http()
      .delete(`/api/v1/invitations/${invitation.body.id}`)
      .set(bearer(contoso.token))
      .expect(204);
    const after = await poll(reader, `?after=${before.nextCursor}`);
    expect(after.items.map((e) => e.type)).toEqual(['invitation.created', 'invitation.revoked']);
    expect(after.items[1].data).toMatchObject({
      invitation: { id: invitation.body.id, status: 'revoked' },
      source: 'manual',
    });
  });

  it('writes no event for a change that rolled back, and no change without its event', async () => {
    const before = await poll(reader);
    const users = ctx.app.get(UsersService);
    const txHost = ctx.app.get(TransactionHost);
    await expect(
      txHost.withTransaction(async () => {
        await users.deactivateUser(contoso.organizationId, meganId, 'manual', SYSTEM_ACTOR);
        throw new Error('something after the change failed');
      }),
    ).rejects.toThrow('something after the change failed');
    const user = await ctx.http().get(`/api/v1/users/${meganId}`).set(bearer(reader)).expect(200);
    expect(user.body.status).toBe('active');
    expect((await poll(reader, `?after=${before.nextCursor}`)).items).toEqual([]);
  });

  it('keeps organizations apart, needs events:read, and refuses foreign cursors and unknown types', async () => {
    const other = await key(fabrikam, ['events:read']);
    const theirs = await poll(other);
    expect(theirs.items.map((e) => e.data.user?.id)).toEqual([fabrikam.userId]);

    const noScope = await ctx
      .http()
      .get('/api/v1/events')
      .set(bearer(await key(contoso, ['users:read'])))
      .expect(403);
    expect(noScope.body).toMatchObject({ code: 'INSUFFICIENT_SCOPE', requiredScopes: ['events:read'] });

    const cursor = await ctx.http().get('/api/v1/events?after=bm9wZQ').set(bearer(reader)).expect(400);
    expect(cursor.body.code).toBe('INVALID_CURSOR');
    const type = await ctx.http().get('/api/v1/events?types=user.exploded').set(bearer(reader)).expect(400);
    expect(type.body.code).toBe('VALIDATION_FAILED');
  });

  it('keeps events 30 days', async () => {
    const all = await poll(reader);
    const oldest = all.items[0];
    await ctx.sql.query(`UPDATE events SET created_at = now() - interval '31 days' WHERE id = $1`, [
      oldest.id,
    ]);
    const kept = await poll(reader);
    expect(kept.items.map((e) => e.id)).not.toContain(oldest.id);
    expect(await ctx.app.get(EventsService).applyRetention()).toBe(1);
    const rows = await ctx.sql.query('SELECT 1 FROM events WHERE id = $1', [oldest.id]);
    expect(rows.rowCount).toBe(0);
  });

  it('every event matches the documented, versioned schema of its type (user.*, invitation.*)', async () => {
    const document = committedDocument();
    const events = (await poll(reader, '?limit=500')).items;
    expect(new Set(events.map((e) => e.type.split('.')[0]))).toEqual(new Set(['user', 'invitation']));
    for (const event of events) {
      expect(schemaViolations(document, 'EventDto', event), event.type).toEqual([]);
      expect(
        schemaViolations(document, EVENT_DATA_SCHEMA[event.type as EventType], event.data),
        event.type,
      ).toEqual([]);
    }
  });
});
