import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROLE } from './constants.js';
import { DEMO } from './fixture.js';
import { directoryRoleId } from './graph-groups.js';
import {
  appGraphToken,
  graphCall,
  graphPages,
  json,
  startTestEmulator,
  userGraphToken,
  type GraphPage,
  type HttpResult,
  type TestEmulator,
} from './test-support.js';

interface GraphErrorBody {
  error: { code: string; message: string; innerError: Record<string, string> };
}
type Item = { id: string; displayName?: string; '@odata.type'?: string };

const contoso = DEMO.tenants.contoso.id;
const fabrikam = DEMO.tenants.fabrikam.id;
const megan = DEMO.users.megan;

let t: TestEmulator;
beforeAll(async () => {
  t = await startTestEmulator();
});
afterEach(() => t.emulator.store.reset());
afterAll(() => t.emulator.close());

const groupReader = () => appGraphToken(t, contoso, ['GroupMember.Read.All']);
const errorCode = (res: HttpResult) => json<GraphErrorBody>(res).error.code;

describe('GET /groups', () => {
  function addGroups(names: string[], tenantId: string = contoso) {
    return names.map((displayName) => t.emulator.store.addGroup({ tenantId, displayName }));
  }

  it('filters with a case-insensitive startswith and orders by displayName, then id', async () => {
    addGroups(['eng-platform', 'ENG Ops', 'Marketing', 'Engineers', 'Sales Eng']);
    const twins = addGroups(['Eng Twins', 'eng twins']);
    addGroups(['Engineering Fabrikam'], fabrikam);

    const res = await graphCall(
      t,
      "/groups?$select=id,displayName&$filter=startswith(displayName,'eNg')",
      await groupReader(),
    );
    expect(res.status).toBe(200);
    const body = json<GraphPage<Item>>(res);
    // Ordinal order of the lower-cased names (space < hyphen < letters); equal names by id.
    expect(body.value.map((g) => g.displayName)).toEqual([
      'ENG Ops',
      ...[...twins].sort((a, b) => (a.id < b.id ? -1 : 1)).map((g) => g.displayName),
      'eng-platform',
      'Engineering',
      'Engineers',
    ]);
    expect(Object.keys(body.value[0]).sort()).toEqual(['displayName', 'id']);
    expect(body['@odata.nextLink']).toBeUndefined();
  });

  it('pages with absolute nextLinks that keep the filter, and defaults to 100 per page', async () => {
    addGroups(Array.from({ length: 130 }, (_, i) => `Team ${String(i).padStart(3, '0')}`));
    const token = await groupReader();
    const { pages, links } = await graphPages<Item>(
      t,
      "/groups?$select=id,displayName&$filter=startswith(displayName,'team')&$top=50",
      token,
    );
    expect(pages.map((p) => p.length)).toEqual([50, 50, 30]);
    for (const link of links) {
      expect(link.startsWith(`${t.emulator.graphBaseUrl}/v1.0/groups?`)).toBe(true);
      expect(new URL(link).searchParams.get('$filter')).toBe("startswith(displayName,'team')");
      expect(new URL(link).searchParams.get('$skiptoken')).toBeTruthy();
    }
    const names = pages.flat().map((g) => g.displayName);
    expect(names).toEqual(Array.from({ length: 130 }, (_, i) => `Team ${String(i).padStart(3, '0')}`));

    const all = await graphPages<Item>(t, '/groups?$select=id', token);
    expect(all.pages.map((p) => p.length)).toEqual([100, 32]);
  });

  it('rejects $top above 999 and filters it does not support', async () => {
    const token = await groupReader();
    const tooBig = await graphCall(t, '/groups?$top=1000', token);
    expect(tooBig.status).toBe(400);
    expect(errorCode(tooBig)).toBe('Request_BadRequest');
    expect((await graphCall(t, '/groups?$top=999', token)).status).toBe(200);

    const unsupported = await graphCall(t, "/groups?$filter=displayName eq 'Engineering'", token);
    expect(unsupported.status).toBe(400);
    expect(errorCode(unsupported)).toBe('Request_UnsupportedQuery');
  });

  it('needs a group permission, delegated or app-only', async () => {
    const usersOnly = await graphCall(t, '/groups', await appGraphToken(t, contoso, ['User.Read.All']));
    expect(usersOnly.status).toBe(403);
    expect(errorCode(usersOnly)).toBe('Authorization_RequestDenied');

    const delegated = await userGraphToken(t, megan.upn, ['User.Read']);
    expect((await graphCall(t, '/groups', delegated)).status).toBe(403);
    const withScope = await userGraphToken(t, megan.upn, ['Group.Read.All']);
    expect((await graphCall(t, '/groups', withScope)).status).toBe(200);
  });
});

describe('GET /groups/{id}', () => {
  it('returns the group with $select, 404 for unknown or foreign ids and 400 for a non-GUID', async () => {
    const token = await groupReader();
    const { engineering } = DEMO.groups;
    const res = await graphCall(t, `/groups/${engineering.id.toUpperCase()}?$select=displayName`, token);
    expect(res.status).toBe(200);
    expect(json(res)).toEqual({ '@odata.context': expect.any(String), displayName: engineering.displayName });
    expect(json(await graphCall(t, `/groups/${engineering.id}`, token))).toMatchObject({
      id: engineering.id,
      securityEnabled: true,
      mailEnabled: false,
    });

    const foreign = t.emulator.store.addGroup({ tenantId: fabrikam, displayName: 'Fabrikam only' });
    for (const id of [foreign.id, crypto.randomUUID()]) {
      const missing = await graphCall(t, `/groups/${id}`, token);
      expect(missing.status).toBe(404);
      expect(errorCode(missing)).toBe('Request_ResourceNotFound');
    }
    const invalid = await graphCall(t, '/groups/not-a-guid', token);
    expect(invalid.status).toBe(400);
    expect(errorCode(invalid)).toBe('Request_BadRequest');
  });
});

