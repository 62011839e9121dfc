import { Logger } from '@nestjs/common';
import { DEMO } from '@entra-integration/entra-emulator';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, type MockInstance, vi } from 'vitest';
import { ownerOf, scimTokenOf, type TestOwner } from '../support/factory.js';
import { addMember } from '../support/seed.js';
import { bearer } from '../support/sign-in.js';
import { APP_BASE_URL, createTestContext, type TestContext } from '../support/test-app.js';

const { adele, megan } = DEMO.users;

/** What every answer of an outage looks like: a 503 problem a client can retry, never a 500 or a stack trace. */
function expectOutage(answer: { status: number; headers: Record<string, string>; body: unknown }) {
  expect(answer.status).toBe(503);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(answer.headers['retry-after']).toBe('5');
  expect(answer.body).toMatchObject({
    type: 'urn:problem-type:database-unavailable',
    status: 503,
    code: 'DATABASE_UNAVAILABLE',
    retryAfterSeconds: 5,
  });
  expect(JSON.stringify(answer.body)).not.toMatch(
    /\bat \S+ \(|node_modules|SELECT|UPDATE|canceling|ECONN|terminated/i,
  );
}

/** The `reason`s the error filters logged for DATABASE_UNAVAILABLE answers. */
function outageReasons(warn: MockInstance): string[] {
  return warn.mock.calls
    .map(([entry]) => entry as { code?: string; message?: string } | undefined)
    .filter((entry) => entry?.code === 'DATABASE_UNAVAILABLE')
    .map((entry) => String(entry?.message));
}

/**
 * A database that is slow, locked or gone: requests answer 503 DATABASE_UNAVAILABLE within the configured
 * bounds instead of hanging or answering 500, a transaction left open releases its locks, and nothing is
 * half-written.
 */
describe('database timeouts: a locked row, a transaction left open, a pool with no room', () => {
  let ctx: TestContext;
  let owner: TestOwner;
  let meganId: string;
  let errors: MockInstance;
  let warnings: MockInstance;
  /** Another session of the database, as a stuck job or an operator's console would hold one. */
  let other: pg.Client;

  const roleOf = async (id: string) =>
    (await ctx.sql.query<{ role: string }>('SELECT role FROM users WHERE id = $1', [id])).rows[0].role;
  const changeRole = (role: string) =>
    ctx.http().patch(`/api/v1/users/${meganId}`).set(bearer(owner.token)).send({ role });

  beforeAll(async () => {
    ctx = await createTestContext({
      DATABASE_STATEMENT_TIMEOUT_MS: '1000',
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '1500',
      DATABASE_CONNECT_TIMEOUT_MS: '300',
    });
    owner = await ownerOf(ctx, adele.upn, { plan: 'enterprise', seatLimit: 10 });
    meganId = await addMember(ctx, owner.organizationId, megan, DEMO.tenants.contoso.id, 'employee');
    other = new pg.Client({ connectionString: ctx.config.databaseUrl });
    await other.connect();
  });
  afterAll(async () => {
    await other?.end();
    await ctx?.close();
  });
  beforeAll(() => {
    errors = vi.spyOn(Logger.prototype, 'error');
    warnings = vi.spyOn(Logger.prototype, 'warn');
  });
  afterEach(async () => {
    await other.query('ROLLBACK');
    // No outage is an unhandled error: no stack trace was logged.
    expect(errors).not.toHaveBeenCalled();
    warnings.mockClear();
  });
  afterAll(() => vi.restoreAllMocks());

  it('answers 503 DATABASE_UNAVAILABLE when a write waits past the statement timeout, and keeps nothing of it', async () => {
    await other.query('BEGIN');
    await other.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [meganId]);

    expectOutage(await changeRole('manager'));
    expect(outageReasons(warnings)).toEqual([expect.stringMatching(/statement timeout/)]);
    await other.query('ROLLBACK');
    // Nothing of the refused change was kept: neither the role nor its audit event.
    expect(await roleOf(meganId)).toBe('employee');
    const audit = await ctx.sql.query(
      `SELECT 1 FROM audit_events WHERE target_id = $1 AND action = 'user.role_changed'`,
      [meganId],
    );
    expect(audit.rowCount).toBe(0);

    // Once the row is free, the same request succeeds.
    expect((await changeRole('manager')).status).toBe(200);
    expect(await roleOf(meganId)).toBe('manager');
  });

  it('ends a transaction the service left open, so its locks no longer hold anyone up', async () => {
    // A unit of work that locked a row and then stopped (a hung call inside a transaction).
    const runner = ctx.app.get(DataSource).createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    const [{ pid }] = (await runner.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
    await runner.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [meganId]);

    // PostgreSQL ends that session once it has sat idle in its transaction for 1.5 s.
    await expect
      .poll(
        async () => (await ctx.sql.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount,
        { timeout: 10_000, interval: 100 },
      )
      .toBe(0);
    expect((await changeRole('admin')).status).toBe(200);
    expect(await roleOf(meganId)).toBe('admin');
    // The abandoned unit of work learns it lost its transaction; the pool replaces the connection.
    await expect(runner.query('SELECT 1')).rejects.toThrow();
    await runner.release().catch(() => undefined);
    expect((await ctx.http().get(`/api/v1/users/${meganId}`).set(bearer(owner.token))).status).toBe(200);
  });

  it('answers 503 when every connection of the pool is taken for longer than the connect timeout', async () => {
    await other.query('BEGIN');
    await other.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [meganId]);
    // Twelve writes at once: ten hold the pool's ten connections while they wait for the row; the others find
    // no connection within 0.3 s. All are refused, none waits longer than the bounds say.
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => changeRole(i % 2 ? 'manager' : 'employee')),
    );
    for (const answer of answers) expectOutage(answer);
    const reasons = outageReasons(warnings);
    expect(reasons.filter((r) => /statement timeout/.test(r)).length).toBeGreaterThan(0);
    expect(reasons.filter((r) => /timeout exceeded when trying to connect/.test(r)).length).toBeGreaterThan(
      0,
    );
    await other.query('ROLLBACK');
    expect(await roleOf(meganId)).toBe('admin');
    expect((await ctx.http().get('/api/v1/me').set(bearer(owner.token))).status).toBe(200);
  });
});

