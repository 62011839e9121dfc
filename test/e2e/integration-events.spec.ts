import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '@entra-integration/entra-emulator';
import { EVENT_DATA_SCHEMA } from '../../src/events/dto/event.dto.js';
import type { EventType } from '../../src/events/event-types.js';
import { connectedOrganization, linkedUser, type TestOwner } from '../support/factory.js';
import { committedDocument, schemaViolations } from '../support/schema-check.js';
import { bearer } from '../support/sign-in.js';
import { syncNow, waitForRun } from '../support/sync.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

interface Envelope {
  id: string;
  type: EventType;
  data: Record<string, unknown> & { integration?: Record<string, unknown> };
}

describe('integration events carry the integration as the REST API shows it', () => {
  let ctx: TestContext;
  let org: TestOwner;

  const feed = async () =>
    (await ctx.http().get('/api/v1/events?limit=500').set(bearer(org.token)).expect(200)).body
      .items as Envelope[];
  const integration = async () =>
    (await ctx.http().get('/api/v1/integrations/entra').set(bearer(org.token)).expect(200)).body as Record<
      string,
      unknown
    >;
  const only = async (type: EventType) => {
    const events = (await feed()).filter((e) => e.type === type);
    expect(events).toHaveLength(1);
    return events[0];
  };

  beforeAll(async () => {
    ctx = await createTestContext({ SYNC_POLL_INTERVAL_MS: '100' });
    org = await connectedOrganization(ctx, DEMO.users.adele.upn);
  });
  afterAll(() => ctx?.close());

  it('integration.connected: data.integration is GET /integrations/entra right after connecting', async () => {
    const connected = await only('integration.connected');
    expect(connected.data).toEqual({
      integration: await integration(),
      tenantId: DEMO.tenants.contoso.id,
      status: 'connected',
      source: 'manual',
    });
    expect(connected.data.integration).toMatchObject({
      status: 'connected',
      tenantName: DEMO.tenants.contoso.displayName,
      connectedBy: { id: org.userId },
    });
  });

  it('integration.reauthorization_required: the integration as it stood when Microsoft refused the grant, from the sync', async () => {
    await ctx
      .http()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(org.token))
      .send({ autoDeprovisionSync: true })
      .expect(200);
    await linkedUser(ctx, org, 'kim.events@contoso.com');
    await syncNow(ctx, org.token);
    ctx.emulator.store.revokeRefreshTokens({ tenantId: DEMO.tenants.contoso.id });
    await ctx.sql.query(
      "UPDATE entra_connections SET access_token_expires_at = now() - interval '1 minute' WHERE organization_id = $1",
      [org.organizationId],
    );
    const started = await ctx
      .http()
      .post('/api/v1/integrations/entra/sync')
      .set(bearer(org.token))
      .expect(202);
    await waitForRun(ctx, org.token, started.body.id);
    const event = await only('integration.reauthorization_required');
    const now = await integration();
    // Everything but the run summary, which moved on when the run that hit the refusal ended.
    const { lastSync, ...rest } = now;
    expect(event.data).toMatchObject({
      integration: {
        ...rest,
        status: 'reauthorization_required',
        inactiveReason: 'reauthorization_required',
      },
      tenantId: DEMO.tenants.contoso.id,
      status: 'reauthorization_required',
      source: 'sync',
    });
    expect(event.data.integration?.lastSync).toMatchObject({
      runId: (lastSync as { runId: string }).runId,
      status: 'running',
    });
  });

  it('integration.disconnected: the integration as GET shows it afterwards, and the tenant it was', async () => {
    await ctx.http().delete('/api/v1/integrations/entra').set(bearer(org.token)).expect(204);
    const event = await only('integration.disconnected');
    expect(event.data).toEqual({
      integration: await integration(),
      tenantId: DEMO.tenants.contoso.id,
      status: 'disconnected',
      source: 'manual',
    });
    expect(event.data.integration).toMatchObject({ status: 'not_connected', tenantId: null });
  });

  it('every event of the feed matches the documented, versioned schema of its type', async () => {
    const document = committedDocument();
    const events = await feed();
    expect([...new Set(events.map((e) => e.type))]).toEqual(
      expect.arrayContaining([
        'user.created',
        'integration.connected',
        'integration.reauthorization_required',
        'integration.disconnected',
        'sync.succeeded',
        'sync.failed',
      ]),
    );
    for (const event of events) {
      expect(schemaViolations(document, 'EventDto', event), event.type).toEqual([]);
      expect(schemaViolations(document, EVENT_DATA_SCHEMA[event.type], event.data), event.type).toEqual([]);
    }
  });
});
