import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { DEMO } from '@entra-integration/entra-emulator';
import { bearer, connectTenant, signIn } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const { adele } = DEMO.users;
const TOKEN_ENDPOINT = /\/oauth2\/v2\.0\/token$/;

describe('stored credentials and Microsoft’s token endpoint', () => {
  let ctx: TestContext;
  let token: string;
  let organizationId: string;

  const refresh = () => ctx.http().post('/api/v1/integrations/entra/refresh').set(bearer(token));
  const expireAccessToken = () =>
    ctx.sql.query(
      "UPDATE entra_connections SET access_token_expires_at = now() - interval '1 minute' WHERE organization_id = $1",
      [organizationId],
    );
  const storedRefreshToken = async () =>
    (
      await ctx.sql.query(
        'SELECT refresh_token_ciphertext FROM entra_connections WHERE organization_id = $1',
        [organizationId],
      )
    ).rows[0].refresh_token_ciphertext as string;
  const storeRefreshToken = (value: string) =>
    ctx.sql.query('UPDATE entra_connections SET refresh_token_ciphertext = $2 WHERE organization_id = $1', [
      organizationId,
      value,
    ]);

  beforeAll(async () => {
    ctx = await createTestContext();
    token = (await signIn(ctx, adele.upn)).token!;
    const me = await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200);
    organizationId = me.body.organizationId;
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(organizationId, { plan: 'enterprise' }, SYSTEM_ACTOR);
    const connected = await connectTenant(ctx, token, adele.upn);
    expect(connected.status).toBe('connected');
  });
  afterEach(() => {
    vi.restoreAllMocks();
    ctx.emulator.store.clearFaults();
  });
  afterAll(() => ctx?.close());

  it('answers a stored token with a truncated tag as unreadable credentials, naming the key in the log only', async () => {
    const original = await storedRefreshToken();
    const parts = original.split('.');
    parts[3] = Buffer.from(parts[3], 'base64url').subarray(0, 4).toString('base64url');
    await storeRefreshToken(parts.join('.'));
    await expireAccessToken();
    const errors = vi.spyOn(Logger.prototype, 'error');

    const refused = await refresh();
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body.code).toBe('ENTRA_CREDENTIALS_UNREADABLE');
    expect(refused.body.detail).toMatch(/connect the tenant again/);
    expect(JSON.stringify(refused.body)).not.toContain('k1');
    const logged = errors.mock.calls.map((call) => String(call[0])).join('\n');
    expect(logged).toContain('key id k1');
    expect(logged).toContain(organizationId);

    await storeRefreshToken(original);
    await refresh().expect(200);
  });

  it('answers a ciphertext with flipped bytes the same way, never with a 500', async () => {
    const original = await storedRefreshToken();
    const parts = original.split('.');
    const data = Buffer.from(parts[4], 'base64url');
    data[0] ^= 0xff;
    parts[4] = data.toString('base64url');
    await storeRefreshToken(parts.join('.'));
    await expireAccessToken();
    const refused = await refresh();
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('ENTRA_CREDENTIALS_UNREADABLE');
    await storeRefreshToken(original);
  });

  it('keeps Microsoft’s error text out of the answer, and reaches Microsoft again once the fault clears', async () => {
    await expireAccessToken();
    // A transient outage with a long Retry-After: MSAL's local throttling would have refused for 2 minutes.
    ctx.emulator.store.addFault({
      method: 'POST',
      path: TOKEN_ENDPOINT,
      kind: 'status',
      status: 503,
      retryAfter: 120,
    });
    const warnings = vi.spyOn(Logger.prototype, 'warn');

    const failed = await refresh();
    expect(failed.status).toBe(503);
    expect(failed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(failed.body.code).toBe('MICROSOFT_TOKEN_ERROR');
    const answer = JSON.stringify(failed.body);
    expect(answer).not.toMatch(/AADSTS|Trace ID|Correlation ID|Timestamp|transient/i);
    // Operators still get Microsoft's own words.
    expect(warnings.mock.calls.map((call) => String(call[0])).join('\n')).toMatch(/AADSTS90033/);

    const retried = await refresh();
    expect(retried.status).toBe(200);
    const status = await ctx.http().get('/api/v1/integrations/entra').set(bearer(token)).expect(200);
    expect(status.body.status).toBe('connected');
  });

  it('keeps the text of a refused grant out of the answer too', async () => {
    ctx.emulator.store.revokeRefreshTokens({ tenantId: DEMO.tenants.contoso.id });
    await expireAccessToken();
    const refused = await refresh();
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('ENTRA_REAUTHORIZATION_REQUIRED');
    expect(JSON.stringify(refused.body)).not.toMatch(/AADSTS|revoked, a fresh auth token/);
  });
});
