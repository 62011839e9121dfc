import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedOrganization, type TestOwner } from '../support/factory.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

/**
 * The emulator's provisioning simulator (the Entra provisioning service's side) against the real SCIM endpoint:
 * Test Connection, the initial cycle of the demo app's assignments, and incremental cycles, as an admin who
 * pastes the Tenant URL and token into the admin center would see them land in the product.
 */
const contoso = DEMO.tenants.contoso.id;
const app = DEMO.client.clientId;
const u = DEMO.users;

interface ProductUser {
  id: string;
  email: string;
  status: string;
  role: string;
}

describe('the provisioning simulator against /scim/v2', () => {
  let ctx: TestContext;
  let owner: TestOwner;
  let token: string;
  let tenantUrl: string;
  let server: Server;

  const api = () => ctx.http();
  const sim = () => ctx.emulator.provisioning;
  const scimGet = async (path: string) => {
    const response = await fetch(`${tenantUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  async function productUser(email: string): Promise<ProductUser | undefined> {
    const list = await api()
      .get(`/api/v1/users?limit=100&search=${encodeURIComponent(email.split('@')[0])}`)
      .set(bearer(owner.token))
      .expect(200);
    return (list.body.items as ProductUser[]).find((x) => x.email.toLowerCase() === email.toLowerCase());
  }

  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await connectedOrganization(ctx, u.adele.upn, { groupRoleMapping: true });
    await api()
      .post('/api/v1/integrations/entra/group-role-mappings')
      .set(bearer(owner.token))
      .send({ groupId: DEMO.groups.engineering.id, role: 'manager' })
      .expect(201);
    const created = await api()
      .post('/api/v1/integrations/scim/tokens')
      .set(bearer(owner.token))
      .send({ name: 'Entra provisioning' })
      .expect(201);
    token = created.body.token as string;
    // The simulator speaks HTTP to a Tenant URL, as Entra does: the app listens on a loopback port.
    server = ctx.app.getHttpServer() as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tenantUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`;
  });
  afterAll(async () => {
    sim()?.stopAll();
    server?.closeAllConnections();
    await ctx?.close();
  });

  it('passes Test Connection, and fails it with a revoked token', async () => {
    const job = sim().createJob({ tenantId: contoso, clientId: app, tenantUrl, token });
    expect(await sim().testConnection(job.id)).toMatchObject({ ok: true });
    const second = await api()
      .post('/api/v1/integrations/scim/tokens')
      .set(bearer(owner.token))
      .send({ name: 'to be revoked' })
      .expect(201);
    await api()
      .delete(`/api/v1/integrations/scim/tokens/${second.body.id as string}`)
      .set(bearer(owner.token))
      .expect(204);
    const wrong = sim().createJob({
      tenantId: contoso,
      clientId: app,
      tenantUrl,
      token: second.body.token as string,
    });
    const refused = await sim().testConnection(wrong.id);
    expect(refused).toMatchObject({ ok: false, error: expect.stringContaining('401') });
    sim().removeJob(job.id);
    sim().removeJob(wrong.id);
  });

  it('pushes the demo assignments, then disables, re-enables and deletes through incremental cycles', async () => {
    const job = sim().createJob({ tenantId: contoso, clientId: app, tenantUrl, token });
    const initial = await sim().runCycle(job.id);
    // Adele signed in already: matched by userName and adopted, never doubled.
    expect(initial).toMatchObject({
      kind: 'initial',
      usersMatched: 1,
      usersCreated: 2,
      groupsCreated: 2,
      membersAdded: 1,
      failed: 0,
    });
    const cache = sim().job(job.id).users;
    expect(cache[u.adele.id].scimId).toBe(owner.userId);

    const megan = await productUser(u.megan.upn);
    expect(megan).toMatchObject({ status: 'active', role: 'manager' }); // Engineering → manager
    expect((await productUser(u.disabled.upn))?.status).not.toBe('active');
    const listed = await scimGet(`/Groups?filter=${encodeURIComponent('displayName eq "Engineering"')}`);
    expect(listed.body.totalResults).toBe(1);

    // Nothing changed: nothing sent.
    expect(await sim().runCycle(job.id)).toMatchObject({ requests: 0 });

    ctx.emulator.store.updateUser(u.megan.id, { accountEnabled: false });
    expect(await sim().runCycle(job.id)).toMatchObject({ usersDisabled: 1, failed: 0 });
    expect((await productUser(u.megan.upn))?.status).toBe('deactivated');
    const meganScim = await scimGet(`/Users/${cache[u.megan.id].scimId}`);
    expect(meganScim).toMatchObject({ status: 200, body: { active: false } });

    ctx.emulator.store.updateUser(u.megan.id, { accountEnabled: true, displayName: 'Megan B.' });
    expect(await sim().runCycle(job.id)).toMatchObject({ usersUpdated: 1, failed: 0 });
    expect((await productUser(u.megan.upn))?.status).toBe('active');
    expect((await scimGet(`/Users/${cache[u.megan.id].scimId}`)).body).toMatchObject({
      active: true,
      displayName: 'Megan B.',
    });

    const disabledScimId = cache[u.disabled.id].scimId;
    ctx.emulator.store.purgeUser(u.disabled.id);
    expect(await sim().runCycle(job.id)).toMatchObject({ usersDeleted: 1, failed: 0 });
    expect((await scimGet(`/Users/${disabledScimId}`)).status).toBe(404);
    expect(sim().job(job.id).escrow).toEqual([]);
  });

  it('takes the compliant forms (aadOptscim062020) too: matches what is there, then disables and drops a membership', async () => {
    for (const job of ctx.emulator.store.provisioningJobs.all) sim().removeJob(job.id);
    const job = sim().createJob({
      tenantId: contoso,
      clientId: app,
      tenantUrl: `${tenantUrl}?aadOptscim062020`,
      token,
    });
    expect(await sim().testConnection(job.id)).toMatchObject({ ok: true });
    // A new job knows nothing: it finds every account and group by userName / displayName instead of doubling them.
    expect(await sim().runCycle(job.id)).toMatchObject({
      usersCreated: 0,
      groupsCreated: 0,
      groupsMatched: 2,
      failed: 0,
    });
    expect((await productUser(u.megan.upn))?.role).toBe('manager');

    ctx.emulator.store.updateUser(u.megan.id, { accountEnabled: false, givenName: null });
    ctx.emulator.store.removeMember(DEMO.groups.engineering.id, u.megan.id);
    ctx.emulator.store.assignToApp({ tenantId: contoso, clientId: app, principalId: u.megan.id });
    const report = await sim().runCycle(job.id);
    expect(report).toMatchObject({ membersRemoved: 1, failed: 0 });
    const sent = sim()
      .job(job.id)
      .log.filter((e) => e.cycle === report.number && e.method === 'PATCH');
    expect(sent.map((e) => e.requestBody)).toEqual([
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [
          { op: 'replace', path: 'active', value: false },
          { op: 'replace', value: { 'name.givenName': null } },
        ],
      },
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [
          { op: 'remove', path: `members[value eq "${sim().job(job.id).users[u.megan.id].scimId}"]` },
        ],
      },
    ]);
    const megan = await productUser(u.megan.upn);
    expect(megan).toMatchObject({ status: 'deactivated', role: 'employee' }); // Engineering no longer maps her
    const resource = await scimGet(`/Users/${megan!.id}`);
    expect(resource.body).toMatchObject({ active: false });
    expect((resource.body.name as Record<string, unknown> | undefined)?.givenName).toBeUndefined();
  });
});
