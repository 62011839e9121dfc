import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ScimRequestLogService } from '../../src/scim/access/scim-request-log.service.js';
import {
  connectedOrganization,
  linkedUser,
  ownerOf,
  scimTokenOf,
  type TestOwner,
} from '../support/factory.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';
import { seatCountDrift } from '../support/seat-counts.js';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const { engineering, itAdmins } = DEMO.groups;

type Body = Record<string, unknown>;
type Listed = { id: string };
type RoleEvent = { data: { user: { id: string; role: string }; previousRole: string; source: string } };

describe('SCIM Groups (/scim/v2/Groups)', () => {
  let ctx: TestContext;
  let owner: TestOwner;
  let scim: { Authorization: string };
  let megan: string;
  let lee: string;
  let joy: string;
  let otherScim: { Authorization: string };
  let stranger: string;
  let other: TestOwner;

  const api = () => ctx.http();
  const groups = '/scim/v2/Groups';
  const patchOf = (...Operations: Body[]) => ({ schemas: [PATCH_OP], Operations });

  async function scimTokenFor(org: TestOwner): Promise<{ Authorization: string }> {
    return { Authorization: `Bearer ${(await scimTokenOf(ctx, org)).token}` };
  }

  function createGroup(body: Body, token = scim) {
    return api()
      .post(groups)
      .set(token)
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify({ schemas: [GROUP], ...body }));
  }

  function patch(id: string, body: Body, token = scim) {
    return api().patch(`${groups}/${id}`).set(token).send(body);
  }

  async function memberIds(id: string): Promise<string[]> {
    const group = await api().get(`${groups}/${id}`).set(scim).expect(200);
    return ((group.body.members ?? []) as { value: string }[]).map((m) => m.value).sort();
  }

  async function userOf(id: string) {
    return (await api().get(`/api/v1/users/${id}`).set(bearer(owner.token)).expect(200)).body;
  }

  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await connectedOrganization(ctx, DEMO.users.adele.upn, { groupRoleMapping: true });
    for (const [groupId, role] of [
      [engineering.id, 'manager'],
      [itAdmins.id, 'admin'],
    ])
      await api()
        .post('/api/v1/integrations/entra/group-role-mappings')
        .set(bearer(owner.token))
        .send({ groupId, role })
        .expect(201);
    scim = await scimTokenFor(owner);
    megan = (await linkedUser(ctx, owner, 'megan.scim@contoso.com')).userId;
    lee = (await linkedUser(ctx, owner, 'lee.scim@contoso.com')).userId;
    joy = (await linkedUser(ctx, owner, 'joy.scim@contoso.com')).userId;
    other = await ownerOf(ctx, DEMO.users.diego.upn, { plan: 'enterprise' });
    otherScim = await scimTokenFor(other);
    stranger = other.userId;
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it('creates a group with no members: 201, Location, ETag and an empty member list', async () => {
    const created = await createGroup({
      displayName: 'Empty group',
      externalId: 'empty-1',
      members: [],
    }).expect(201);
    expect(created.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(created.body).toMatchObject({
      schemas: [GROUP],
      displayName: 'Empty group',
      externalId: 'empty-1',
      members: [],
      meta: { resourceType: 'Group', version: 'W/"1"' },
    });
    expect(created.headers.location).toBe(`http://localhost:3000/scim/v2/Groups/${created.body.id}`);
    expect(created.body.meta.location).toBe(created.headers.location);
    expect(created.headers.etag).toBe('W/"1"');
    const fetched = await api().get(`${groups}/${created.body.id}`).set(scim).expect(200);
    expect(fetched.body).toEqual(created.body);
  });

  it('creates a group with members, and refuses unknown member ids naming them, creating nothing', async () => {
    const created = await createGroup({
      displayName: 'Filled group',
      members: [{ value: megan, display: 'Megan' }, { value: lee }],
    }).expect(201);
    expect(created.body.members).toEqual(
      expect.arrayContaining([
        { value: megan, display: 'Megan', $ref: `http://localhost:3000/scim/v2/Users/${megan}` },
        { value: lee, $ref: `http://localhost:3000/scim/v2/Users/${lee}` },
      ]),
    );

    const unknown = '0d6f5b3e-0000-4000-8000-00000000dead';
    const refused = await createGroup({
      displayName: 'Never created',
      members: [{ value: megan }, { value: unknown }, { value: 'not-a-uuid' }, { value: stranger }],
    }).expect(400);
    expect(refused.body).toMatchObject({ scimType: 'invalidValue', status: '400' });
    expect(refused.body.detail).toContain(unknown);
    expect(refused.body.detail).toContain('not-a-uuid');
    // Another organization's user is no user here.
    expect(refused.body.detail).toContain(stranger);
    expect(refused.body.detail).not.toContain(megan);
    const list = await api()
      .get(groups)
      .query({ filter: 'displayName eq "Never created"' })
      .set(scim)
      .expect(200);
    expect(list.body.totalResults).toBe(0);

    const noName = await createGroup({ externalId: 'x' }).expect(400);
    expect(noName.body.scimType).toBe('invalidValue');
  });

  it('refuses a second group of the same externalId (409 uniqueness)', async () => {
    await createGroup({ displayName: 'Dup 1', externalId: 'dup-ext' }).expect(201);
    const dup = await createGroup({ displayName: 'Dup 2', externalId: 'dup-ext' }).expect(409);
    expect(dup.body.scimType).toBe('uniqueness');
  });

  it('lists with filters (displayName, externalId, id, members.value), excludedAttributes and paging', async () => {
    const a = (
      await createGroup({
        displayName: 'Sales EMEA',
        externalId: 'sales-emea',
        members: [{ value: joy }],
      }).expect(201)
    ).body;
    const b = (await createGroup({ displayName: 'Sales APAC', externalId: 'sales-apac' }).expect(201)).body;

    const byName = await api()
      .get(groups)
      .query({ filter: 'displayName eq "sales emea"', excludedAttributes: 'members' })
      .set(scim)
      .expect(200);
    expect(byName.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 1,
      startIndex: 1,
      itemsPerPage: 1,
    });
    expect(byName.body.Resources[0]).toMatchObject({ id: a.id, displayName: 'Sales EMEA' });
    expect(byName.body.Resources[0]).not.toHaveProperty('members');

    const byExternal = await api()
      .get(groups)
      .query({ filter: 'externalId eq "sales-apac"' })
      .set(scim)
      .expect(200);
    expect(byExternal.body.Resources.map((g: Listed) => g.id)).toEqual([b.id]);
    // externalId is case-exact (RFC 7643).
    const wrongCase = await api()
      .get(groups)
      .query({ filter: 'externalId eq "SALES-APAC"' })
      .set(scim)
      .expect(200);
    expect(wrongCase.body.totalResults).toBe(0);

    const byId = await api()
      .get(groups)
      .query({ filter: `id eq "${a.id}"` })
      .set(scim)
      .expect(200);
    expect(byId.body.Resources.map((g: Listed) => g.id)).toEqual([a.id]);

    const byMember = await api()
      .get(groups)
      .query({ filter: `members.value eq "${joy}"` })
      .set(scim)
      .expect(200);
    expect(byMember.body.Resources.map((g: Listed) => g.id)).toEqual([a.id]);
    expect(byMember.body.Resources[0].members).toEqual([expect.objectContaining({ value: joy })]);

    const both = await api()
      .get(groups)
      .query({ filter: 'displayName sw "Sales" and externalId eq "sales-emea"' })
      .set(scim)
      .expect(200);
    expect(both.body.totalResults).toBe(1);

    const bad = await api().get(groups).query({ filter: 'owner eq "x"' }).set(scim).expect(400);
    expect(bad.body.scimType).toBe('invalidFilter');

    const all = await api().get(groups).set(scim).expect(200);
    const total = all.body.totalResults as number;
    expect(total).toBeGreaterThanOrEqual(5);
    const page1 = await api().get(groups).query({ startIndex: 1, count: 2 }).set(scim).expect(200);
    const page2 = await api().get(groups).query({ startIndex: 3, count: 2 }).set(scim).expect(200);
    expect(page1.body).toMatchObject({ totalResults: total, startIndex: 1, itemsPerPage: 2 });
    expect(page2.body).toMatchObject({ totalResults: total, startIndex: 3 });
    const paged = [...page1.body.Resources, ...page2.body.Resources].map((g: Listed) => g.id);
    expect(paged).toEqual(all.body.Resources.slice(0, 4).map((g: Listed) => g.id));
    const beyond = await api()
      .get(groups)
      .query({ startIndex: total + 10 })
      .set(scim)
      .expect(200);
    expect(beyond.body).toMatchObject({ totalResults: total, Resources: [] });
    await api().get(groups).query({ count: 'many' }).set(scim).expect(400);
  });

  it('answers 404 for a group that does not exist, however its id is spelled', async () => {
    await api().get(`${groups}/7d1c9a62-0000-4000-8000-000000000000`).set(scim).expect(404);
    const malformed = await api().get(`${groups}/not-an-id`).set(scim).expect(404);
    expect(malformed.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    await api()
      .put(`${groups}/7d1c9a62-0000-4000-8000-000000000000`)
      .set(scim)
      .send({ schemas: [GROUP], displayName: 'Never' })
      .expect(404);
    await patch(
      '7d1c9a62-0000-4000-8000-000000000000',
      patchOf({ op: 'add', path: 'members', value: [] }),
    ).expect(404);
    await api().delete(`${groups}/7d1c9a62-0000-4000-8000-000000000000`).set(scim).expect(404);
  });

  it('replaces a group with PUT (members not listed leave), with If-Match', async () => {
    const group = (
      await createGroup({ displayName: 'Put me', externalId: 'put-1', members: [{ value: megan }] }).expect(
        201,
      )
    ).body;
    const replaced = await api()
      .put(`${groups}/${group.id}`)
      .set(scim)
      .send({
        schemas: [GROUP],
        id: group.id,
        displayName: 'Put me again',
        members: [{ value: lee, display: 'Lee' }, { value: joy }],
      })
      .expect(200);
    expect(replaced.body).toMatchObject({ displayName: 'Put me again', meta: { version: 'W/"2"' } });
    expect(replaced.body).not.toHaveProperty('externalId');
    expect(replaced.headers.etag).toBe('W/"2"');
    expect(await memberIds(group.id)).toEqual([lee, joy].sort());

    const stale = await api()
      .put(`${groups}/${group.id}`)
      .set(scim)
      .set('If-Match', 'W/"1"')
      .send({ schemas: [GROUP], displayName: 'Stale write' })
      .expect(412);
    expect(stale.body.status).toBe('412');
    const unknown = await api()
      .put(`${groups}/${group.id}`)
      .set(scim)
      .set('If-Match', 'W/"2"')
      .send({ schemas: [GROUP], displayName: 'Unknown member', members: [{ value: stranger }] })
      .expect(400);
    expect(unknown.body.detail).toContain(stranger);
    expect((await api().get(`${groups}/${group.id}`).set(scim).expect(200)).body.displayName).toBe(
      'Put me again',
    );
    await api()
      .put(`${groups}/${group.id}`)
      .set(scim)
      .set('If-Match', 'W/"2"')
      .send({ schemas: [GROUP], displayName: 'Fresh write' })
      .expect(200);
    expect(await memberIds(group.id)).toEqual([]);
  });

  it('answers GET with If-None-Match 304 until the group changes', async () => {
    const group = (await createGroup({ displayName: 'Cached' }).expect(201)).body;
    const cached = await api()
      .get(`${groups}/${group.id}`)
      .set(scim)
      .set('If-None-Match', 'W/"1"')
      .expect(304);
    expect(cached.headers.etag).toBe('W/"1"');
    expect(cached.text).toBe('');
    await patch(group.id, patchOf({ op: 'replace', path: 'displayName', value: 'Cached 2' })).expect(204);
    const fresh = await api()
      .get(`${groups}/${group.id}`)
      .set(scim)
      .set('If-None-Match', 'W/"1"')
      .expect(200);
    expect(fresh.body).toMatchObject({ displayName: 'Cached 2', meta: { version: 'W/"2"' } });
    await patch(group.id, patchOf({ op: 'replace', path: 'displayName', value: 'Cached 3' }))
      .set('If-Match', 'W/"1"')
      .expect(412);
    await api().delete(`${groups}/${group.id}`).set(scim).set('If-Match', 'W/"1"').expect(412);
    await api().delete(`${groups}/${group.id}`).set(scim).set('If-Match', 'W/"2"').expect(204);
  });

  it('patches members in every form Entra sends: several added, removed by value array and by filter, replaced', async () => {
    const group = (await createGroup({ displayName: 'Patch me' }).expect(201)).body;
    const added = await patch(
      group.id,
      patchOf({ op: 'Add', path: 'members', value: [{ value: megan }, { value: lee }, { value: joy }] }),
    ).expect(204);
    expect(added.headers.etag).toBe('W/"2"');
    expect(await memberIds(group.id)).toEqual([megan, lee, joy].sort());

    await patch(
      group.id,
      patchOf({ op: 'Remove', path: 'members', value: [{ value: megan }, { value: lee }] }),
    ).expect(204);
    expect(await memberIds(group.id)).toEqual([joy]);

    await patch(group.id, patchOf({ op: 'add', path: 'members', value: [{ value: megan }] })).expect(204);
    await patch(group.id, patchOf({ op: 'remove', path: `members[value eq "${joy}"]` })).expect(204);
    expect(await memberIds(group.id)).toEqual([megan]);

    await patch(
      group.id,
      patchOf({ op: 'replace', path: 'members', value: [{ value: lee }, { value: joy }] }),
    ).expect(204);
    expect(await memberIds(group.id)).toEqual([lee, joy].sort());

    // The reference collection's form: one member with a `displayName`, which is kept as its `display`.
    await patch(
      group.id,
      patchOf({ op: 'add', path: 'members', value: [{ displayName: 'new User', value: megan }] }),
    ).expect(204);
    const shown = await api().get(`${groups}/${group.id}`).set(scim).expect(200);
    expect(shown.body.members).toContainEqual(expect.objectContaining({ value: megan, display: 'new User' }));
    const slim = await api()
      .get(`${groups}/${group.id}`)
      .query({ excludedAttributes: 'members' })
      .set(scim)
      .expect(200);
    expect(slim.body).not.toHaveProperty('members');
    expect(slim.body).toMatchObject({ id: group.id, displayName: 'Patch me' });
    const named = await api()
      .get(groups)
      .query({ filter: `id eq "${group.id}"`, attributes: 'displayName' })
      .set(scim)
      .expect(200);
    expect(Object.keys(named.body.Resources[0] as Body).sort()).toEqual([
      'displayName',
      'id',
      'meta',
      'schemas',
    ]);

    // Removing someone who is not a member is no error (Entra repeats removals after a failure).
    const unchanged = await patch(
      group.id,
      patchOf({ op: 'remove', path: 'members', value: [{ value: owner.userId }] }),
    ).expect(204);
    expect(await memberIds(group.id)).toEqual([megan, lee, joy].sort());
    // Nothing changed, so the ETag did not move.
    expect(unchanged.headers.etag).toBe(shown.headers.etag);
    await patch(group.id, patchOf({ op: 'remove', path: 'members' })).expect(204);
    expect(await memberIds(group.id)).toEqual([]);
  });

  it('patches displayName and externalId, path-less too, several operations in order', async () => {
    const group = (await createGroup({ displayName: 'Rename me' }).expect(201)).body;
    await patch(
      group.id,
      patchOf(
        { op: 'Replace', path: 'displayName', value: 'Renamed once' },
        { op: 'replace', value: { id: group.id, displayName: 'Renamed twice', externalId: 'renamed-ext' } },
        { op: 'add', path: 'members', value: [{ value: megan }] },
      ),
    ).expect(204);
    const fetched = await api().get(`${groups}/${group.id}`).set(scim).expect(200);
    expect(fetched.body).toMatchObject({
      displayName: 'Renamed twice',
      externalId: 'renamed-ext',
      meta: { version: 'W/"2"' },
    });
    expect(await memberIds(group.id)).toEqual([megan]);
    const removeName = await patch(group.id, patchOf({ op: 'remove', path: 'displayName' })).expect(400);
    expect(removeName.body.scimType).toBe('mutability');
    const changeId = await patch(
      group.id,
      patchOf({ op: 'replace', value: { id: '7d1c9a62-0000-4000-8000-000000000001' } }),
    ).expect(400);
    expect(changeId.body.scimType).toBe('mutability');
  });

  it('applies nothing of a PATCH that names an unknown member: 400 invalidValue naming it', async () => {
    const group = (await createGroup({ displayName: 'Atomic', members: [{ value: megan }] }).expect(201))
      .body;
    const refused = await patch(
      group.id,
      patchOf(
        { op: 'replace', path: 'displayName', value: 'Should not stick' },
        { op: 'add', path: 'members', value: [{ value: lee }] },
        { op: 'remove', path: 'members', value: [{ value: megan }] },
        { op: 'add', path: 'members', value: [{ value: stranger }, { value: 'ghost' }] },
      ),
    ).expect(400);
    expect(refused.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    expect(refused.body.detail).toContain(stranger);
    expect(refused.body.detail).toContain('ghost');
    const fetched = await api().get(`${groups}/${group.id}`).set(scim).expect(200);
    expect(fetched.body).toMatchObject({ displayName: 'Atomic', meta: { version: 'W/"1"' } });
    expect(await memberIds(group.id)).toEqual([megan]);
  });

  it('ignores a member value that is not a member list (a bare string): 204, logged, nothing changed', async () => {
    const group = (await createGroup({ displayName: 'Garbage in' }).expect(201)).body;
    await patch(group.id, {
      id: group.id,
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: 'string id 1' }],
    }).expect(204);
    const fetched = await api().get(`${groups}/${group.id}`).set(scim).expect(200);
    expect(fetched.body).toMatchObject({ members: [], meta: { version: 'W/"1"' } });
    // The provisioning log (what an admin reads when Entra reports the request) names what was ignored.
    await ctx.app.get(ScimRequestLogService).flush();
    const logged = await ctx.sql.query<{ status: number; notes: string[] }>(
      `SELECT status, notes FROM scim_requests WHERE method = 'PATCH' AND path = $1`,
      [`/Groups/${group.id}`],
    );
    expect(logged.rows).toEqual([
      {
        status: 204,
        notes: ['"add" of members ignored: its value, a string ("string id 1"), is not a member list'],
      },
    ]);
  });

  it('re-resolves roles through the group mappings as membership changes; Owners are never changed', async () => {
    expect(await userOf(megan)).toMatchObject({ role: 'employee' });
    const eng = (
      await createGroup({
        displayName: 'Engineering',
        externalId: engineering.id,
        members: [{ value: megan }, { value: owner.userId }],
      }).expect(201)
    ).body;
    expect(await userOf(megan)).toMatchObject({
      role: 'manager',
      roleSource: 'group_mapping',
      roleSourceGroup: { id: engineering.id },
    });
    expect(await userOf(owner.userId)).toMatchObject({ role: 'owner' });

    const admins = (await createGroup({ displayName: 'IT Admins', externalId: itAdmins.id }).expect(201))
      .body;
    await patch(
      admins.id,
      patchOf({ op: 'add', path: 'members', value: [{ value: megan }, { value: owner.userId }] }),
    ).expect(204);
    expect(await userOf(megan)).toMatchObject({ role: 'admin', roleSourceGroup: { id: itAdmins.id } });
    expect(await userOf(owner.userId)).toMatchObject({ role: 'owner' });

    // Deleting the group takes its role away: the other mapped group decides again.
    await api().delete(`${groups}/${admins.id}`).set(scim).expect(204);
    expect(await userOf(megan)).toMatchObject({ role: 'manager', roleSourceGroup: { id: engineering.id } });
    const gone = await ctx.sql.query(
      'SELECT count(*)::int AS n FROM scim_group_members WHERE group_id = $1',
      [admins.id],
    );
    expect(gone.rows[0].n).toBe(0);
    await api().get(`${groups}/${admins.id}`).set(scim).expect(404);

    // Leaving the last mapped group: back to Employee.
    await patch(eng.id, patchOf({ op: 'remove', path: `members[value eq "${megan}"]` })).expect(204);
    expect(await userOf(megan)).toMatchObject({
      role: 'employee',
      roleSource: 'default',
      roleSourceGroup: null,
    });

    // An externalId that stops naming a mapped group changes its members' roles too.
    await patch(eng.id, patchOf({ op: 'add', path: 'members', value: [{ value: megan }] })).expect(204);
    expect(await userOf(megan)).toMatchObject({ role: 'manager' });
    await patch(
      eng.id,
      patchOf({ op: 'replace', path: 'externalId', value: 'no-longer-engineering' }),
    ).expect(204);
    expect(await userOf(megan)).toMatchObject({ role: 'employee' });
    expect(await userOf(owner.userId)).toMatchObject({ role: 'owner' });

    const audit = await api()
      .get(`/api/v1/audit-events?action=user.role_changed_by_group_mapping&targetId=${megan}`)
      .set(bearer(owner.token))
      .expect(200);
    expect(audit.body.items[0]).toMatchObject({
      actor: { type: 'system' },
      before: { role: 'manager' },
      after: { role: 'employee', source: 'scim' },
    });
    const ownerAudit = await api()
      .get(`/api/v1/audit-events?action=user.role_changed_by_group_mapping&targetId=${owner.userId}`)
      .set(bearer(owner.token))
      .expect(200);
    expect(ownerAudit.body.items).toEqual([]);
    const events = await api()
      .get('/api/v1/events?types=user.role_changed')
      .set(bearer(owner.token))
      .expect(200);
    const megans = (events.body.items as RoleEvent[]).filter((e) => e.data.user.id === megan);
    expect(megans.map((e) => [e.data.previousRole, e.data.user.role, e.data.source])).toEqual(
      [
        ['employee', 'manager'],
        ['manager', 'admin'],
        ['admin', 'manager'],
        ['manager', 'employee'],
        ['employee', 'manager'],
        ['manager', 'employee'],
      ].map((pair) => [...pair, 'scim']),
    );
  });

  it('re-resolves SCIM members at once when a mapping is created, changed or deleted', async () => {
    const mappings = '/api/v1/integrations/entra/group-role-mappings';
    const listed = await api().get(mappings).set(bearer(owner.token)).expect(200);
    const engMapping = (listed.body.items as { id: string; groupId: string }[]).find(
      (m) => m.groupId === engineering.id,
    )!;
    const team = (
      await createGroup({
        displayName: 'Engineering (mapping changes)',
        externalId: engineering.id.toUpperCase(),
        members: [{ value: lee }, { value: owner.userId }],
      }).expect(201)
    ).body;
    expect(await userOf(lee)).toMatchObject({ role: 'manager', roleSourceGroup: { id: engineering.id } });

    // No SCIM request in between: the mapping change alone moves the members.
    await api()
      .put(`${mappings}/${engMapping.id}`)
      .set(bearer(owner.token))
      .send({ groupId: engineering.id, role: 'admin' })
      .expect(200);
    expect(await userOf(lee)).toMatchObject({ role: 'admin', roleSource: 'group_mapping' });
    await api().delete(`${mappings}/${engMapping.id}`).set(bearer(owner.token)).expect(204);
    expect(await userOf(lee)).toMatchObject({
      role: 'employee',
      roleSource: 'default',
      roleSourceGroup: null,
    });
    await api()
      .post(mappings)
      .set(bearer(owner.token))
      .send({ groupId: engineering.id, role: 'manager' })
      .expect(201);
    expect(await userOf(lee)).toMatchObject({ role: 'manager', roleSourceGroup: { id: engineering.id } });
    expect(await userOf(owner.userId)).toMatchObject({ role: 'owner' });
    // A mapping of another organization's group changes nothing here.
    expect(await userOf(joy)).toMatchObject({ role: 'employee' });

    const audit = await api()
      .get(`/api/v1/audit-events?action=user.role_changed_by_group_mapping&targetId=${lee}`)
      .set(bearer(owner.token))
      .expect(200);
    expect(
      (audit.body.items as { before: { role: string }; after: { role: string } }[])
        .slice(0, 3)
        .map((e) => [e.before.role, e.after.role]),
    ).toEqual([
      ['employee', 'manager'],
      ['admin', 'employee'],
      ['manager', 'admin'],
    ]);
    await api().delete(`${groups}/${team.id}`).set(scim).expect(204);
  });

  it('shows another organization nothing of this one', async () => {
    const group = (
      await createGroup({
        displayName: 'Private group',
        externalId: 'private-1',
        members: [{ value: megan }],
      }).expect(201)
    ).body;
    const list = await api().get(groups).set(otherScim).expect(200);
    expect(list.body).toMatchObject({ totalResults: 0, Resources: [] });
    const filtered = await api()
      .get(groups)
      .query({ filter: 'displayName eq "Private group"' })
      .set(otherScim)
      .expect(200);
    expect(filtered.body.totalResults).toBe(0);
    await api().get(`${groups}/${group.id}`).set(otherScim).expect(404);
    await api()
      .put(`${groups}/${group.id}`)
      .set(otherScim)
      .send({ schemas: [GROUP], displayName: 'Taken over' })
      .expect(404);
    await patch(group.id, patchOf({ op: 'remove', path: 'members' }), otherScim).expect(404);
    await api().delete(`${groups}/${group.id}`).set(otherScim).expect(404);
    // Its own group cannot take this organization's users as members.
    const own = await createGroup({ displayName: 'Theirs', members: [{ value: megan }] }, otherScim).expect(
      400,
    );
    expect(own.body.detail).toContain(megan);
    expect(await memberIds(group.id)).toEqual([megan]);
    expect((await api().get(`${groups}/${group.id}`).set(scim).expect(200)).body.displayName).toBe(
      'Private group',
    );
  });

  it('takes SCIM-created users as members, and hides and refuses them once SCIM deleted them', async () => {
    const user = await api()
      .post('/scim/v2/Users')
      .set(scim)
      .send({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'pat.scim@contoso.com',
        active: true,
        displayName: 'Pat',
      })
      .expect(201);
    const pat = user.body.id as string;
    const group = (
      await createGroup({ displayName: 'With Pat', members: [{ value: pat }, { value: megan }] }).expect(201)
    ).body;
    expect(await memberIds(group.id)).toEqual([pat, megan].sort());

    await api().delete(`/scim/v2/Users/${pat}`).set(scim).expect(204);
    expect(await memberIds(group.id)).toEqual([megan]);
    const byMember = await api()
      .get(groups)
      .query({ filter: `members.value eq "${pat}"` })
      .set(scim)
      .expect(200);
    expect(byMember.body.totalResults).toBe(0);
    const refused = await patch(
      group.id,
      patchOf({ op: 'add', path: 'members', value: [{ value: pat }] }),
    ).expect(400);
    expect(refused.body).toMatchObject({ scimType: 'invalidValue' });
    expect(refused.body.detail).toContain(pat);
  });

  it('counts the managed groups in the SCIM status, per organization', async () => {
    const all = await api().get(groups).query({ count: 0 }).set(scim).expect(200);
    const status = await api().get('/api/v1/integrations/scim').set(bearer(owner.token)).expect(200);
    expect(status.body.managedGroups).toBe(all.body.totalResults);
    expect(status.body.managedGroups).toBeGreaterThan(0);
    const theirs = await api().get('/api/v1/integrations/scim').set(bearer(other.token)).expect(200);
    // Its only attempt (a group naming this organization's user) was refused whole.
    expect(theirs.body.managedGroups).toBe(0);
  });

  it('refuses requests without a valid SCIM token', async () => {
    const refused = await api()
      .get(groups)
      .set({ Authorization: 'Bearer scim_not-a-real-token' })
      .expect(401);
    expect(refused.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    await api().get(groups).set(bearer(owner.token)).expect(401);
  });
});
