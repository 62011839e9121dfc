import { randomUUID } from 'node:crypto';
import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMAS } from '../../src/scim/protocol/index.js';
import { ScimRequestLogService } from '../../src/scim/access/scim-request-log.service.js';
import type { ScimRequestRow } from '../../src/scim/access/scim-request-log.repository.js';
import { ScimUsersService } from '../../src/scim/users/scim-users.service.js';
import { ownerOf, scimTokenOf, type TestOwner } from '../support/factory.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const { adele, diego } = DEMO.users;
const { USER, PRODUCT_USER: PRODUCT } = SCHEMAS;
/** The primary key of `users`, as the initial migration named it. */
const USERS_PRIMARY_KEY = 'PK_a3ffb1c0c8416b9fc6f907b7433';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Every node of a plan that reads `relation`. */
function readsOf(plan: unknown, relation: string): PlanNode[] {
  const found: PlanNode[] = [];
  const walk = (node: PlanNode) => {
    if (node['Relation Name'] === relation) found.push(node);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk((plan as [{ Plan: PlanNode }])[0].Plan);
  return found;
}

/**
 * The read path of `/scim/v2` at Entra's pace: authentication and the `userName eq` query as single statements
 * served by indexes (also once prepared), "last used" written at most once a minute, and a provisioning log that
 * is written in batches off the request path without losing entries.
 */
describe('SCIM reads: one statement each, the index, last use, and a log that loses nothing', () => {
  let ctx: TestContext;
  let contoso: TestOwner;
  let fabrikam: TestOwner;
  let token: string;
  let tokenId: string;

  const scim = (method: 'get' | 'post', path: string, secret = token) =>
    ctx.http()[method](`/scim/v2${path}`).set('Authorization', `Bearer ${secret}`);
  const byUserName = (userName: string, secret = token) =>
    scim('get', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`, secret);
  const log = () => ctx.app.get(ScimRequestLogService);
  const loggedPaths = async (organizationId: string) =>
    (
      await ctx.sql.query<{ path: string; query: string | null; status: number }>(
        'SELECT path, query, status FROM scim_requests WHERE organization_id = $1 ORDER BY created_at, id',
        [organizationId],
      )
    ).rows;

  /** A provisioning-log entry as the SCIM edge records one. */
  const logEntry = (
    organizationId: string,
    path: string,
    method = 'GET',
    status = 200,
    createdAt = new Date(),
  ): ScimRequestRow => ({
    organizationId,
    tokenId: null,
    method,
    path,
    query: null,
    status,
    scimType: null,
    detail: null,
    resourceType: null,
    resourceId: null,
    durationMs: 1,
    requestBody: null,
    notes: [],
    clientAddress: null,
    createdAt,
  });

  beforeAll(async () => {
    ctx = await createTestContext();
    contoso = await ownerOf(ctx, adele.upn, { plan: 'enterprise', seatLimit: 5000 });
    fabrikam = await ownerOf(ctx, diego.upn, { plan: 'enterprise' });
    ({ token, id: tokenId } = await scimTokenOf(ctx, contoso));
  });
  afterAll(() => ctx?.close());

  it('answers userName eq from the unique index, for the statement as prepared too, with the product status', async () => {
    const template = await scim('post', '/Users')
      .send({
        schemas: [USER],
        userName: 'template@contoso.com',
        emails: [{ value: 'template@contoso.com' }],
      })
      .expect(201);
    // 3,000 more SCIM users of the organization, copies of the one the service wrote.
    const ids = `SELECT n, md5('scim-reads-' || n)::uuid AS id FROM generate_series(1, 3000) n`;
    // Every column but the generated ones, which PostgreSQL computes (and refuses a value for).
    const {
      rows: [{ columns }],
    } = await ctx.sql.query<{ columns: string }>(
      `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) AS columns
         FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'users' AND is_generated = 'NEVER'`,
    );
    await ctx.sql.query(
      `INSERT INTO users (${columns})
       SELECT ${columns} FROM (
         SELECT (jsonb_populate_record(NULL::users, to_jsonb(u) || jsonb_build_object(
                   'id', n.id, 'email', 'user' || n.n || '@contoso.com'))).*
           FROM users u, (${ids}) n WHERE u.id = $1) c`,
      [template.body.id],
    );
    await ctx.sql.query(
      `INSERT INTO scim_users
       SELECT (jsonb_populate_record(NULL::scim_users, to_jsonb(s) || jsonb_build_object(
                 'user_id', n.id, 'user_name', 'user' || n.n || '@contoso.com',
                 'user_name_lower', 'user' || n.n || '@contoso.com',
                 'attributes', s.attributes || jsonb_build_object('userName', 'user' || n.n || '@contoso.com')))).*
         FROM scim_users s, (${ids}) n WHERE s.user_id = $1`,
      [template.body.id],
    );
    await ctx.sql.query('ANALYZE users');
    await ctx.sql.query('ANALYZE scim_users');

    const found = await byUserName('USER1234@contoso.com').expect(200);
    expect(found.body).toMatchObject({ totalResults: 1, itemsPerPage: 1, startIndex: 1 });
    expect(found.body.Resources[0]).toMatchObject({
      userName: 'user1234@contoso.com',
      active: true,
      [PRODUCT]: template.body[PRODUCT],
      meta: { resourceType: 'User', version: 'W/"1"' },
    });
    const nobody = await byUserName(randomUUID()).expect(200);
    expect(nobody.body).toMatchObject({ totalResults: 0, itemsPerPage: 0, Resources: [] });
    // Paging still counts everyone and reads its window only.
    const page = await scim('get', '/Users?startIndex=2999&count=5').expect(200);
    expect(page.body).toMatchObject({ totalResults: 3001, startIndex: 2999, itemsPerPage: 3 });
    const none = await scim('get', '/Users?startIndex=5000&count=5').expect(200);
    expect(none.body).toMatchObject({ totalResults: 3001, itemsPerPage: 0, Resources: [] });

    const users = ctx.app.get(ScimUsersService);
    for (const plan of ['custom', 'generic'] as const) {
      const explained = await users.explainFilter(
        contoso.organizationId,
        'userName eq "user1234@contoso.com"',
        plan,
      );
      const reads = readsOf(explained, 'scim_users');
      // The total and the page: both look the userName up in the unique index, never scanning the organization.
      expect(reads, plan).toHaveLength(2);
      for (const read of reads) {
        expect(read['Node Type'], plan).toMatch(/^Index (Only )?Scan$/);
        expect(read['Index Name'], plan).toBe('scim_users_user_name_organization_key');
      }
      // Each product user of the page by its primary key.
      for (const read of readsOf(explained, 'users'))
        expect(read['Index Name'], plan).toBe(USERS_PRIMARY_KEY);
    }
  });

  it('reads the token, its organization’s plan and the SCIM switch fresh on every request', async () => {
    await byUserName('user1@contoso.com').expect(200);
    await ctx.sql.query(`UPDATE organizations SET plan = 'team' WHERE id = $1`, [contoso.organizationId]);
    const refused = await byUserName('user1@contoso.com').expect(403);
    expect(refused.body.detail).toContain('enterprise plan');
    await ctx.sql.query(`UPDATE organizations SET plan = 'enterprise' WHERE id = $1`, [
      contoso.organizationId,
    ]);
    await ctx
      .http()
      .patch('/api/v1/integrations/scim/settings')
      .set(bearer(contoso.token))
      .send({ enabled: false })
      .expect(200);
    expect((await byUserName('user1@contoso.com').expect(403)).body.detail).toContain('switched off');
    await ctx
      .http()
      .patch('/api/v1/integrations/scim/settings')
      .set(bearer(contoso.token))
      .send({ enabled: true })
      .expect(200);
    await byUserName('user1@contoso.com').expect(200);
    await byUserName('user1@contoso.com', 'scim_unknown').expect(401);
  });

  it('records the last use of a token at most once a minute', async () => {
    const lastUse = async () =>
      (
        await ctx.sql.query<{ at: string | null; from: string | null }>(
          'SELECT last_used_at::text AS at, last_used_from AS from FROM scim_tokens WHERE id = $1',
          [tokenId],
        )
      ).rows[0];
    await byUserName('user2@contoso.com').expect(200);
    const first = await lastUse();
    expect(first.at).not.toBeNull();
    expect(first.from).toMatch(/127\.0\.0\.1|::1/);
    for (let i = 0; i < 5; i++) await byUserName(`user${i}@contoso.com`).expect(200);
    expect(await lastUse()).toEqual(first);

    // A use recorded more than a minute ago (by this replica or another) is recorded anew by the next request.
    await ctx.sql.query(
      `UPDATE scim_tokens SET last_used_at = now() - interval '2 minutes', last_used_from = '10.0.0.1' WHERE id = $1`,
      [tokenId],
    );
    const stale = await lastUse();
    await byUserName('user3@contoso.com').expect(200);
    const fresh = await lastUse();
    expect(fresh.at! > stale.at!).toBe(true);
    expect(fresh.from).toMatch(/127\.0\.0\.1|::1/);
  });

  it('keeps the log entries a refused write could not take, and writes them once the database takes them', async () => {
    await log().flush();
    await ctx.sql.query('ALTER TABLE scim_requests RENAME TO scim_requests_away');
    try {
      await byUserName('user10@contoso.com').expect(200);
      await scim('get', '/Users/not-a-user').expect(404);
      await log().flush();
      const away = await ctx.sql.query(
        'SELECT count(*)::int AS n FROM scim_requests_away WHERE query LIKE $1',
        ['%user10%'],
      );
      expect(away.rows[0].n).toBe(0);
    } finally {
      await ctx.sql.query('ALTER TABLE scim_requests_away RENAME TO scim_requests');
    }
    await log().flush();
    const logged = await loggedPaths(contoso.organizationId);
    expect(logged.filter((row) => row.query?.includes('user10'))).toEqual([
      expect.objectContaining({ path: '/Users', status: 200 }),
    ]);
    expect(logged.filter((row) => row.path === '/Users/not-a-user')).toEqual([
      expect.objectContaining({ status: 404 }),
    ]);
  });

  it('drops only the entry the database can never take, not the batch it came with', async () => {
    await log().flush();
    // An organization deleted meanwhile: its entry breaks the foreign key.
    log().record(logEntry(randomUUID(), '/Users/of-a-deleted-organization'));
    await scim('get', '/Users/after-the-bad-one').expect(404);
    await log().flush();
    const logged = await loggedPaths(contoso.organizationId);
    expect(logged.filter((row) => row.path === '/Users/after-the-bad-one')).toHaveLength(1);
    const bad = await ctx.sql.query(
      "SELECT 1 FROM scim_requests WHERE path = '/Users/of-a-deleted-organization'",
    );
    expect(bad.rowCount).toBe(0);
  });

  it('when more than 5,000 entries wait, gives up successful reads first and keeps failures and writes', async () => {
    await log().flush();
    let at = Date.now();
    const entry = (path: string, method: string, status: number) =>
      logEntry(fabrikam.organizationId, path, method, status, new Date(at++));
    await ctx.sql.query('ALTER TABLE scim_requests RENAME TO scim_requests_away');
    try {
      log().record(entry('/Users/failed', 'GET', 500));
      log().record(entry('/Users/written', 'POST', 201));
      for (let i = 0; i < 5_100; i++) log().record(entry(`/Users/read-${i}`, 'GET', 200));
      await log().flush();
    } finally {
      await ctx.sql.query('ALTER TABLE scim_requests_away RENAME TO scim_requests');
    }
    await log().flush();
    const logged = (await loggedPaths(fabrikam.organizationId)).map((row) => row.path);
    expect(logged).toHaveLength(5_000);
    expect(logged.slice(0, 2)).toEqual(['/Users/failed', '/Users/written']);
    // The oldest 102 reads made room; the newest are all there.
    expect(logged[2]).toBe('/Users/read-102');
    expect(logged[logged.length - 1]).toBe('/Users/read-5099');
  });

  it('writes what is still waiting when the service stops', async () => {
    await byUserName('before-the-restart@contoso.com').expect(200);
    await ctx.reopen({});
    const logged = await loggedPaths(contoso.organizationId);
    expect(logged.filter((row) => row.query?.includes('before-the-restart'))).toHaveLength(1);
  });
});
