import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '@entra-integration/entra-emulator';
import { bearer, signIn } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

// Behind PgBouncer in transaction mode (before 1.21) a named statement prepared on one server connection is
// missing on the next: with the setting off, no request may depend on one.
describe('DATABASE_PREPARED_STATEMENTS=false', () => {
  let ctx: TestContext;
  let token: string;

  beforeAll(async () => {
    ctx = await createTestContext({ DATABASE_PREPARED_STATEMENTS: 'false' });
    token = (await signIn(ctx, DEMO.users.adele.upn)).token!;
  });
  afterAll(() => ctx?.close());

  it('answers /me and the users list without a named statement', async () => {
    const names: string[] = [];
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const name = typeof args[0] === 'object' ? (args[0] as { name?: string } | null)?.name : undefined;
      if (name) names.push(name);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      const me = await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200);
      expect(me.body.email).toBe(DEMO.users.adele.upn);
      expect(me.body.microsoftIdentities).toHaveLength(1);
      const page = await ctx.http().get('/api/v1/users?limit=10').set(bearer(token)).expect(200);
      expect(page.body.items.map((u: { id: string }) => u.id)).toEqual([me.body.id]);
    } finally {
      pg.Client.prototype.query = original;
    }
    expect(names).toEqual([]);
  });
});
