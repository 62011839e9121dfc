import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connectedOrganization,
  directoryUser,
  ownerOf,
  scimTokenOf,
  type TestOwner,
} from '../support/factory.js';
import { bearer, signIn } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';
import { seatCountDrift } from '../support/seat-counts.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PRODUCT = 'urn:entra-integration:params:scim:schemas:extension:product:2.0:User';

/** /scim/v2/Users over HTTP, with real tokens minted through the management API, as Entra calls it. */
describe('SCIM /Users over HTTP', () => {
  let ctx: TestContext;
  let contoso: TestOwner;
  let other: TestOwner;
  let token: string;
  let otherToken: string;
  let n = 0;

  const mint = async (owner: TestOwner) => (await scimTokenOf(ctx, owner)).token;

  const scim = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, as = token) =>
    ctx.http()[method](`/scim/v2${path}`).set('Authorization', `Bearer ${as}`);

  const newUser = (userName = `scim${++n}@contoso.com`, extra: Record<string, unknown> = {}) => ({
    schemas: [USER],
    userName,
    active: true,
    displayName: userName.split('@')[0],
    emails: [{ value: userName, type: 'work', primary: true }],
    ...extra,
  });
  const post = async (body: Record<string, unknown> = newUser()) =>
    (
      await scim('post', '/Users')
        .set('Content-Type', 'application/scim+json')
        .send(JSON.stringify(body))
        .expect(201)
    ).body as Record<string, unknown> & { id: string };
  const patchOp = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

  beforeAll(async () => {
    ctx = await createTestContext();
    contoso = await connectedOrganization(ctx, DEMO.users.adele.upn);
    other = await ownerOf(ctx, DEMO.users.diego.upn, { plan: 'enterprise' });
    token = await mint(contoso);
    otherToken = await mint(other);
  });
  afterAll(() => ctx?.close());
  // Every status change keeps the organization's seat counts exact.
  afterEach(async () => expect(await seatCountDrift(ctx.sql)).toEqual([]));

  it("answers Entra's Test Connection with 200 and an empty list, on /users too", async () => {
    for (const path of ['/Users', '/users']) {
      const response = await scim(
        'get',
        `${path}?filter=userName eq "${crypto.randomUUID()}"&aadOptscim062020`,
      ).expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(response.body).toMatchObject({ schemas: [LIST], totalResults: 0, Resources: [] });
    }
  });

  it('creates with 201, Location and ETag, reads it back, and answers 304 to a matching If-None-Match', async () => {
    const response = await scim('post', '/Users')
      .send(newUser('http.user@contoso.com', { password: 'P@ss-1' }))
      .expect(201);
    const created = response.body as { id: string; meta: { location: string; version: string } };
    expect(response.headers.location).toBe(created.meta.location);
    expect(response.headers.location).toBe(`${ctx.config.appBaseUrl}/scim/v2/Users/${created.id}`);
    expect(response.headers.etag).toBe('W/"1"');
    expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(response.body).not.toHaveProperty('password');
    expect(response.body).toMatchObject({
      userName: 'http.user@contoso.com',
      active: true,
      [PRODUCT]: { status: 'active' },
    });

    const read = await scim('get', `/Users/${created.id}`).expect(200);
    expect(read.headers.etag).toBe('W/"1"');
    await scim('get', `/Users/${created.id}`).set('If-None-Match', 'W/"1"').expect(304);
    await scim('get', `/Users/${created.id}`).set('If-None-Match', 'W/"0"').expect(200);
    const projected = await scim('get', `/Users/${created.id}?attributes=displayName`).expect(200);
    expect(Object.keys(projected.body).sort()).toEqual(['displayName', 'id', 'meta', 'schemas', 'userName']);
    const excluded = await scim('get', `/Users/${created.id}?excludedAttributes=emails,${PRODUCT}`).expect(
      200,
    );
    expect(excluded.body).not.toHaveProperty('emails');
    expect(excluded.body).not.toHaveProperty(PRODUCT);
  });

  it('refuses a duplicate userName with 409 uniqueness in the SCIM error schema, and bad bodies with 400', async () => {
    await post(newUser('twice@contoso.com'));
    const duplicate = await scim('post', '/Users').send(newUser('TWICE@contoso.com')).expect(409);
    expect(duplicate.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });
    for (const bad of [
      { schemas: [USER] },
      { userName: 'x', active: 'perhaps' },
      { userName: 'x', emails: 'x@y' },
    ]) {
      const response = await scim('post', '/Users').send(bad);
      expect(response.status, JSON.stringify(bad)).toBe(400);
      expect(response.body).toMatchObject({ schemas: [ERROR], status: '400' });
    }
  });

  it('PATCHes as Entra does, answers 204 (200 with the resource when asked for it), and checks If-Match', async () => {
    const user = await post();
    const off = await scim('patch', `/Users/${user.id}`)
      .send(patchOp({ op: 'Replace', path: 'active', value: 'False' }))
      .expect(204);
    expect(off.text).toBe('');
    expect(off.headers.etag).toBe('W/"2"');
    expect((await scim('get', `/Users/${user.id}`).expect(200)).body).toMatchObject({
      active: false,
      [PRODUCT]: { status: 'deactivated' },
    });
    await scim('patch', `/Users/${user.id}`)
      .set('If-Match', 'W/"1"')
      .send(patchOp({ op: 'Replace', path: 'active', value: 'True' }))
      .expect(412);
    const on = await scim('patch', `/Users/${user.id}`)
      .set('If-Match', 'W/"2"')
      .set('Prefer', 'return=representation')
      .send(patchOp({ op: 'Replace', path: 'active', value: 'True' }))
      .expect(200);
    expect(on.body).toMatchObject({ active: true, [PRODUCT]: { status: 'active' } });
    expect(on.headers.etag).toBe('W/"3"');
    // RFC 7644 §3.5.2: a PATCH naming `attributes` is answered 200 with them.
    const titled = await scim('patch', `/Users/${user.id}?attributes=title`)
      .send(patchOp({ op: 'Replace', path: 'title', value: 'Buyer' }))
      .expect(200);
    expect(titled.body).toMatchObject({ id: user.id, title: 'Buyer' });
    expect(titled.body.active).toBeUndefined();
    const bad = await scim('patch', `/Users/${user.id}`)
      .send({ Operations: [{ op: 'jump', path: 'active' }] })
      .expect(400);
    expect(bad.body.schemas).toEqual([ERROR]);
  });

  it('PUT replaces and never creates; DELETE deactivates and hides (404 afterwards)', async () => {
    const user = await post();
    const put = await scim('put', `/Users/${user.id}`).send(newUser('put.user@contoso.com')).expect(200);
    expect(put.body.userName).toBe('put.user@contoso.com');
    await scim('put', `/Users/${crypto.randomUUID()}`).send(newUser()).expect(404);
    await scim('delete', `/Users/${user.id}`).set('If-Match', 'W/"1"').expect(412);
    await scim('delete', `/Users/${user.id}`).expect(204);
    const gone = await scim('get', `/Users/${user.id}`).expect(404);
    expect(gone.body).toMatchObject({ schemas: [ERROR], status: '404' });
    await scim('get', '/Users/not-a-uuid').expect(404);
    const row = await ctx.sql.query('SELECT status, deactivation_reason FROM users WHERE id = $1', [user.id]);
    expect(row.rows[0]).toEqual({ status: 'deactivated', deactivation_reason: 'scim_deleted' });
  });

  it('filters and pages; an unknown attribute or bad syntax is 400 invalidFilter', async () => {
    const user = await post(newUser('filter.me@contoso.com', { externalId: 'ext-filter' }));
    const find = async (filter: string) =>
      (await scim('get', `/Users?filter=${encodeURIComponent(filter)}`).expect(200)).body as {
        totalResults: number;
        Resources: { id: string }[];
      };
    expect((await find('userName eq "Filter.Me@contoso.com"')).Resources.map((r) => r.id)).toEqual([user.id]);
    expect((await find('externalId eq "ext-filter" and active eq true')).Resources.map((r) => r.id)).toEqual([
      user.id,
    ]);
    expect((await find('emails[type eq "work" and value eq "filter.me@contoso.com"]')).totalResults).toBe(1);
    for (const bad of ['nickName eq "x"', 'userName eq', 'userName xx "y"']) {
      const response = await scim('get', `/Users?filter=${encodeURIComponent(bad)}`).expect(400);
      expect(response.body).toMatchObject({ status: '400', scimType: 'invalidFilter' });
    }
    const page = await scim('get', '/Users?startIndex=2&count=2').expect(200);
    expect(page.body).toMatchObject({ startIndex: 2, itemsPerPage: 2 });
    expect(page.body.Resources).toHaveLength(2);
    await scim('get', '/Users?count=lots').expect(400);
  });

  it("gives another organization's token nothing of this one: 404 and empty lists", async () => {
    const user = await post(newUser('private@contoso.com'));
    await scim('get', `/Users/${user.id}`, otherToken).expect(404);
    await scim('patch', `/Users/${user.id}`, otherToken)
      .send(patchOp({ op: 'replace', path: 'active', value: false }))
      .expect(404);
    await scim('delete', `/Users/${user.id}`, otherToken).expect(404);
    const list = await scim('get', '/Users?filter=userName eq "private@contoso.com"', otherToken).expect(200);
    expect(list.body.totalResults).toBe(0);
    expect((await scim('get', `/Users/${user.id}`).expect(200)).body.active).toBe(true);
  });

  it('queues pushed users for a seat, disables and re-enables them, and adopts an existing user', async () => {
    const small = await ownerOf(ctx, DEMO.users.lee.upn, { plan: 'enterprise', seatLimit: 2 });
    const smallToken = await mint(small);
    const push = async (userName: string) =>
      (await scim('post', '/Users', smallToken).send(newUser(userName)).expect(201)).body as Record<
        string,
        unknown
      > & { id: string };
    // Lee (the owner) holds one seat: the first pushed user takes the other, the next one waits.
    const seated = await push('seated@fabrikam.com');
    const waiting = await push('waiting@fabrikam.com');
    expect(seated[PRODUCT]).toEqual({ status: 'active', role: 'employee' });
    expect(waiting[PRODUCT]).toEqual({ status: 'pending', pendingReason: 'awaiting_seat', role: 'employee' });
    // Disabling the seated user frees the seat for the one waiting; re-enabling queues them in turn.
    await scim('patch', `/Users/${seated.id}`, smallToken)
      .send(patchOp({ op: 'Replace', path: 'active', value: 'False' }))
      .expect(204);
    expect((await scim('get', `/Users/${waiting.id}`, smallToken).expect(200)).body[PRODUCT]).toMatchObject({
      status: 'active',
    });
    const again = await scim('patch', `/Users/${seated.id}`, smallToken)
      .set('Prefer', 'return=representation')
      .send(patchOp({ op: 'Replace', path: 'active', value: 'True' }))
      .expect(200);
    expect(again.body[PRODUCT]).toEqual({
      status: 'pending',
      pendingReason: 'awaiting_seat',
      role: 'employee',
    });

    // Entra looks the owner up by userName before creating: the existing user is found (and adopted), not duplicated.
    const found = await scim('get', `/Users?filter=userName eq "${DEMO.users.lee.upn}"`, smallToken).expect(
      200,
    );
    expect(found.body.Resources).toMatchObject([
      { id: small.userId, [PRODUCT]: { role: 'owner', status: 'active' } },
    ]);
    const users = await ctx.sql.query('SELECT count(*)::int AS n FROM users WHERE organization_id = $1', [
      small.organizationId,
    ]);
    expect(users.rows[0].n).toBe(3);
    // The integration status counts the users SCIM manages: the two pushed ones and the adopted owner.
    const status = await ctx.http().get('/api/v1/integrations/scim').set(bearer(small.token)).expect(200);
    expect(status.body.managedUsers).toBe(3);
  });

  it('never answers 500 to a fixed-seed fuzz of POST and PATCH bodies', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
    const values: unknown[] = [
      null,
      true,
      'True',
      0,
      3.5,
      '',
      'x',
      [],
      {},
      [{ value: 'a@b.c' }],
      { givenName: 1 },
      'é'.repeat(500),
    ];
    const keys = [
      'userName',
      'active',
      'emails',
      'name',
      'displayName',
      'externalId',
      'id',
      'meta',
      'schemas',
      'name.givenName',
      'emails[type eq "work"].value',
      `${USER}:title`,
    ];
    const target = await post();
    for (let i = 0; i < 60; i++) {
      const doc: Record<string, unknown> = {};
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) doc[pick(keys)] = pick(values);
      if (random() < 0.5) doc.userName = `http.fuzz${i}@contoso.com`;
      const created = await scim('post', '/Users').send(doc);
      expect(created.status, JSON.stringify(doc)).toBeLessThan(500);
      expect([201, 400, 409]).toContain(created.status);
      const op = {
        op: pick(['add', 'Replace', 'remove', 'nope']),
        path: pick([...keys, undefined, '[']),
        value: pick([...values, doc]),
      };
      const patched = await scim('patch', `/Users/${target.id}`).send(
        random() < 0.8 ? patchOp(op) : (pick(values) ?? {}),
      );
      expect(patched.status, JSON.stringify(op)).toBeLessThan(500);
      if (patched.status !== 204) expect(patched.headers['content-type']).toMatch(/^application\/scim\+json/);
    }
  });

  it('links the first Microsoft sign-in of a SCIM-created user to it', async () => {
    const upn = 'pushed.first@contoso.com';
    directoryUser(ctx, upn);
    const user = await post(newUser(upn));
    const result = await signIn(ctx, upn);
    expect(result.error).toBeNull();
    const me = await ctx.http().get('/api/v1/me').set(bearer(result.token)).expect(200);
    expect(me.body.id).toBe(user.id);
  });
});
