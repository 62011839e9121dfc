import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { DEMO } from '@entra-integration/entra-emulator';
import { connectedOrganization } from '../support/factory.js';
import { bearer, signIn } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const contoso = DEMO.tenants.contoso;
const { engineering, itAdmins } = DEMO.groups;

describe('Entra group → role mapping', () => {
  let ctx: TestContext;
  let owner: { token: string; organizationId: string; userId: string };
  const api = () => ctx.http();
  const mappings = '/api/v1/integrations/entra/group-role-mappings';

  async function roleAfterSignIn(upn: string) {
    const result = await signIn(ctx, upn);
    expect(result.error).toBeNull();
    return (await api().get('/api/v1/me').set(bearer(result.token)).expect(200)).body;
  }

  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await connectedOrganization(
      ctx,
      DEMO.users.adele.upn,
      { autoProvisionUsers: true, groupRoleMapping: true },
      500,
    );
  });
  afterAll(() => ctx?.close());

  it('lists the tenant’s groups from Graph by name prefix, paged', async () => {
    for (let i = 0; i < 60; i++)
      ctx.emulator.store.addGroup({
        tenantId: contoso.id,
        displayName: `Project ${String(i).padStart(2, '0')}`,
      });
    const eng = await api()
      .get('/api/v1/integrations/entra/groups?search=eng')
      .set(bearer(owner.token))
      .expect(200);
    expect(eng.body.items).toEqual([{ id: engineering.id, displayName: 'Engineering' }]);

    const first = await api()
      .get('/api/v1/integrations/entra/groups?search=Project')
      .set(bearer(owner.token))
      .expect(200);
    expect(first.body.items).toHaveLength(50);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await api()
      .get(`/api/v1/integrations/entra/groups?search=Project&cursor=${first.body.nextCursor}`)
      .set(bearer(owner.token))
      .expect(200);
    expect(second.body.items).toHaveLength(10);
    expect(second.body.nextCursor).toBeNull();
    const forged = Buffer.from('https://evil.example/v1.0/groups?x').toString('base64url');
    const refused = await api()
      .get(`/api/v1/integrations/entra/groups?cursor=${forged}`)
      .set(bearer(owner.token))
      .expect(400);
    expect(refused.body.code).toBe('INVALID_CURSOR');
  });

  it('validates mappings: the group must exist in the tenant, never owner, one per group', async () => {
    const unknown = await api()
      .post(mappings)
      .set(bearer(owner.token))
      .send({ groupId: '00000000-0000-4000-8000-000000000000', role: 'admin' })
      .expect(422);
    expect(unknown.body.code).toBe('UNKNOWN_GROUP');
    const ownerRole = await api()
      .post(mappings)
      .set(bearer(owner.token))
      .send({ groupId: itAdmins.id, role: 'owner' })
      .expect(400);
    expect(ownerRole.body.errors[0].field).toBe('role');

    const created = await api()
      .post(mappings)
      .set(bearer(owner.token))
      .send({ groupId: itAdmins.id, role: 'admin' })
      .expect(201);
    expect(created.body).toMatchObject({
      groupId: itAdmins.id,
      groupDisplayName: 'IT Admins',
      role: 'admin',
    });
    const duplicate = await api()
      .post(mappings)
      .set(bearer(owner.token))
      .send({ groupId: itAdmins.id, role: 'manager' })
      .expect(409);
    expect(duplicate.body.code).toBe('MAPPING_EXISTS');
    await api()
      .post(mappings)
      .set(bearer(owner.token))
      .send({ groupId: engineering.id, role: 'manager' })
      .expect(201);

    const list = await api().get(mappings).set(bearer(owner.token)).expect(200);
    expect(
      list.body.items.map((m: { groupDisplayName: string; role: string }) => [m.groupDisplayName, m.role]),
    ).toEqual([
      ['Engineering', 'manager'],
      ['IT Admins', 'admin'],
    ]);
    const audit = await api()
      .get('/api/v1/audit-events?action=role_mapping.created')
      .set(bearer(owner.token))
      .expect(200);
    expect(audit.body.items).toHaveLength(2);
  });

  it('gives a provisioned user the mapped role, and shows which group decided it', async () => {
    const profile = await roleAfterSignIn(DEMO.users.megan.upn); // member of Engineering
    expect(profile).toMatchObject({
      role: 'manager',
      roleSource: 'group_mapping',
      roleSourceGroup: { id: engineering.id, displayName: 'Engineering' },
    });
  });

  it('lets the most privileged matching group win', async () => {
    ctx.emulator.store.addMember(itAdmins.id, DEMO.users.megan.id);
    expect(await roleAfterSignIn(DEMO.users.megan.upn)).toMatchObject({
      role: 'admin',
      roleSourceGroup: { displayName: 'IT Admins' },
    });
    const audit = await api()
      .get('/api/v1/audit-events?action=user.role_changed_by_group_mapping')
      .set(bearer(owner.token))
      .expect(200);
    expect(audit.body.items[0]).toMatchObject({
      actor: { type: 'system' },
      before: { role: 'manager' },
      after: { role: 'admin', group: { id: itAdmins.id, displayName: 'IT Admins' } },
    });
  });

  it('demotes to Employee a user who left every mapped group', async () => {
    ctx.emulator.store.removeMember(itAdmins.id, DEMO.users.megan.id);
    ctx.emulator.store.removeMember(engineering.id, DEMO.users.megan.id);
    expect(await roleAfterSignIn(DEMO.users.megan.upn)).toMatchObject({
      role: 'employee',
      roleSource: 'default',
      roleSourceGroup: null,
    });
  });

  it('keeps a role set by hand when no group matches, and never changes an Owner', async () => {
    const megan = await roleAfterSignIn(DEMO.users.megan.upn);
    await api()
      .patch(`/api/v1/users/${megan.id}`)
      .set(bearer(owner.token))
      .send({ role: 'manager' })
      .expect(200);
    expect(await roleAfterSignIn(DEMO.users.megan.upn)).toMatchObject({
      role: 'manager',
      roleSource: 'manual',
    });

    ctx.emulator.store.addMember(engineering.id, DEMO.users.adele.id);
    expect(await roleAfterSignIn(DEMO.users.adele.upn)).toMatchObject({ role: 'owner' });
  });

  it('reads membership from Graph when the token signals a groups overage (more than 200 groups)', async () => {
    const busy = ctx.emulator.store.addUser({
      tenantId: contoso.id,
      userPrincipalName: 'busy@contoso.com',
      displayName: 'Busy',
    });
    for (let i = 0; i < 205; i++) {
      const group = ctx.emulator.store.addGroup({ tenantId: contoso.id, displayName: `Distribution ${i}` });
      ctx.emulator.store.addMember(group.id, busy.id);
    }
    // Nested: a member of a group inside IT Admins is a transitive member.
    const nested = ctx.emulator.store.addGroup({ tenantId: contoso.id, displayName: 'Helpdesk' });
    ctx.emulator.store.addMember(itAdmins.id, nested.id);
    ctx.emulator.store.addMember(nested.id, busy.id);
    expect(await roleAfterSignIn('busy@contoso.com')).toMatchObject({
      role: 'admin',
      roleSourceGroup: { id: itAdmins.id },
    });
  });

  it('keeps the current role when Graph cannot be read at sign-in, inferring nothing', async () => {
    ctx.emulator.store.addFault({ path: /getMemberObjects$/, kind: 'status', status: 500, times: Infinity });
    try {
      expect(await roleAfterSignIn('busy@contoso.com')).toMatchObject({ role: 'admin' });
    } finally {
      ctx.emulator.store.clearFaults();
    }
  });

  it('changes nobody’s role at sign-in while group mapping is off', async () => {
    await api()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(owner.token))
      .send({ groupRoleMapping: false })
      .expect(200);
    ctx.emulator.store.addMember(itAdmins.id, DEMO.users.megan.id);
    expect(await roleAfterSignIn(DEMO.users.megan.upn)).toMatchObject({
      role: 'manager',
      roleSource: 'manual',
    });
    await api()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(owner.token))
      .send({ groupRoleMapping: true })
      .expect(200);
  });

  it('updates and deletes mappings; another organization cannot see them', async () => {
    const list = await api().get(mappings).set(bearer(owner.token)).expect(200);
    const eng = list.body.items.find((m: { groupId: string }) => m.groupId === engineering.id);
    const updated = await api()
      .put(`${mappings}/${eng.id}`)
      .set(bearer(owner.token))
      .send({ groupId: engineering.id, role: 'employee' })
      .expect(200);
    expect(updated.body.role).toBe('employee');
    const clash = await api()
      .put(`${mappings}/${eng.id}`)
      .set(bearer(owner.token))
      .send({ groupId: itAdmins.id, role: 'admin' })
      .expect(409);
    expect(clash.body.code).toBe('MAPPING_EXISTS');

    const other = await signIn(ctx, DEMO.users.diego.upn);
    const otherMe = await api().get('/api/v1/me').set(bearer(other.token)).expect(200);
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(otherMe.body.organizationId, { plan: 'enterprise' }, SYSTEM_ACTOR);
    expect((await api().get(mappings).set(bearer(other.token)).expect(409)).body.code).toBe(
      'ENTRA_NOT_CONNECTED',
    );
    expect((await api().delete(`${mappings}/${eng.id}`).set(bearer(other.token)).expect(404)).body.code).toBe(
      'GROUP_ROLE_MAPPING_NOT_FOUND',
    );

    await api().delete(`${mappings}/${eng.id}`).set(bearer(owner.token)).expect(204);
    await api().delete(`${mappings}/${eng.id}`).set(bearer(owner.token)).expect(404);
  });
});