describe('membership', () => {
  /** megan → Engineering → Platform → All Staff, plus a direct distribution list. */
  function nestedGroups() {
    const store = t.emulator.store;
    const platform = store.addGroup({ tenantId: contoso, displayName: 'Platform' });
    const allStaff = store.addGroup({ tenantId: contoso, displayName: 'All Staff' });
    const newsletter = store.addGroup({
      tenantId: contoso,
      displayName: 'Newsletter',
      securityEnabled: false,
    });
    store.addMember(platform.id, DEMO.groups.engineering.id);
    store.addMember(allStaff.id, platform.id);
    store.addMember(platform.id, allStaff.id); // a cycle must not loop forever
    store.addMember(newsletter.id, megan.id);
    store.updateUser(megan.id, { directoryRoles: [ROLE.globalReader] });
    return { platform, allStaff, newsletter };
  }

  it('getMemberObjects is transitive, includes directory roles and honours securityEnabledOnly', async () => {
    const { platform, allStaff, newsletter } = nestedGroups();
    const token = await groupReader();
    const roleId = directoryRoleId(contoso, ROLE.globalReader);

    const all = await graphCall(t, `/users/${megan.id}/getMemberObjects`, token, {
      body: { securityEnabledOnly: false },
    });
    expect(all.status).toBe(200);
    expect(new Set(json<{ value: string[] }>(all).value)).toEqual(
      new Set([DEMO.groups.engineering.id, platform.id, allStaff.id, newsletter.id, roleId]),
    );

    const security = await graphCall(t, `/users/${megan.id}/getMemberObjects`, token, {
      body: { securityEnabledOnly: true },
    });
    expect(json<{ value: string[] }>(security).value).not.toContain(newsletter.id);
    expect(json<{ value: string[] }>(security).value).toContain(roleId);

    // The role object id is stable and is what transitiveMemberOf reports as a directoryRole.
    const memberOf = json<GraphPage<Item>>(
      await graphCall(t, `/users/${megan.id}/transitiveMemberOf?$select=id`, token),
    );
    expect(memberOf.value).toContainEqual({ '@odata.type': '#microsoft.graph.directoryRole', id: roleId });
    expect(memberOf.value).toContainEqual({ '@odata.type': '#microsoft.graph.group', id: platform.id });
  });

  it('answers 404 for unknown, deleted and foreign users, 400 without securityEnabledOnly', async () => {
    const token = await groupReader();
    t.emulator.store.deleteUser(DEMO.users.adele.id);
    for (const id of [crypto.randomUUID(), DEMO.users.adele.id, DEMO.users.diego.id]) {
      const res = await graphCall(t, `/users/${id}/getMemberObjects`, token, {
        body: { securityEnabledOnly: false },
      });
      expect(res.status).toBe(404);
      expect(errorCode(res)).toBe('Request_ResourceNotFound');
      expect((await graphCall(t, `/users/${id}/transitiveMemberOf`, token)).status).toBe(404);
    }
    const noBody = await graphCall(t, `/users/${megan.id}/getMemberObjects`, token, { body: {} });
    expect(noBody.status).toBe(400);
  });

  it('lets a signed-in user read their own membership with User.Read, but nobody else’s', async () => {
    nestedGroups();
    const token = await userGraphToken(t, megan.upn, ['User.Read']);
    const own = await graphCall(t, '/me/getMemberObjects', token, { body: { securityEnabledOnly: true } });
    expect(own.status).toBe(200);
    expect(json<{ value: string[] }>(own).value).toContain(DEMO.groups.engineering.id);
    const other = await graphCall(t, `/users/${DEMO.users.adele.id}/transitiveMemberOf`, token);
    expect(other.status).toBe(403);
  });

  it('pages transitiveMemberOf for a user in more than 1,000 groups', async () => {
    const store = t.emulator.store;
    const parent = store.addGroup({ tenantId: contoso, displayName: 'Parent of all' });
    const direct = Array.from({ length: 1200 }, (_, i) => {
      const group = store.addGroup({ tenantId: contoso, displayName: `Project ${i}` });
      store.addMember(group.id, megan.id);
      store.addMember(parent.id, group.id);
      return group.id;
    });
    const token = await groupReader();

    const started = performance.now();
    const { pages, links } = await graphPages<Item>(
      t,
      `/users/${megan.id}/transitiveMemberOf/microsoft.graph.group?$select=id&$top=500`,
      token,
    );
    expect(performance.now() - started).toBeLessThan(2000);
    // 1,200 direct groups, Engineering and the shared parent.
    expect(pages.map((p) => p.length)).toEqual([500, 500, 202]);
    expect(links[0]).toContain(`/v1.0/users/${megan.id}/transitiveMemberOf/microsoft.graph.group?$select=id`);
    const ids = pages.flat().map((g) => g.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set([...direct, parent.id, DEMO.groups.engineering.id]));
    expect(pages.flat().every((g) => g['@odata.type'] === '#microsoft.graph.group')).toBe(true);

    const objects = await graphCall(t, `/users/${megan.id}/getMemberObjects`, token, {
      body: { securityEnabledOnly: false },
    });
    expect(json<{ value: string[] }>(objects).value).toHaveLength(1202);
  });
});
