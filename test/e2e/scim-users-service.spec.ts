import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { compileFilter, SCHEMAS, ScimError } from '../../src/scim/protocol/index.js';
import { ScimUsersService, USER_FILTER_ATTRIBUTES } from '../../src/scim/users/scim-users.service.js';
import { connectedOrganization, directoryUser, ownerOf, type TestOwner } from '../support/factory.js';
import { bearer, signIn } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';
import { seatCountDrift } from '../support/seat-counts.js';

/**
 * The SCIM Users service against the real database (no HTTP): what each request does to the product. The
 * HTTP edge (tokens, content types, headers) is covered by scim-users.spec.ts.
 */
describe('SCIM users: the product effects', () => {
  let ctx: TestContext;
  let scim: ScimUsersService;
  let owner: TestOwner;
  let org: string;
  let lee: TestOwner;
  let n = 0;

  const PRODUCT = SCHEMAS.PRODUCT_USER;
  const body = (userName = `person${++n}@contoso.com`, extra: Record<string, unknown> = {}) => ({
    schemas: [SCHEMAS.USER],
    userName,
    active: true,
    displayName: userName.split('@')[0],
    emails: [{ value: userName, type: 'work', primary: true }],
    ...extra,
  });
  const replace = (path: string, value: unknown) => ({
    schemas: [SCHEMAS.PATCH_OP],
    Operations: [{ op: 'Replace', path, value }],
  });

  async function scimError(promise: Promise<unknown>): Promise<ScimError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof ScimError) return error;
      throw error;
    }
    throw new Error('expected a ScimError');
  }

  const product = async (id: string) =>
    (
      await ctx.sql.query(
        'SELECT email, display_name, status, pending_reason, deactivation_reason, role FROM users WHERE id = $1',
        [id],
      )
    ).rows[0] as {
      email: string;
      display_name: string;
      status: string;
      pending_reason: string | null;
      deactivation_reason: string | null;
      role: string;
    };

  const eventsOf = async (id: string) =>
    (
      await ctx.sql.query(
        "SELECT type, data->>'source' AS source FROM events WHERE data->'user'->>'id' = $1 ORDER BY seq",
        [id],
      )
    ).rows as { type: string; source: string }[];

  beforeAll(async () => {
    ctx = await createTestContext();
    scim = ctx.app.get(ScimUsersService);
    owner = await ownerOf(ctx, DEMO.users.diego.upn, { plan: 'enterprise', seatLimit: 1000 });
    org = owner.organizationId;
    lee = await ownerOf(ctx, DEMO.users.lee.upn, { plan: 'enterprise', seatLimit: 2 });
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('creates an active employee with the work email and records user.created from scim', async () => {
    const created = await scim.create(
      org,
      body('Ada.Lovelace@contoso.com', {
        displayName: undefined,
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        externalId: 'ada-ext',
        emails: [
          { value: 'ada.home@example.com', type: 'home' },
          { value: 'Ada@Contoso.com', type: 'work' },
        ],
        password: 'Secret-123',
        [SCHEMAS.ENTERPRISE_USER]: { employeeNumber: '701', department: 'Research' },
      }),
    );
    expect(created.version).toBe(1);
    expect(created.resource).toMatchObject({
      id: created.id,
      userName: 'Ada.Lovelace@contoso.com',
      externalId: 'ada-ext',
      active: true,
      [SCHEMAS.ENTERPRISE_USER]: { employeeNumber: '701' },
      [PRODUCT]: { status: 'active', role: 'employee' },
      meta: {
        resourceType: 'User',
        version: 'W/"1"',
        location: `${ctx.config.appBaseUrl}/scim/v2/Users/${created.id}`,
      },
    });
    expect(created.resource).not.toHaveProperty('password');
    expect(await product(created.id)).toMatchObject({
      email: 'ada@contoso.com',
      display_name: 'Ada Lovelace',
      status: 'active',
      role: 'employee',
    });
    const raw = (await ctx.sql.query('SELECT raw FROM scim_users WHERE user_id = $1', [created.id])).rows[0]
      .raw;
    expect(raw.userName).toBe('Ada.Lovelace@contoso.com');
    expect(JSON.stringify(raw)).not.toContain('Secret-123');
    expect(await eventsOf(created.id)).toEqual([{ type: 'user.created', source: 'scim' }]);
    expect((await scim.get(org, created.id)).resource).toEqual(created.resource);
  });

  it('refuses a second userName in the organization, whatever its case, with 409 uniqueness', async () => {
    await scim.create(org, body('dup@contoso.com'));
    const error = await scimError(scim.create(org, body('DUP@Contoso.com')));
    expect([error.status, error.scimType]).toEqual([409, 'uniqueness']);
    const error2 = await scimError(Promise.all([1, 2].map(() => scim.create(org, body('race@contoso.com')))));
    expect([error2.status, error2.scimType]).toEqual([409, 'uniqueness']);
    expect(
      (
        await ctx.sql.query(
          "SELECT count(*)::int AS n FROM scim_users WHERE user_name_lower = 'race@contoso.com'",
        )
      ).rows[0].n,
    ).toBe(1);
  });

  it('lets several users carry one work email, even next to an active signed-in user holding it', async () => {
    const shared = { emails: [{ value: DEMO.users.diego.upn, type: 'work', primary: true }] };
    const a = await scim.create(org, body('shared1@contoso.com', shared));
    const b = await scim.create(org, body('shared2@contoso.com', shared));
    expect(a.id).not.toBe(b.id);
    expect((await product(b.id)).email).toBe(DEMO.users.diego.upn.toLowerCase());
  });

  it('invitations refuse an address a live user holds, but not one only a deactivated user holds', async () => {
    const invite = (email: string) =>
      ctx.http().post('/api/v1/invitations').set(bearer(owner.token)).send({ email, role: 'employee' });
    const live = await scim.create(org, body('live.holder@contoso.com'));
    expect((await invite('Live.Holder@contoso.com').expect(409)).body.code).toBe('USER_ALREADY_EXISTS');
    await scim.patch(org, live.id, replace('active', false));
    await invite('live.holder@contoso.com').expect(201);
  });

  it('refuses a bad resource with 400 and changes nothing', async () => {
    for (const bad of [
      {},
      { userName: '' },
      { userName: 42 },
      body(undefined, { active: 'maybe' }),
      body(undefined, { emails: 'a@b.c' }),
      body(undefined, { emails: [{ value: 1 }] }),
      'text',
    ]) {
      const error = await scimError(scim.create(org, bad));
      expect(error.status).toBe(400);
    }
  });

  it('deactivates on active:false (sessions end, audited, user.deactivated from scim) and readmits on active:true', async () => {
    const user = await scim.create(org, body());
    const off = await scim.patch(org, user.id, replace('active', 'False'));
    expect(off.resource).toMatchObject({
      active: false,
      [PRODUCT]: { status: 'deactivated' },
      meta: { version: 'W/"2"' },
    });
    expect(await product(user.id)).toMatchObject({
      status: 'deactivated',
      deactivation_reason: 'scim_deactivated',
    });
    const audit = await ctx.sql.query(
      "SELECT action FROM audit_events WHERE target_id = $1 AND action = 'user.deactivated'",
      [user.id],
    );
    expect(audit.rowCount).toBe(1);
    const on = await scim.patch(org, user.id, replace('active', 'True'));
    expect(on.resource).toMatchObject({ active: true, [PRODUCT]: { status: 'active' } });
    expect((await eventsOf(user.id)).map((e) => `${e.type}:${e.source}`)).toEqual([
      'user.created:scim',
      'user.deactivated:scim',
      'user.reactivated:scim',
    ]);
    // GET still returns a soft-deleted (inactive) user, as Entra expects.
    await scim.patch(org, user.id, replace('active', false));
    expect((await scim.get(org, user.id)).resource.active).toBe(false);
  });

  it('queues SCIM arrivals for a seat when the organization is full, and seats them when one frees', async () => {
    const other = lee;
    const first = await scim.create(other.organizationId, body());
    const queued = await scim.create(other.organizationId, body());
    expect(first.resource[PRODUCT]).toEqual({ status: 'active', role: 'employee' });
    expect(queued.resource[PRODUCT]).toEqual({
      status: 'pending',
      pendingReason: 'awaiting_seat',
      role: 'employee',
    });
    expect(queued.resource.active).toBe(true); // what the directory asked for
    expect((await eventsOf(queued.id)).map((e) => e.type)).toEqual(['user.created', 'user.pending']);
    // A deactivated user coming back while the seats are taken waits at the end of the queue.
    await scim.patch(other.organizationId, first.id, replace('active', false));
    expect((await scim.get(other.organizationId, queued.id)).resource[PRODUCT]).toMatchObject({
      status: 'active',
    });
    const back = await scim.patch(other.organizationId, first.id, replace('active', true));
    expect(back.resource[PRODUCT]).toEqual({
      status: 'pending',
      pendingReason: 'awaiting_seat',
      role: 'employee',
    });
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(other.organizationId, { seatLimit: 3 }, SYSTEM_ACTOR);
    expect((await scim.get(other.organizationId, first.id)).resource[PRODUCT]).toMatchObject({
      status: 'active',
    });
  });

  it('DELETE deactivates and hides the user, deletes nothing, and a later POST brings the same user back', async () => {
    const user = await scim.create(org, body('leaver@contoso.com'));
    await scim.remove(org, user.id);
    expect((await scimError(scim.get(org, user.id))).status).toBe(404);
    expect((await scimError(scim.remove(org, user.id))).status).toBe(404);
    expect((await scimError(scim.patch(org, user.id, replace('active', true)))).status).toBe(404);
    expect(await product(user.id)).toMatchObject({
      status: 'deactivated',
      deactivation_reason: 'scim_deleted',
    });
    expect((await scim.list(org, { filter: 'userName eq "leaver@contoso.com"' })).totalResults).toBe(0);
    const back = await scim.create(org, body('Leaver@contoso.com'));
    expect(back.id).toBe(user.id);
    expect(back.resource[PRODUCT]).toMatchObject({ status: 'active' });
  });

  it('a PATCH that renames and deactivates takes the organization lock before the user row, so a seat-queue promotion holding it cannot deadlock with it', async () => {
    const user = await scim.create(org, body());
    // What a promotion of the seat queue does: the organization's lock first, then the users it seats.
    const promotion = await ctx.sql.connect();
    try {
      await promotion.query('BEGIN');
      await promotion.query('SELECT id FROM organizations WHERE id = $1 FOR NO KEY UPDATE', [org]);
      const patch = scim.patch(org, user.id, {
        schemas: [SCHEMAS.PATCH_OP],
        Operations: [
          { op: 'Replace', path: 'displayName', value: 'Renamed On The Way Out' },
          { op: 'Replace', path: 'active', value: 'False' },
        ],
      });
      // The PATCH now waits for the organization (PostgreSQL says so)...
      for (;;) {
        const { rows } = await ctx.sql.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND query ILIKE '%organizations%'",
        );
        if (rows[0].n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // ...without holding the user's row: the promotion writes it at once (a deadlock would abort one side).
      await promotion.query('UPDATE users SET updated_at = now() WHERE id = $1', [user.id]);
      await promotion.query('COMMIT');
      const done = await patch;
      expect(done.resource).toMatchObject({ active: false, displayName: 'Renamed On The Way Out' });
    } finally {
      promotion.release();
    }
    expect(await product(user.id)).toMatchObject({
      display_name: 'Renamed On The Way Out',
      status: 'deactivated',
      deactivation_reason: 'scim_deactivated',
    });
  });

  it('PUT replaces and never creates', async () => {
    const user = await scim.create(org, body(undefined, { title: 'Engineer' }));
    const put = await scim.replace(org, user.id, body('renamed@contoso.com', { displayName: 'Renamed' }));
    expect(put.resource).toMatchObject({ userName: 'renamed@contoso.com', displayName: 'Renamed' });
    expect(put.resource).not.toHaveProperty('title');
    expect(await product(user.id)).toMatchObject({ email: 'renamed@contoso.com', display_name: 'Renamed' });
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await scimError(scim.replace(org, unknown, body()))).status).toBe(404);
    expect((await scimError(scim.replace(org, 'not-a-uuid', body()))).status).toBe(404);
    const taken = await scimError(scim.replace(org, user.id, body('dup@contoso.com')));
    expect([taken.status, taken.scimType]).toEqual([409, 'uniqueness']);
  });

  it('checks If-Match on PUT, PATCH and DELETE (412 on a stale version)', async () => {
    const user = await scim.create(org, body());
    const patched = await scim.patch(org, user.id, replace('displayName', 'v2'), 'W/"1"');
    expect(patched.version).toBe(2);
    expect((await scimError(scim.patch(org, user.id, replace('displayName', 'v3'), 'W/"1"'))).status).toBe(
      412,
    );
    expect((await scimError(scim.replace(org, user.id, body(), 'W/"1"'))).status).toBe(412);
    expect((await scimError(scim.remove(org, user.id, 'W/"1"'))).status).toBe(412);
    await scim.remove(org, user.id, '*');
  });

  it('applies every PATCH form Entra sends, in order and all or nothing', async () => {
    const user = await scim.create(org, body('forms@contoso.com', { externalId: 'forms' }));
    const patched = await scim.patch(org, user.id, {
      schemas: [SCHEMAS.PATCH_OP],
      Operations: [
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'forms.new@contoso.com' },
        { op: 'Add', path: 'displayName', value: 'Forms Person' },
        { op: 'Add', path: 'title', value: 'Clerk' },
        {
          op: 'replace',
          value: {
            'name.givenName': 'Forma',
            'name.familyName': 'Person',
            [`${SCHEMAS.ENTERPRISE_USER}:department`]: 'Finance',
            [`${SCHEMAS.ENTERPRISE_USER}:manager`]: { value: 'boss-id' },
          },
        },
        { op: 'Remove', path: 'title' },
        { op: 'replace', path: 'name.familyName', value: null },
      ],
    });
    expect(patched.resource).toMatchObject({
      displayName: 'Forms Person',
      emails: [{ value: 'forms.new@contoso.com', type: 'work', primary: true }],
      name: { givenName: 'Forma' },
      [SCHEMAS.ENTERPRISE_USER]: { department: 'Finance', manager: { value: 'boss-id' } },
    });
    expect(patched.resource).not.toHaveProperty('title');
    expect((patched.resource.name as Record<string, unknown>).familyName).toBeUndefined();
    expect(await product(user.id)).toMatchObject({
      email: 'forms.new@contoso.com',
      display_name: 'Forms Person',
    });
    expect((await scim.list(org, { filter: 'emails.value eq "FORMS.NEW@contoso.com"' })).totalResults).toBe(
      1,
    );

    // One bad operation: nothing of the request is applied.
    const error = await scimError(
      scim.patch(org, user.id, {
        schemas: [SCHEMAS.PATCH_OP],
        Operations: [
          { op: 'replace', path: 'displayName', value: 'Never' },
          { op: 'replace', path: 'active', value: 'perhaps' },
        ],
      }),
    );
    expect(error.status).toBe(400);
    expect((await scim.get(org, user.id)).resource).toMatchObject({
      displayName: 'Forms Person',
      meta: { version: 'W/"2"' },
    });
    expect((await scimError(scim.patch(org, user.id, { Operations: 'x' }))).status).toBe(400);
  });

  it('filters by the indexed attributes, refuses others with invalidFilter, and pages by an immutable order', async () => {
    const filtered = await scim.create(
      org,
      body('filtered@contoso.com', { externalId: 'Ext-42', displayName: 'Filtered One' }),
    );
    const only = async (filter: string) => (await scim.list(org, { filter })).resources.map((r) => r.id);
    expect(await only('userName eq "FILTERED@contoso.com"')).toEqual([filtered.id]);
    expect(await only('externalId eq "Ext-42"')).toEqual([filtered.id]);
    expect(await only('externalId eq "ext-42"')).toEqual([]); // externalId is case-exact
    expect(await only('displayName eq "filtered one"')).toEqual([filtered.id]);
    expect(await only('emails[type eq "work" and value eq "filtered@contoso.com"]')).toEqual([filtered.id]);
    expect(await only('userName eq "filtered@contoso.com" and active eq true')).toEqual([filtered.id]);
    expect(await only(`userName eq "${crypto.randomUUID()}"`)).toEqual([]);
    const since = new Date(Date.now() - 60_000).toISOString();
    expect(await only(`meta.lastModified ge "${since}" and userName eq "filtered@contoso.com"`)).toEqual([
      filtered.id,
    ]);
    for (const bad of [
      'userName eq',
      'nickName eq "x"',
      'userName zz "x"',
      '((userName eq "x"',
      'password eq "x"',
    ]) {
      const error = await scimError(scim.list(org, { filter: bad }));
      expect([error.status, error.scimType]).toEqual([400, 'invalidFilter']);
    }

    const all = await scim.list(org, { count: 1000 });
    expect(all.resources.length).toBe(all.totalResults);
    expect(all.resources.length).toBeLessThanOrEqual(200); // capped at filter.maxResults
    // Pages stay put while users are written meanwhile: the next page starts where the last one ended.
    const first = await scim.list(org, { startIndex: 1, count: 3 });
    await Promise.all([
      scim.create(org, body()),
      scim.patch(org, first.resources[0].id as string, replace('displayName', 'changed')),
    ]);
    const second = await scim.list(org, { startIndex: 4, count: 3 });
    expect(second.startIndex).toBe(4);
    expect(second.resources.map((r) => r.id)).toEqual(all.resources.slice(3, 6).map((r) => r.id));
    expect((await scim.list(org, { count: 0 })).resources).toEqual([]);
    expect((await scimError(scim.list(org, { count: 'many' }))).status).toBe(400);
  });

  it('answers userName, externalId, emails, displayName and name eq and meta.lastModified gt from indexes', async () => {
    // Planned with sequential scans priced out (a small table is cheaper to scan): the plan names the index
    // only if one exists that the compiled condition can use; otherwise it stays a sequential scan.
    const planOf = async (filter: string, index: string) => {
      const compiled = compileFilter(filter, USER_FILTER_ATTRIBUTES, 1);
      const client = await ctx.sql.connect();
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL enable_seqscan = off');
        // Without the organization's other indexes, which a planner may walk instead on a small table.
        for (const other of ALL_INDEXES.filter((name) => name !== index))
          await client.query(`DROP INDEX ${other}`);
        const { rows } = await client.query(
          `EXPLAIN (FORMAT JSON) SELECT su.user_id FROM scim_users su
            WHERE su.organization_id = $1 AND su.deleted_at IS NULL AND (${compiled.sql})`,
          [org, ...compiled.params],
        );
        return JSON.stringify(rows[0]['QUERY PLAN']);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    };
    const ALL_INDEXES = [
      'scim_users_user_name_organization_key',
      'scim_users_external_id_organization_idx',
      'scim_users_emails_idx',
      'scim_users_organization_display_name_idx',
      'scim_users_organization_updated_at_idx',
      'scim_users_organization_created_at_idx',
      'scim_users_family_name_organization_idx',
      'scim_users_given_name_organization_idx',
    ];
    const expectations: [string, string][] = [
      ['userName eq "x"', 'scim_users_user_name_organization_key'],
      ['externalId eq "x"', 'scim_users_external_id_organization_idx'],
      ['emails.value eq "x"', 'scim_users_emails_idx'],
      ['displayName eq "x"', 'scim_users_organization_display_name_idx'],
      ['name.familyName eq "x"', 'scim_users_family_name_organization_idx'],
      ['name.givenName eq "x"', 'scim_users_given_name_organization_idx'],
      ['meta.lastModified gt "2026-01-01T00:00:00Z"', 'scim_users_organization_updated_at_idx'],
      ['meta.lastModified ge "2026-01-01T00:00:00Z"', 'scim_users_organization_updated_at_idx'],
    ];
    for (const [filter, index] of expectations) expect(await planOf(filter, index), filter).toContain(index);
    expect(JSON.stringify(await scim.explainFilter(org, 'userName eq "x"'))).toContain('Index');
  });

  it('adopts an existing user whose email or UPN a userName eq query names, keeping their role', async () => {
    const page = await scim.list(org, { filter: `userName eq "${DEMO.users.diego.upn.toUpperCase()}"` });
    expect(page.totalResults).toBe(1);
    expect(page.resources[0]).toMatchObject({
      id: owner.userId,
      [PRODUCT]: { role: 'owner', status: 'active' },
    });
    const audit = await ctx.sql.query(
      "SELECT 1 FROM audit_events WHERE action = 'scim.user_adopted' AND target_id = $1",
      [owner.userId],
    );
    expect(audit.rowCount).toBe(1);
    // A POST naming a user of the organization adopts them too, rather than creating a second one.
    const megan = await ownerOf(ctx, DEMO.users.megan.upn, { plan: 'enterprise' });
    const adopted = await scim.create(megan.organizationId, body(DEMO.users.megan.upn));
    expect(adopted.id).toBe(megan.userId);
    expect(adopted.resource[PRODUCT]).toMatchObject({ role: 'owner' });

    // The last active owner: deactivated as the directory sync would (a leaver must lose access), loudly.
    const off = await scim.patch(megan.organizationId, megan.userId, replace('active', false));
    expect(off.resource[PRODUCT]).toMatchObject({ status: 'deactivated', role: 'owner' });
    const loud = await ctx.sql.query(
      "SELECT 1 FROM audit_events WHERE action = 'scim.last_owner_deactivated' AND target_id = $1",
      [megan.userId],
    );
    expect(loud.rowCount).toBe(1);
    const session = await ctx.http().get('/api/v1/me').set(bearer(megan.token));
    expect(session.status).toBe(401);
  });

  it("shows nothing of another organization's users", async () => {
    const mine = await scim.create(org, body('mine@contoso.com'));
    const otherOrg = lee.organizationId;
    expect((await scimError(scim.get(otherOrg, mine.id))).status).toBe(404);
    expect((await scimError(scim.patch(otherOrg, mine.id, replace('active', false)))).status).toBe(404);
    expect((await scimError(scim.replace(otherOrg, mine.id, body('mine@contoso.com')))).status).toBe(404);
    expect((await scimError(scim.remove(otherOrg, mine.id))).status).toBe(404);
    expect((await scim.list(otherOrg, { filter: 'userName eq "mine@contoso.com"' })).totalResults).toBe(0);
    expect((await scim.list(otherOrg, {})).resources.map((r) => r.id)).not.toContain(mine.id);
    // The same userName in another organization is another user.
    const theirs = await scim.create(otherOrg, body('mine@contoso.com'));
    expect(theirs.id).not.toBe(mine.id);
    expect((await product(mine.id)).status).toBe('active');
  });

  it('survives a fixed-seed fuzz of POST and PATCH bodies: only SCIM errors below 500, never a crash', async () => {
    let seed = 12;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
    const values: unknown[] = [
      null,
      true,
      'False',
      0,
      -1,
      1.5,
      '',
      'x',
      [],
      {},
      [{}],
      [{ value: 'a@b.c' }],
      { value: 1 },
      'ü'.repeat(300),
    ];
    const keys = [
      'userName',
      'active',
      'emails',
      'name',
      'displayName',
      'externalId',
      SCHEMAS.ENTERPRISE_USER,
      'schemas',
      'id',
      'meta',
      'name.givenName',
      'emails[type eq "work"].value',
      'members',
    ];
    const target = await scim.create(org, body('fuzz@contoso.com'));
    for (let i = 0; i < 150; i++) {
      const doc: Record<string, unknown> = {};
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) doc[pick(keys)] = pick(values);
      if (random() < 0.5) doc.userName = `fuzz${i}@contoso.com`;
      const operations = [1, 2].map(() => ({
        op: pick(['add', 'Replace', 'remove', 'bogus', 5]),
        path: pick([...keys, undefined, '', '[[']),
        value: random() < 0.3 ? doc : pick(values),
      }));
      const patch = random() < 0.8 ? { schemas: [SCHEMAS.PATCH_OP], Operations: operations } : pick(values);
      for (const attempt of [() => scim.create(org, doc), () => scim.patch(org, target.id, patch)]) {
        try {
          await attempt();
        } catch (error) {
          expect(error, JSON.stringify({ doc, patch })).toBeInstanceOf(ScimError);
          expect((error as ScimError).status).toBeLessThan(500);
        }
      }
    }
  });

  describe('the first Microsoft sign-in of a SCIM-created user', () => {
    let contoso: TestOwner;
    beforeAll(async () => {
      contoso = await connectedOrganization(ctx, DEMO.users.adele.upn);
    });

    it('links to that user, by userName, instead of creating a second account', async () => {
      const upn = 'jit.person@contoso.com';
      directoryUser(ctx, upn);
      const created = await scim.create(contoso.organizationId, body(upn));
      const result = await signIn(ctx, upn);
      expect(result.error).toBeNull();
      const me = await ctx.http().get('/api/v1/me').set(bearer(result.token)).expect(200);
      expect(me.body).toMatchObject({ id: created.id, organizationId: contoso.organizationId });
      expect(me.body.microsoftIdentities).toHaveLength(1);
      // The next sign-in is an ordinary one of the linked account.
      const again = await signIn(ctx, upn);
      expect(again.error).toBeNull();
      expect(
        (await ctx.sql.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [upn])).rows[0].n,
      ).toBe(1);
    });

    it('links by externalId = oid even when userName and email differ', async () => {
      const entra = directoryUser(ctx, 'renamed.in.entra@contoso.com');
      const created = await scim.create(
        contoso.organizationId,
        body('old.name@contoso.com', { externalId: entra.id }),
      );
      const result = await signIn(ctx, 'renamed.in.entra@contoso.com');
      expect(result.error).toBeNull();
      const me = await ctx.http().get('/api/v1/me').set(bearer(result.token)).expect(200);
      expect(me.body.id).toBe(created.id);
    });

    it('a deactivated SCIM user is linked but refused, and never gets a second account', async () => {
      const upn = 'jit.off@contoso.com';
      directoryUser(ctx, upn);
      const created = await scim.create(contoso.organizationId, body(upn, { active: false }));
      const result = await signIn(ctx, upn);
      expect(result.error).toBe('account_deactivated');
      expect(
        (
          await ctx.sql.query(
            'SELECT user_id FROM microsoft_identities i JOIN users u ON u.id = i.user_id WHERE u.email = $1',
            [upn],
          )
        ).rows,
      ).toEqual([{ user_id: created.id }]);
    });

    it('does not link an account of another tenant', async () => {
      const upn = 'jit.lee@fabrikam.com';
      const created = await scim.create(contoso.organizationId, body(upn));
      directoryUser(ctx, upn, {}, DEMO.tenants.fabrikam.id);
      const result = await signIn(ctx, upn);
      if (result.token) {
        const me = await ctx.http().get('/api/v1/me').set(bearer(result.token)).expect(200);
        expect(me.body.id).not.toBe(created.id);
      }
      const linked = await ctx.sql.query('SELECT 1 FROM microsoft_identities WHERE user_id = $1', [
        created.id,
      ]);
      expect(linked.rowCount).toBe(0);
    });
  });
});
