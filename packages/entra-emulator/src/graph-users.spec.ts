import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from './fixture.js';
import {
  appGraphToken,
  graphCall,
  graphPages,
  json,
  startTestEmulator,
  type GraphPage,
  type HttpResult,
  type TestEmulator,
} from './test-support.js';

interface GraphErrorBody {
  error: { code: string; message: string };
}
type UserItem = { id: string; userPrincipalName?: string; accountEnabled?: boolean; userType?: string };

const contoso = DEMO.tenants.contoso.id;
const { megan, adele, disabled, guest, diego } = DEMO.users;
const fixtureContosoIds = [adele.id, megan.id, disabled.id, guest.id];

let t: TestEmulator;
let token: string;
beforeAll(async () => {
  t = await startTestEmulator();
  token = await appGraphToken(t, contoso, ['User.Read.All']);
});
afterEach(() => t.emulator.store.reset());
afterAll(() => t.emulator.close());

const errorOf = (res: HttpResult) => json<GraphErrorBody>(res).error;

describe('GET /users', () => {
  it('returns accountEnabled and userType only when selected', async () => {
    const plain = json<GraphPage<UserItem>>(await graphCall(t, '/users', token));
    expect(plain.value.map((u) => u.id)).toEqual(fixtureContosoIds);
    expect(plain.value[0]).toMatchObject({ id: adele.id, userPrincipalName: adele.upn, businessPhones: [] });
    expect(plain.value[0]).not.toHaveProperty('accountEnabled');
    expect(plain.value[0]).not.toHaveProperty('userType');

    const selected = json<GraphPage<UserItem>>(
      await graphCall(t, '/users?$select=id,accountEnabled,userPrincipalName,mail,userType', token),
    );
    expect(selected.value.find((u) => u.id === guest.id)).toEqual({
      id: guest.id,
      accountEnabled: true,
      userPrincipalName: guest.upn,
      mail: guest.mail,
      userType: 'Guest',
    });
  });

  it('filters on accountEnabled eq false', async () => {
    const res = await graphCall(t, '/users?$select=id,accountEnabled&$filter=accountEnabled eq false', token);
    expect(json<GraphPage<UserItem>>(res).value).toEqual([{ id: disabled.id, accountEnabled: false }]);
    const enabled = json<GraphPage<UserItem>>(
      await graphCall(t, '/users?$select=id&$filter=accountEnabled%20eq%20true', token),
    );
    expect(enabled.value.map((u) => u.id)).toEqual([adele.id, megan.id, guest.id]);
  });

  it('answers 400 for $top=1000, unsupported filters, unknown properties and $skip', async () => {
    const tooBig = await graphCall(t, '/users?$top=1000', token);
    expect(tooBig.status).toBe(400);
    expect(errorOf(tooBig)).toMatchObject({ code: 'Request_BadRequest' });
    expect(errorOf(tooBig).message).toContain('between 1 and 999');
    for (const top of ['0', '-1', '12.5', 'all']) {
      const res = await graphCall(t, `/users?$top=${top}`, token);
      expect(res.status).toBe(400);
      expect(errorOf(res).message).toContain(`Invalid page size specified: '${top}'`);
    }
    const largest = await graphCall(t, '/users?$select=id&$top=999', token);
    expect(largest.status).toBe(200);

    const cases = [
      "/users?$filter=userType eq 'Guest'",
      '/users?$filter=accountEnabled ne false',
      "/users?$filter=startswith(displayName,'M')",
    ];
    for (const path of cases) {
      const res = await graphCall(t, path, token);
      expect(res.status).toBe(400);
      expect(errorOf(res).code).toBe('Request_UnsupportedQuery');
    }
    expect((await graphCall(t, '/users?$select=id,shoeSize', token)).status).toBe(400);
    expect(errorOf(await graphCall(t, '/users?$skip=10', token)).code).toBe('Request_BadRequest');
    expect(errorOf(await graphCall(t, '/users?$skiptoken=forged', token)).code).toBe('Request_BadRequest');
  });

  it('neither lists nor returns soft-deleted and purged users', async () => {
    t.emulator.store.deleteUser(megan.id);
    t.emulator.store.purgeUser(adele.id);
    const listed = json<GraphPage<UserItem>>(await graphCall(t, '/users?$select=id', token));
    expect(listed.value.map((u) => u.id)).toEqual([disabled.id, guest.id]);
    for (const id of [megan.id, adele.id]) {
      const res = await graphCall(t, `/users/${id}?$select=id,accountEnabled`, token);
      expect(res.status).toBe(404);
      expect(errorOf(res).code).toBe('Request_ResourceNotFound');
    }
    t.emulator.store.restoreUser(megan.id);
    expect((await graphCall(t, `/users/${megan.id}`, token)).status).toBe(200);
  });

  it('pages 2,500 generated users through absolute nextLinks, filter included', async () => {
    const generated = t.emulator.store.generateUsers(contoso, 2500, { disabledEvery: 10 });
    const all = await graphPages<UserItem>(t, '/users?$select=id,accountEnabled&$top=999', token);
    expect(all.pages.map((p) => p.length)).toEqual([999, 999, 506]);
    for (const link of all.links) {
      const url = new URL(link);
      expect(`${url.origin}${url.pathname}`).toBe(`${t.emulator.graphBaseUrl}/v1.0/users`);
      expect(url.searchParams.get('$select')).toBe('id,accountEnabled');
      expect(url.searchParams.get('$top')).toBe('999');
    }
    expect(all.pages.flat().map((u) => u.id)).toEqual([...fixtureContosoIds, ...generated]);

    const off = await graphPages<UserItem>(
      t,
      '/users?$select=id,accountEnabled&$filter=accountEnabled eq false',
      token,
    );
    expect(off.pages.map((p) => p.length)).toEqual([100, 100, 51]);
    expect(off.pages.flat().every((u) => u.accountEnabled === false)).toBe(true);
    expect(new URL(off.links[0]).searchParams.get('$filter')).toBe('accountEnabled eq false');
  });

  it('needs User.Read.All or Directory.Read.All', async () => {
    const groupsOnly = await appGraphToken(t, contoso, ['Group.Read.All']);
    const denied = await graphCall(t, '/users', groupsOnly);
    expect(denied.status).toBe(403);
    expect(errorOf(denied).code).toBe('Authorization_RequestDenied');
    const directory = await appGraphToken(t, contoso, ['Directory.Read.All']);
    expect((await graphCall(t, '/users', directory)).status).toBe(200);
  });
});

describe('GET /users/{id}', () => {
  it('returns a user of the token tenant by id or UPN, with $select', async () => {
    const byId = await graphCall(t, `/users/${megan.id}?$select=id,accountEnabled,userType`, token);
    expect(json(byId)).toEqual({
      '@odata.context': expect.stringContaining('/v1.0/$metadata#users/$entity'),
      id: megan.id,
      accountEnabled: true,
      userType: 'Member',
    });
    const byUpn = await graphCall(t, `/users/${encodeURIComponent('MEGAN@contoso.com')}?$select=id`, token);
    expect(json(byUpn)).toMatchObject({ id: megan.id });

    const foreign = await graphCall(t, `/users/${diego.id}`, token);
    expect(foreign.status).toBe(404);
    expect((await graphCall(t, `/users/${crypto.randomUUID()}`, token)).status).toBe(404);
  });
});
