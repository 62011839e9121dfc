import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '@entra-integration/entra-emulator';
import { connectedOrganization, linkedUser, type TestOwner } from '../support/factory.js';
import { bearer, connectTenant } from '../support/sign-in.js';
import { syncNow } from '../support/sync.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

describe('a disconnect forgets the sync state; a reconnect starts with a full round', () => {
  let ctx: TestContext;
  let org: TestOwner;

  beforeAll(async () => {
    ctx = await createTestContext({ SYNC_POLL_INTERVAL_MS: '100' });
    org = await connectedOrganization(ctx, DEMO.users.adele.upn, { autoDeprovisionSync: true });
  });
  afterAll(() => ctx?.close());

  const syncStates = async () =>
    (
      await ctx.sql.query('SELECT delta_link FROM directory_sync_states WHERE organization_id = $1', [
        org.organizationId,
      ])
    ).rows as { delta_link: string | null }[];

  it('keeps syncing incrementally while connected, and after a disconnect and a reconnect reads the directory in full', async () => {
    const alice = await linkedUser(ctx, org, 'alice.reconnect@contoso.com');
    expect(await syncNow(ctx, org.token)).toMatchObject({ status: 'succeeded', mode: 'full' });
    expect(await syncNow(ctx, org.token)).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    expect(await syncStates()).toEqual([{ delta_link: expect.stringContaining('/users/delta') }]);

    await ctx.http().delete('/api/v1/integrations/entra').set(bearer(org.token)).expect(204);
    expect(await syncStates()).toEqual([]);
    // Sync needs a connection: refused in the API's terms, and no state comes back from it.
    const refused = await ctx.http().post('/api/v1/integrations/entra/sync').set(bearer(org.token));
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('ENTRA_NOT_CONNECTED');

    // Changed while nobody was connected.
    ctx.emulator.store.updateUser(alice.entraId, { accountEnabled: false });
    const again = await connectTenant(ctx, org.token, DEMO.users.adele.upn);
    expect(again.status).toBe('connected');
    await ctx
      .http()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(org.token))
      .send({ autoDeprovisionSync: true })
      .expect(200);

    const first = await syncNow(ctx, org.token);
    expect(first).toMatchObject({ status: 'succeeded', mode: 'full', errorCode: null });
    expect(first.counts).toMatchObject({ deactivated: 1 });
    const user = await ctx.http().get(`/api/v1/users/${alice.userId}`).set(bearer(org.token)).expect(200);
    expect(user.body).toMatchObject({ status: 'deactivated', deactivationReason: 'entra_account_disabled' });
    // And the new connection's own delta link carries the next round.
    expect(await syncNow(ctx, org.token)).toMatchObject({ status: 'succeeded', mode: 'incremental' });
  });

  it('a disconnect of an organization that never synced is still a plain 204, and a second one a 409', async () => {
    const other = await connectedOrganization(ctx, DEMO.users.diego.upn);
    await ctx.http().delete('/api/v1/integrations/entra').set(bearer(other.token)).expect(204);
    const second = await ctx.http().delete('/api/v1/integrations/entra').set(bearer(other.token));
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('ENTRA_NOT_CONNECTED');
  });
});
