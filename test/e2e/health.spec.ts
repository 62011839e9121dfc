import { Logger } from '@nestjs/common';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createTestContext, type TestContext } from '../support/test-app.js';

describe('health probes', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('live and ready answer 200 in their documented shape while the database answers', async () => {
    expect((await ctx.http().get('/health/live').expect(200)).body).toEqual({ status: 'ok' });
    const ready = await ctx.http().get('/health/ready').expect(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { database: 'up' } });
    expect(ready.headers['cache-control']).toBe('no-store');
  });

  it('ready answers the documented NOT_READY problem when the database is gone, without a stack trace per probe', async () => {
    const errors = vi.spyOn(Logger.prototype, 'error');
    // The database disappears under the running service (as when PostgreSQL is down or unreachable).
    const admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
    await admin.connect();
    const name = new URL(ctx.config.databaseUrl!).pathname.slice(1);
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
    for (let probe = 0; probe < 3; probe++) {
      const ready = await ctx.http().get('/health/ready').expect(503);
      expect(ready.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(ready.body).toMatchObject({
        type: 'urn:problem-type:not-ready',
        title: 'Service unavailable',
        status: 503,
        code: 'NOT_READY',
        checks: { database: 'down' },
      });
      expect(JSON.stringify(ready.body)).not.toMatch(/\bat \S+ \(|node_modules|Error:/);
    }
    expect(errors).not.toHaveBeenCalled();
    // The process itself is still alive.
    await ctx.http().get('/health/live').expect(200);
    errors.mockRestore();
  });
});
