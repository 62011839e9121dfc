import { TransactionHost } from '@nestjs-cls/transactional';
import { ROLE } from '@entra-integration/entra-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/common/principal.js';
import { EVENT_DATA_SCHEMA } from '../../src/events/dto/event.dto.js';
import type { EventType } from '../../src/events/event-types.js';
import { ScimAccessService } from '../../src/scim/access/scim-access.service.js';
import { directoryUser, ownerOf, type TestOwner } from '../support/factory.js';
import { committedDocument, schemaViolations } from '../support/schema-check.js';
import { bearer } from '../support/sign-in.js';
import { assignmentStatus, verifyTenantAssignment } from '../support/tenant-assignment.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

interface Envelope {
  id: string;
  type: EventType;
  timestamp: string;
  data: Record<string, unknown>;
}

describe('tenant_assignment.* and scim.* events carry the REST view of the change', () => {
  let ctx: TestContext;
  let owner: TestOwner;
  let tenant: { id: string; root: string; eu: string; admin: string };

  const feed = async () =>
    (await ctx.http().get('/api/v1/events?limit=500').set(bearer(owner.token)).expect(200)).body
      .items as Envelope[];
  const ofType = async (type: EventType) => (await feed()).filter((e) => e.type === type);
  const only = async (type: EventType) => {
    const events = await ofType(type);
    expect(events, type).toHaveLength(1);
    return events[0];
  };
  const scimApi = () => ({
    post: (path: string, body: object) =>
      ctx.http().post(`/api/v1/integrations/scim${path}`).set(bearer(owner.token)).send(body),
    patch: (path: string, body: object) =>
      ctx.http().patch(`/api/v1/integrations/scim${path}`).set(bearer(owner.token)).send(body),
    delete: (path: string) => ctx.http().delete(`/api/v1/integrations/scim${path}`).set(bearer(owner.token)),
  });

  beforeAll(async () => {
    ctx = await createTestContext();
    const root = 'events-assign.test';
    const created = ctx.emulator.store.addTenant({
      displayName: 'Events Assign',
      verifiedDomains: [root, `eu.${root}`, 'eventsassign.onmicrosoft.com'],
    });
    const admin = `ada@${root}`;
    directoryUser(
      ctx,
      admin,
      { directoryRoles: [ROLE.globalAdministrator], displayName: 'Ada Admin' },
      created.id,
    );
    tenant = { id: created.id, root, eu: `eu.${root}`, admin };
    owner = await ownerOf(ctx, admin, { plan: 'enterprise', seatLimit: 100 });
  });
  afterAll(() => ctx?.close());

  it('tenant_assignment.verified: the assignment as GET shows it after the fresh sign-in, source assignment', async () => {
    const outcome = await verifyTenantAssignment(ctx, owner.token, tenant.admin, [tenant.root, tenant.eu]);
    expect(outcome.status).toBe('enabled');
    const event = await only('tenant_assignment.verified');
    expect(event.data).toEqual({
      assignment: await assignmentStatus(ctx, owner.token),
      removedDomains: [],
      source: 'assignment',
    });
    expect(event.data.assignment).toMatchObject({
      status: 'enabled',
      tenantId: tenant.id,
      domains: [tenant.root, tenant.eu],
      verifiedBy: { userPrincipalName: tenant.admin },
    });
  });

  it('tenant_assignment.updated: the PATCH answer and the removed domains; a refused PATCH records nothing', async () => {
    const refused = await ctx
      .http()
      .patch('/api/v1/tenant-assignment')
      .set(bearer(owner.token))
      .send({ domains: [tenant.root, 'other.events-assign.test'] })
      .expect(400);
    expect(refused.body.code).toBe('DOMAINS_REQUIRE_VERIFICATION');
    expect(await ofType('tenant_assignment.updated')).toEqual([]);

    const updated = await ctx
      .http()
      .patch('/api/v1/tenant-assignment')
      .set(bearer(owner.token))
      .send({ domains: [tenant.root], autoActivate: true })
      .expect(200);
    const event = await only('tenant_assignment.updated');
    expect(event.data).toEqual({ assignment: updated.body, removedDomains: [tenant.eu], source: 'manual' });
  });

  it('tenant_assignment.disabled: the assignment as GET shows it afterwards, once (DELETE is idempotent)', async () => {
    await ctx.http().delete('/api/v1/tenant-assignment').set(bearer(owner.token)).expect(204);
    await ctx.http().delete('/api/v1/tenant-assignment').set(bearer(owner.token)).expect(204);
    const event = await only('tenant_assignment.disabled');
    expect(event.data).toEqual({
      assignment: await assignmentStatus(ctx, owner.token),
      removedDomains: [tenant.root],
      source: 'manual',
    });
    expect(event.data.assignment).toMatchObject({ status: 'disabled', domains: [], verifiedBy: null });
  });

  it('scim.token_created and scim.token_revoked: the token as the REST API lists it, never the secret', async () => {
    const created = (await scimApi().post('/tokens', { name: 'Entra (events)' }).expect(201)).body;
    const { token: secret, tenantUrl: _tenantUrl, ...listed } = created as Record<string, unknown>;
    const status = await ctx.http().get('/api/v1/integrations/scim').set(bearer(owner.token)).expect(200);
    const { expiresSoon: _soon, ...listItem } = (status.body.tokens as Record<string, unknown>[]).find(
      (t) => t.id === created.id,
    )!;
    expect((await only('scim.token_created')).data).toEqual({ token: listItem, source: 'manual' });
    expect(listItem).toEqual(listed);

    await scimApi().delete(`/tokens/${created.id}`).expect(204);
    await scimApi().delete(`/tokens/${created.id}`).expect(404);
    expect((await only('scim.token_revoked')).data).toEqual({ token: listItem, source: 'manual' });
    expect(JSON.stringify(await feed())).not.toContain(secret as string);
  });

  it('scim.disabled and scim.enabled: the settings PATCH answer, only when the switch changes', async () => {
    const off = await scimApi().patch('/settings', { enabled: false }).expect(200);
    await scimApi().patch('/settings', { enabled: false }).expect(200);
    const on = await scimApi().patch('/settings', { enabled: true }).expect(200);
    expect((await only('scim.disabled')).data).toEqual({ settings: off.body, source: 'manual' });
    expect((await only('scim.enabled')).data).toEqual({ settings: on.body, source: 'manual' });
  });

  it('a switch that rolled back records no event', async () => {
    const before = (await feed()).length;
    const principal: Principal = {
      kind: 'session',
      sessionId: null,
      userId: owner.userId,
      apiKeyId: null,
      scopes: null,
      organizationId: owner.organizationId,
      role: 'owner',
      plan: 'enterprise',
      actor: { type: 'user', id: owner.userId },
    };
    await expect(
      ctx.app.get(TransactionHost).withTransaction(async () => {
        await ctx.app.get(ScimAccessService).setEnabled(principal, false);
        throw new Error('something after the change failed');
      }),
    ).rejects.toThrow('something after the change failed');
    expect(await ctx.app.get(ScimAccessService).isEnabled(owner.organizationId)).toBe(true);
    expect(await feed()).toHaveLength(before);
  });

  it('every event of the feed matches the documented, versioned schema of its type', async () => {
    const document = committedDocument();
    const events = await feed();
    expect([...new Set(events.map((e) => e.type))]).toEqual(
      expect.arrayContaining([
        'tenant_assignment.verified',
        'tenant_assignment.updated',
        'tenant_assignment.disabled',
        'scim.token_created',
        'scim.token_revoked',
        'scim.enabled',
        'scim.disabled',
      ]),
    );
    for (const event of events) {
      expect(schemaViolations(document, 'EventDto', event), event.type).toEqual([]);
      expect(schemaViolations(document, EVENT_DATA_SCHEMA[event.type], event.data), event.type).toEqual([]);
    }
  });
});
