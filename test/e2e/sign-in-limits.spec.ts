import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request, { type Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { DEMO } from '@entra-integration/entra-emulator';
import { followAuthorize } from '../support/sign-in.js';
import { APP_UI_URL, createTestContext, type TestContext } from '../support/test-app.js';

const { megan, adele, diego, lee, alex } = DEMO.users;
type Headers = Record<string, string>;
type Http = () => ReturnType<typeof request>;

function flowCookie(response: Response): string | null {
  const raw = response.headers['set-cookie'] as unknown as string[] | undefined;
  const cookie = raw?.find((c) => c.startsWith('ms_auth_flow=') && !c.startsWith('ms_auth_flow=;'));
  return cookie ? cookie.split(';')[0] : null;
}

/** A browser's whole round trip, with the headers its network adds (a proxy's X-Forwarded-For). */
async function signInWith(http: Http, loginHint: string, headers: Headers = {}) {
  const login = await http().get('/auth/microsoft/login').query({ login_hint: loginHint }).set(headers);
  if (login.status !== 302) return { status: login.status, error: null, signedIn: false, response: login };
  const redirect = await followAuthorize(login.headers.location as string);
  const cookie = flowCookie(login);
  const callback = await http()
    .get(`${redirect.pathname}${redirect.search}`)
    .set({ ...headers, ...(cookie ? { Cookie: cookie } : {}) });
  if (callback.status !== 302)
    return { status: callback.status, error: null, signedIn: false, response: callback };
  const location = new URL(callback.headers.location as string);
  const signedIn = ((callback.headers['set-cookie'] as unknown as string[]) ?? []).some((c) =>
    /^session=[^;]/.test(c),
  );
  return { status: 302, error: location.searchParams.get('error'), signedIn, response: callback };
}

/** A callback with a `state` nobody issued, as an attacker (or a broken bookmark) sends it. */
function forgedCallback(http: Http, headers: Headers = {}, path = '/auth/microsoft/callback') {
  return http()
    .get(path)
    .query({ code: 'forged', state: randomBytes(32).toString('base64url') })
    .set(headers);
}

const from = (address: string): Headers => ({ 'X-Forwarded-For': address });

function expectRateLimited(response: Response) {
  expect(response.status).toBe(429);
  expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(response.body.code).toBe('RATE_LIMITED');
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
}

async function inBatches<T>(count: number, size: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < count; i += size) {
    results.push(
      ...(await Promise.all(Array.from({ length: Math.min(size, count - i) }, (_, j) => task(i + j)))),
    );
  }
  return results;
}

describe('sign-in limits with the default budgets', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('lets 300 people behind one address sign in within a minute', async () => {
    const people = [megan, adele, diego, lee];
    const results = await inBatches(300, 15, (i) => signInWith(ctx.http, people[i % people.length].upn));
    expect(results.filter((r) => !r.signedIn).map((r) => r.status)).toEqual([]);
    expect(results.every((r) => r.error === null)).toBe(true);
    // All of them count towards the ceiling of successes, none towards a failure budget.
    const rows = await ctx.sql.query<{ key: string; points: number }>(
      "SELECT key, points FROM rate_limits WHERE key LIKE 'sign_in_failure:%'",
    );
    expect(rows.rows).toEqual([]);
  }, 180_000); // a few seconds on an idle machine; the budget is per minute, not per test run

  it('ignores X-Forwarded-For when TRUST_PROXY is unset: a spoofed header does not reset the budget', async () => {
    // Defaults allow 100 failures per address; each forged callback claims to come from somewhere else.
    const answers = await inBatches(101, 20, (i) => forgedCallback(ctx.http, from(`192.0.2.${i}`)));
    expect(answers.slice(0, 100).every((a) => a.status === 302)).toBe(true);
    expectRateLimited(answers[100]);
  });
});