describe('database gone: every surface answers its own 503', () => {
  let ctx: TestContext;
  let owner: TestOwner;
  let scimToken: string;

  beforeAll(async () => {
    // No separate UI: the service serves its own pages.
    ctx = await createTestContext({ APP_UI_URL: APP_BASE_URL });
    owner = await ownerOf(ctx, adele.upn, { plan: 'enterprise' });
    ({ token: scimToken } = await scimTokenOf(ctx, owner));
  });
  afterAll(() => ctx?.close());

  it('answers the API, SCIM and the pages with 503 and Retry-After, logging one line per request', async () => {
    const errors = vi.spyOn(Logger.prototype, 'error');
    const warnings = vi.spyOn(Logger.prototype, 'warn');
    // The database disappears under the running service (as when PostgreSQL is down or unreachable).
    const admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
    await admin.connect();
    await admin.query(`DROP DATABASE ${new URL(ctx.config.databaseUrl!).pathname.slice(1)} WITH (FORCE)`);
    await admin.end();

    expectOutage(await ctx.http().get('/api/v1/me').set(bearer(owner.token)));
    expectOutage(await ctx.http().get('/api/v1/users').set(bearer(owner.token)));

    const scim = await ctx.http().get('/scim/v2/Users').set('Authorization', `Bearer ${scimToken}`);
    expect(scim.status).toBe(503);
    expect(scim.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(scim.headers['retry-after']).toBe('5');
    expect(JSON.parse(scim.text)).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '503',
    });

    const page = await ctx.http().get('/').set('Cookie', `session=${owner.token}`);
    expect(page.status).toBe(503);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['retry-after']).toBe('5');

    expect(errors).not.toHaveBeenCalled();
    expect(outageReasons(warnings)).toHaveLength(4);
    vi.restoreAllMocks();
  });
});
