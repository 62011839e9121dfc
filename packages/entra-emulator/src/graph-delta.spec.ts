import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from './fixture.js';
import {
  appGraphToken,
  graphCall,
  graphPages,
  json,
  postJson,
  startTestEmulator,
  type GraphPage,
  type TestEmulator,
} from './test-support.js';

type DeltaItem = {
  id: string;
  accountEnabled?: boolean;
  userPrincipalName?: string;
  '@removed'?: { reason: string };
};

const contoso = DEMO.tenants.contoso.id;
const { megan, adele, disabled, guest } = DEMO.users;
const FIRST = '/users/delta?$select=id,accountEnabled,userPrincipalName';

let t: TestEmulator;
let token: string;
beforeAll(async () => {
  t = await startTestEmulator();
  token = await appGraphToken(t, contoso, ['User.Read.All']);
});
afterEach(() => t.emulator.store.reset());
afterAll(() => t.emulator.close());

const byId = (items: DeltaItem[]) => new Map(items.map((i) => [i.id, i]));

describe('GET /users/delta', () => {
  it('pages a full round ending in a deltaLink; then reports exactly what changed', async () => {
    const store = t.emulator.store;
    const ids = store.generateUsers(contoso, 450);
    store.deleteUser(ids[7]); // deleted before the round: absent now, restored later

    // $top does not size delta pages: the service does, 200 users at most.
    const round1 = await graphPages<DeltaItem>(t, `${FIRST}&$top=5`, token);
    expect(round1.pages.map((p) => p.length)).toEqual([200, 200, 53]);
    for (const link of round1.links) {
      expect(link).toMatch(new RegExp(`^${t.emulator.graphBaseUrl}/v1\\.0/users/delta\\?\\$skiptoken=`));
    }
    expect(round1.deltaLink).toMatch(
      new RegExp(`^${t.emulator.graphBaseUrl}/v1\\.0/users/delta\\?\\$deltatoken=`),
    );
    const seen = round1.pages.flat();
    expect(new Set(seen.map((u) => u.id)).size).toBe(453);
    expect(seen.map((u) => u.id)).not.toContain(ids[7]);
    expect(seen[0]).toEqual({ id: adele.id, accountEnabled: true, userPrincipalName: adele.upn });

    store.updateUser(megan.id, { accountEnabled: false });
    store.deleteUser(guest.id);
    store.purgeUser(ids[3]);
    const created = store.addUser({ tenantId: contoso, userPrincipalName: 'new.hire@contoso.com' });
    store.restoreUser(ids[7]);
    store.addUser({ tenantId: DEMO.tenants.fabrikam.id, userPrincipalName: 'elsewhere@fabrikam.com' });

    const round2 = await graphPages<DeltaItem>(t, round1.deltaLink!, token);
    const changes = round2.pages.flat();
    expect(changes).toHaveLength(5);
    expect(byId(changes)).toEqual(
      byId([
        { id: megan.id, accountEnabled: false, userPrincipalName: megan.upn },
        { id: guest.id, '@removed': { reason: 'changed' } },
        { id: ids[3], '@removed': { reason: 'deleted' } },
        { id: created.id, accountEnabled: true, userPrincipalName: 'new.hire@contoso.com' },
        { id: ids[7], accountEnabled: true, userPrincipalName: 'user8@contoso.com' },
      ]),
    );

    const round3 = await graphPages<DeltaItem>(t, round2.deltaLink!, token);
    expect(round3.pages).toEqual([[]]);
    expect(round3.deltaLink).toBeTruthy();
  });

  it('caps pages at 200 users like Graph, whatever Prefer: odata.maxpagesize asks, and honours smaller ones', async () => {
    t.emulator.store.generateUsers(contoso, 1200);
    const small = await graphCall(t, FIRST, token, { headers: { prefer: 'odata.maxpagesize=50' } });
    expect(json<GraphPage>(small).value).toHaveLength(50);
    expect(small.headers['preference-applied']).toBe('odata.maxpagesize=50');

    for (const asked of [201, 999, 5000]) {
      const capped = await graphCall(t, FIRST, token, {
        headers: { prefer: `odata.maxpagesize=${asked}` },
      });
      expect(json<GraphPage>(capped).value).toHaveLength(200);
      expect(capped.headers['preference-applied']).toBe('odata.maxpagesize=200');
    }
    const unasked = await graphCall(t, FIRST, token);
    expect(json<GraphPage>(unasked).value).toHaveLength(200);

    expect(() => t.emulator.store.updateGraphSettings({ deltaPageSize: 201 })).toThrow('from 1 to 200');
    t.emulator.store.updateGraphSettings({ deltaPageSize: 30 });
    const configured = await graphCall(t, FIRST, token);
    expect(json<GraphPage>(configured).value).toHaveLength(30);
    expect(configured.headers['preference-applied']).toBeUndefined();
  });

  it('keeps $select from the first call and pages the change rounds too', async () => {
    const ids = t.emulator.store.generateUsers(contoso, 250);
    const round1 = await graphPages<DeltaItem>(t, '/users/delta?$select=id,accountEnabled', token);
    t.emulator.store.updateUsers(ids.slice(0, 220), { accountEnabled: false });
    const round2 = await graphPages<DeltaItem>(t, round1.deltaLink!, token);
    expect(round2.pages.map((p) => p.length)).toEqual([200, 20]);
    expect(round2.pages.flat()[0]).toEqual({ id: ids[0], accountEnabled: false });
  });

  it('does not lose changes made while a round is being paged', async () => {
    const store = t.emulator.store;
    const ids = store.generateUsers(contoso, 250);
    const page1 = json<GraphPage<DeltaItem>>(await graphCall(t, FIRST, token));
    expect(page1.value.map((u) => u.id)).toContain(ids[10]);

    // ids[10] was already handed out; ids[200] is still ahead; the new user is appended.
    store.updateUser(ids[10], { accountEnabled: false });
    store.updateUser(ids[200], { accountEnabled: false });
    const late = store.addUser({ tenantId: contoso, userPrincipalName: 'late@contoso.com' });
    const rest = await graphPages<DeltaItem>(t, page1['@odata.nextLink']!, token);
    const restById = byId(rest.pages.flat());
    expect(restById.get(ids[200])?.accountEnabled).toBe(false);

    const round2 = byId((await graphPages<DeltaItem>(t, rest.deltaLink!, token)).pages.flat());
    expect(round2.get(ids[10])).toMatchObject({ accountEnabled: false });
    expect(round2.get(late.id)).toMatchObject({ userPrincipalName: 'late@contoso.com' });
    expect(round2.has(disabled.id)).toBe(false);
  });

  it('starts from now with $deltatoken=latest: no users, a deltaLink, then only later changes', async () => {
    const ids = t.emulator.store.generateUsers(contoso, 500);
    const latest = await graphCall(t, `${FIRST}&$deltatoken=latest`, token);
    expect(latest.status).toBe(200);
    const page = json<GraphPage<DeltaItem>>(latest);
    expect(page.value).toEqual([]);
    expect(page['@odata.nextLink']).toBeUndefined();
    expect(page['@odata.deltaLink']).toMatch(/\/v1\.0\/users\/delta\?\$deltatoken=/);

    t.emulator.store.updateUser(ids[42], { accountEnabled: false });
    const changes = await graphPages<DeltaItem>(t, page['@odata.deltaLink']!, token);
    // The $select of the latest call carries over into the link, like any delta link's.
    expect(changes.pages.flat()).toEqual([
      { id: ids[42], accountEnabled: false, userPrincipalName: 'user43@contoso.com' },
    ]);
  });

  it('answers 410 syncStateNotFound for expired tokens and 400 for garbled ones', async () => {
    t.emulator.store.generateUsers(contoso, 350);
    const page1 = json<GraphPage>(await graphCall(t, FIRST, token));
    const { deltaLink } = await graphPages(t, page1['@odata.nextLink']!, token);

    const expire = await postJson(`${t.emulator.url}/_emulator/delta-tokens/expire`, t.ca, {});
    expect(expire.status).toBe(200);
    for (const link of [deltaLink!, page1['@odata.nextLink']!]) {
      const res = await graphCall(t, link, token);
      expect(res.status).toBe(410);
      expect(json<{ error: { code: string; message: string } }>(res).error).toMatchObject({
        code: 'syncStateNotFound',
        message: expect.stringContaining('resync required'),
      });
    }

    const fresh = await graphPages(t, FIRST, token);
    const tampered = fresh.deltaLink!.replace(
      /\$deltatoken=(.)/,
      (_, c: string) => `$deltatoken=${c === 'a' ? 'b' : 'a'}`,
    );
    for (const link of [tampered, '/users/delta?$deltatoken=garbage', '/users/delta?$skiptoken=x.y']) {
      const res = await graphCall(t, link, token);
      expect(res.status).toBe(400);
      expect(json<{ error: { code: string } }>(res).error.code).toBe('Request_BadRequest');
    }
    // A token only works in the tenant it was issued for.
    const fabrikamToken = await appGraphToken(t, DEMO.tenants.fabrikam.id, ['User.Read.All']);
    expect((await graphCall(t, fresh.deltaLink!, fabrikamToken)).status).toBe(400);
  });
});