describe('sign-in limits per client address', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({
      TRUST_PROXY: '1',
      SIGN_IN_FAILURES_PER_ADDRESS: '5',
      SIGN_IN_OPEN_FLOWS_PER_ADDRESS: '3',
      SIGN_IN_SUCCESSES_PER_MINUTE: '8',
    });
  });
  afterAll(() => ctx?.close());

  it('limits a flood of forged callbacks from one address while another address still signs in', async () => {
    const attacker = from('198.51.100.1');
    for (let i = 0; i < 5; i++) {
      const answer = await forgedCallback(ctx.http, attacker).expect(302);
      expect(new URL(answer.headers.location as string).searchParams.get('error')).toBe('invalid_state');
    }
    expectRateLimited(await forgedCallback(ctx.http, attacker));
    // The connect callback shares the budget, and a new sign-in from that address is refused too.
    expectRateLimited(await forgedCallback(ctx.http, attacker, '/auth/microsoft/connect/callback'));
    expectRateLimited(await ctx.http().get('/auth/microsoft/login').set(attacker));

    const colleague = await signInWith(ctx.http, megan.upn, from('198.51.100.2'));
    expect(colleague).toMatchObject({ status: 302, error: null, signedIn: true });
  });

  it('sends a person’s browser to the sign-in page with the reason instead of a bare 429', async () => {
    const browser = { ...from('198.51.100.1'), Accept: 'text/html,application/xhtml+xml' };
    const answer = await ctx.http().get('/auth/microsoft/login').set(browser).expect(302);
    const location = new URL(answer.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(`${APP_UI_URL}/sign-in`);
    expect(location.searchParams.get('error')).toBe('rate_limited');
    expect(Number(location.searchParams.get('retryAfter'))).toBeGreaterThan(0);
    expect(answer.headers['retry-after']).toBe(location.searchParams.get('retryAfter'));

    const connect = await forgedCallback(ctx.http, browser, '/auth/microsoft/connect/callback').expect(302);
    expect(connect.headers.location).toMatch(
      `${APP_UI_URL}/settings/integrations/entra?status=error&code=rate_limited&retryAfter=`,
    );
  });

  it('trusts only the right-most X-Forwarded-For hop with TRUST_PROXY=1: a spoofed left part changes nothing', async () => {
    const answers = [];
    for (let i = 0; i < 6; i++) {
      // The client writes the first entry; the one proxy appends the address it really saw.
      answers.push(await forgedCallback(ctx.http, from(`10.9.8.${i}, 203.0.113.9`)));
    }
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([302, 302, 302, 302, 302]);
    expectRateLimited(answers[5]);
  });

  it('counts abandoned sign-ins; a completed one refunds its start', async () => {
    const office = from('203.0.113.20');
    for (let i = 0; i < 6; i++) {
      expect(await signInWith(ctx.http, diego.upn, office)).toMatchObject({ error: null, signedIn: true });
    }
    const abandoner = from('203.0.113.21');
    for (let i = 0; i < 3; i++) await ctx.http().get('/auth/microsoft/login').set(abandoner).expect(302);
    expectRateLimited(await ctx.http().get('/auth/microsoft/login').set(abandoner));
  });

  it('has a ceiling on successful sign-ins per address', async () => {
    const address = from('203.0.113.30');
    for (let i = 0; i < 8; i++) {
      expect(await signInWith(ctx.http, lee.upn, address)).toMatchObject({ signedIn: true });
    }
    const over = await signInWith(ctx.http, lee.upn, address);
    expectRateLimited(over.response);
    expect(Number(over.response.headers['retry-after'])).toBeLessThanOrEqual(60);
  });
});

describe('sign-in limits per Microsoft account', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ TRUST_PROXY: '1', SIGN_IN_FAILURES_PER_ACCOUNT: '2' });
  });
  afterAll(() => ctx?.close());

  it('stops deciding on an account after its refusals, from whatever address', async () => {
    const first = await signInWith(ctx.http, alex.upn, from('198.51.100.10'));
    const second = await signInWith(ctx.http, alex.upn, from('198.51.100.11'));
    expect([first.error, second.error]).toEqual([
      'personal_account_not_supported',
      'personal_account_not_supported',
    ]);
    const third = await signInWith(ctx.http, alex.upn, from('198.51.100.12'));
    expect(third).toMatchObject({ status: 302, error: 'rate_limited', signedIn: false });

    expect(await signInWith(ctx.http, megan.upn, from('198.51.100.12'))).toMatchObject({ signedIn: true });
  });
});

describe('sign-in limits across replicas', () => {
  let ctx: TestContext;
  let second: NestExpressApplication;
  beforeAll(async () => {
    ctx = await createTestContext({ SIGN_IN_FAILURES_PER_ADDRESS: '4' });
    // Another replica: its own process state, the same database.
    second = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot(ctx.config, ctx.config.databaseUrl!),
      { logger: ['fatal'], abortOnError: false },
    );
    configureApp(second, ctx.config);
    await second.init();
  });
  afterAll(async () => {
    await second?.close();
    await ctx?.close();
  });

  it('shares one budget between two app instances on the same database', async () => {
    const other: Http = () => request(second.getHttpServer());
    await forgedCallback(ctx.http).expect(302);
    await forgedCallback(other).expect(302);
    await forgedCallback(ctx.http).expect(302);
    await forgedCallback(other).expect(302);
    expectRateLimited(await forgedCallback(ctx.http));
    expectRateLimited(await forgedCallback(other));
  });
});
