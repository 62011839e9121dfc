import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '@entra-integration/entra-emulator';
import { decodeCursor, encodeCursor } from '../../src/common/pagination.js';
import { ownerOf, type TestOwner } from '../support/factory.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

interface Item {
  id: string;
  email: string;
  displayName: string;
  createdAt: string;
  queuePosition: number | null;
}

/**
 * The users list reads its rows as text straight from SQL (timestamps formatted by PostgreSQL), while a single
 * user's answer is mapped from the entity (timestamps parsed into Dates): both must say exactly the same about
 * every kind of user, byte for byte, and the cursor must be the one the Date path would encode.
 */
describe('the users list rows', () => {
  let ctx: TestContext;
  let owner: TestOwner;

  const get = (path: string, query: Record<string, string | number> = {}) =>
    ctx.http().get(path).query(query).set(bearer(owner.token)).expect(200);

  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await ownerOf(ctx, DEMO.users.adele.upn);
    const group = '6f1c1a52-52d5-4a5b-9f5b-3c3f0e1e2a01';
    await ctx.sql.query(
      `INSERT INTO users (organization_id, email, display_name, role, role_source, role_source_group_id,
                          role_source_group_name, status, pending_reason, pending_since, deactivation_reason,
                          deactivated_at, last_sign_in_at, created_at)
       SELECT $1, v.email, v.name, v.role::user_role, v.source::user_role_source, v.group_id::uuid, v.group_name,
              v.status::user_status, v.reason::user_pending_reason, v.since::timestamptz, v.deactivation,
              v.deactivated::timestamptz, v.signed_in::timestamptz, v.created::timestamptz
         FROM (VALUES
           ('grace.quote@contoso.com', E'Grace "Q" \\\\ O\\u2019Brien\\u0001\\t😀\\u2028', 'admin', 'group_mapping', $2,
            E'IT "Admins" \\\\ \\u0007', 'active', NULL, NULL, NULL, NULL,
            '2026-03-04 05:06:07.999999+00', '2026-01-01 00:00:00.001+00'),
           ('nameless.group@contoso.com', 'Nameless Group', 'manager', 'group_mapping', $2, NULL, 'active', NULL,
            NULL, NULL, NULL, '2026-03-04 05:06:07.57+00', '2026-01-01 00:00:00.002+00'),
           ('stale.group@contoso.com', 'Stale Group', 'employee', 'manual', $2, 'Old Group', 'active', NULL, NULL,
            NULL, NULL, '2026-03-04 05:06:07.000001+02', '2026-01-01 00:00:00.003+00'),
           ('queued.second@contoso.com', 'Queued Second', 'employee', 'default', NULL, NULL, 'pending',
            'awaiting_seat', '2026-02-02 00:00:02+00', NULL, NULL, NULL, '2026-01-01 00:00:00.004+00'),
           ('queued.first@contoso.com', 'Queued First', 'employee', 'default', NULL, NULL, 'pending',
            'awaiting_seat', '2026-02-02 00:00:01+00', NULL, NULL, NULL, '2026-01-01 00:00:00.005+00'),
           ('awaiting.approval@contoso.com', 'Awaiting Approval', 'employee', 'default', NULL, NULL, 'pending',
            'awaiting_approval', '2026-02-02 00:00:03+00', NULL, NULL, NULL, '2026-01-01 00:00:00.006+00'),
           ('left.over@contoso.com', 'Left Over', 'employee', 'default', NULL, NULL, 'active', 'awaiting_seat',
            NULL, NULL, NULL, NULL, '2026-01-01 00:00:00.007+00'),
           ('gone.away@contoso.com', 'Gone Away', 'employee', 'default', NULL, NULL, 'deactivated', NULL, NULL,
            'manual', '2026-05-06 07:08:09.123456+00', '1999-12-31 23:59:59.9999+00', '2026-01-01 00:00:00.008+00'),
           ('same.instant.a@contoso.com', 'Same Instant', 'employee', 'default', NULL, NULL, 'active', NULL, NULL,
            NULL, NULL, NULL, '2026-01-01 00:00:00.009+00'),
           ('same.instant.b@contoso.com', 'Same Instant', 'employee', 'default', NULL, NULL, 'active', NULL, NULL,
            NULL, NULL, NULL, '2026-01-01 00:00:00.009+00')
         ) AS v(email, name, role, source, group_id, group_name, status, reason, since, deactivation,
                deactivated, signed_in, created)`,
      [owner.organizationId, group],
    );
  });
  afterAll(() => ctx?.close());

  it('shows every user exactly as the single-user answer does, byte for byte', async () => {
    const page = await get('/api/v1/users', { limit: 200 });
    const items = page.body.items as Item[];
    expect(items).toHaveLength(11); // the ten above and the owner
    for (const item of items) {
      const single = await get(`/api/v1/users/${item.id}`);
      expect(JSON.stringify(item), item.email).toBe(single.text);
    }
    // The seat queue's places, read along with the page.
    const byEmail = new Map(items.map((u) => [u.email, u]));
    expect(byEmail.get('queued.first@contoso.com')?.queuePosition).toBe(1);
    expect(byEmail.get('queued.second@contoso.com')?.queuePosition).toBe(2);
    expect(byEmail.get('grace.quote@contoso.com')).toMatchObject({
      displayName: 'Grace "Q" \\ O’Brien\u0001\t😀\u2028',
      roleSourceGroup: { displayName: 'IT "Admins" \\ \u0007' },
      lastSignInAt: '2026-03-04T05:06:07.999Z',
    });
    expect(byEmail.get('gone.away@contoso.com')).toMatchObject({
      deactivatedAt: '2026-05-06T07:08:09.123Z',
      lastSignInAt: '1999-12-31T23:59:59.999Z',
    });
    expect(page.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('answers the same rows whichever way a page is found, filtered, searched or not', async () => {
    const singles = new Map<string, string>();
    const check = async (query: Record<string, string | number>, expected: number) => {
      const items = (await get('/api/v1/users', query)).body.items as Item[];
      expect(items, JSON.stringify(query)).toHaveLength(expected);
      for (const item of items) {
        singles.set(item.id, singles.get(item.id) ?? (await get(`/api/v1/users/${item.id}`)).text);
        expect(JSON.stringify(item)).toBe(singles.get(item.id));
      }
    };
    await check({ status: 'pending' }, 3);
    await check({ role: 'admin' }, 1);
    await check({ search: 'brien' }, 1); // the display name, lower-cased, past an apostrophe
    await check({ search: 'GROUP' }, 2);
    await check({ search: 'contoso.com' }, 11);
  });

  it('hands out the cursor the Date path would, and pages on from it past users of the same instant', async () => {
    const all = (await get('/api/v1/users', { limit: 200 })).body.items as Item[];
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await get('/api/v1/users', cursor ? { limit: 3, cursor } : { limit: 3 })).body as {
        items: Item[];
        nextCursor: string | null;
      };
      ids.push(...page.items.map((u) => u.id));
      const last = page.items[page.items.length - 1];
      if (page.nextCursor) {
        const { rows } = await ctx.sql.query<{ created_at: Date }>(
          'SELECT created_at FROM users WHERE id = $1',
          [last.id],
        );
        expect(page.nextCursor).toBe(encodeCursor({ createdAt: rows[0].created_at, id: last.id }));
        expect(decodeCursor(page.nextCursor)).toEqual({ createdAt: last.createdAt, id: last.id });
      }
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids).toEqual(all.map((u) => u.id));
  });
});
