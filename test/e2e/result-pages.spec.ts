import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineCodes, registeredCodes } from '../../src/common/domain-error.js';
import { inlineMarkup } from '../../src/pages/html.js';
import { PENDING_REASONS } from '../../src/pages/result-messages.js';
import { connectedOrganization, directoryUser, ownerOf } from '../support/factory.js';
import { followAuthorize, signIn } from '../support/sign-in.js';
import { APP_BASE_URL, createTestContext, type TestContext } from '../support/test-app.js';

const { adele } = DEMO.users;
const HOSTILE = '<script>alert("x")</script>';
const ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;';

/** The CSP every page carries: nothing inline, nothing from elsewhere. */
function expectStrictPage(response: { headers: Record<string, string>; text: string }) {
  expect(response.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
  const csp = response.headers['content-security-policy'];
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("style-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(response.headers['cache-control']).toBe('no-store');
  // No inline script or style anywhere: only the same-origin files.
  expect(response.text).not.toMatch(/<script(?![^>]*\ssrc="\/pages\/pages\.js")/);
  expect(response.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
}

const cookie = (token: string | null) => ({ Cookie: `session=${token}` });

describe('result pages, when the service is its own UI (APP_UI_URL = APP_BASE_URL)', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ APP_UI_URL: APP_BASE_URL });
  });
  afterAll(() => ctx.close());

  it('a sign-in lands on / , which says who is signed in, their organization, and links to Swagger UI', async () => {
    const { location, token } = await signIn(ctx, adele.upn);
    expect(location).toBe(`${APP_BASE_URL}/`);
    const page = await ctx.http().get('/').set(cookie(token)).expect(200);
    expectStrictPage(page);
    expect(page.text).toContain('Adele Vance');
    expect(page.text).toContain(adele.upn);
    expect(page.text).toMatch(/<strong>owner<\/strong> of\s+the organization <strong>[^<]+<\/strong>/);
    expect(page.text).toContain('href="/docs"');
    expect(page.text).toContain('id="sign-out"');
    expect(page.text).toContain('<script src="/pages/pages.js" defer></script>');
    expect(page.text).toContain('not connected to a Microsoft Entra ID tenant');
  });

  it('/ without a session is a page saying so, with the way to sign in', async () => {
    const page = await ctx.http().get('/').set('Accept', 'text/html').expect(401);
    expectStrictPage(page);
    expect(page.text).toContain('You are not signed in');
    expect(page.text).toContain('href="/auth/microsoft/login"');
    const forged = await ctx.http().get('/').set(cookie('forged')).expect(401);
    expect(forged.text).toContain('You are not signed in');
  });

  it('escapes what the directory says about a person', async () => {
    directoryUser(ctx, 'hostile@contoso.com', { displayName: HOSTILE });
    const { token } = await signIn(ctx, 'hostile@contoso.com');
    const page = await ctx.http().get('/').set(cookie(token)).expect(200);
    expect(page.text).toContain(ESCAPED);
    expect(page.text).not.toContain(HOSTILE);
  });

  it('/sign-in explains every code of the sign-in catalog and what to do', async () => {
    const codes = registeredCodes().filter((c) => c.channel === 'sign_in_redirect');
    expect(codes.map((c) => c.code)).toEqual(expect.arrayContaining(['invalid_state', 'account_pending']));
    for (const { code, description } of codes) {
      const page = await ctx.http().get('/sign-in').query({ error: code }).expect(200);
      expectStrictPage(page);
      expect(page.text, code).toContain(inlineMarkup(description).value);
      expect(page.text, code).toContain('href="/auth/microsoft/login"');
    }
  });

  it('/sign-in?error=account_pending says why with its reason, and rate_limited when to retry', async () => {
    for (const [reason, text] of Object.entries(PENDING_REASONS)) {
      const page = await ctx.http().get('/sign-in').query({ error: 'account_pending', reason }).expect(200);
      expect(page.text).toContain('Your account is not active yet');
      expect(page.text).toContain(text);
    }
    const unknown = await ctx.http().get('/sign-in').query({ error: 'account_pending', reason: HOSTILE });
    expect(unknown.text).not.toContain(HOSTILE);
    expect(unknown.text).not.toContain(ESCAPED);
    const limited = await ctx.http().get('/sign-in').query({ error: 'rate_limited', retryAfter: '300' });
    expect(limited.text).toContain('Try again in about 5 minutes.');
    const bogus = await ctx.http().get('/sign-in').query({ error: 'rate_limited', retryAfter: HOSTILE });
    expect(bogus.text).not.toContain('Try again in about');
  });

  it('/sign-in with an unknown or hostile code shows it escaped, never as markup', async () => {
    const page = await ctx.http().get('/sign-in').query({ error: HOSTILE }).expect(200);
    expectStrictPage(page);
    expect(page.text).toContain(ESCAPED);
    expect(page.text).not.toContain(HOSTILE);
    expect(page.text).toContain('which this page does not know');
    const plain = await ctx.http().get('/sign-in').expect(200);
    expect(plain.text).toContain('Continue with Microsoft');
  });

  it('/sign-in/choose-organization is a page whose script lists and accepts the invitations', async () => {
    const page = await ctx.http().get('/sign-in/choose-organization').expect(200);
    expectStrictPage(page);
    expect(page.text).toContain('data-source="/auth/invitations"');
    expect(page.text).toContain('<script src="/pages/pages.js" defer></script>');
    const script = await ctx.http().get('/pages/pages.js').expect(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.text).toContain("'/auth/invitations/' + encodeURIComponent(id) + '/accept'");
    // Text from the API is set as text, never parsed as markup.
    expect(script.text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    const style = await ctx.http().get('/pages/pages.css').expect(200);
    expect(style.headers['content-type']).toMatch(/^text\/css/);
  });

  it('/settings/integrations/entra shows the connect outcome and the connected tenant', async () => {
    const owner = await connectedOrganization(ctx, 'adele@contoso.com');
    const page = await ctx
      .http()
      .get('/settings/integrations/entra')
      .query({ status: 'connected' })
      .set(cookie(owner.token))
      .expect(200);
    expectStrictPage(page);
    expect(page.text).toContain('The tenant is connected.');
    expect(page.text).toContain('Contoso');
    expect(page.text).toContain(DEMO.tenants.contoso.id);
    const home = await ctx.http().get('/').set(cookie(owner.token)).expect(200);
    expect(home.text).toContain(DEMO.tenants.contoso.id);
  });

  it('the connect answer opens in one click: the Microsoft URL is also its Location', async () => {
    directoryUser(ctx, 'pat@fabrikam.com', {}, DEMO.tenants.fabrikam.id);
    const owner = await ownerOf(ctx, 'pat@fabrikam.com', { plan: 'enterprise' });
    const started = await ctx
      .http()
      .post('/api/v1/integrations/entra/connect')
      .set({ Authorization: `Bearer ${owner.token}` })
      .expect(200);
    expect(started.headers.location).toBe(started.body.authorizationUrl);
    expect(new URL(started.headers.location as string).searchParams.get('prompt')).toBe('consent');
  });

  it('/settings/integrations/entra?status=error explains every connect code, signed in or not', async () => {
    const owner = await ownerOf(ctx, 'diego@fabrikam.com');
    const codes = registeredCodes().filter((c) => c.channel === 'connect_redirect');
    expect(codes.length).toBeGreaterThan(5);
    for (const { code, description } of codes) {
      const page = await ctx
        .http()
        .get('/settings/integrations/entra')
        .query({ status: 'error', code })
        .set(cookie(owner.token))
        .expect(200);
      expectStrictPage(page);
      expect(page.text, code).toContain(inlineMarkup(description).value);
      expect(page.text, code).toContain('not connected to a Microsoft Entra ID tenant');
    }
    // Another browser (no session) still learns what happened, and may sign in and come back.
    const signedOut = await ctx
      .http()
      .get('/settings/integrations/entra')
      .query({ status: 'error', code: 'invalid_state' })
      .expect(401);
    expectStrictPage(signedOut);
    expect(signedOut.text).toContain('The connection link expired');
    expect(signedOut.text).toContain(
      'href="/auth/microsoft/login?returnTo=%2Fsettings%2Fintegrations%2Fentra"',
    );
    const limited = await ctx
      .http()
      .get('/settings/integrations/entra')
      .query({ status: 'error', code: 'rate_limited', retryAfter: '42' });
    expect(limited.text).toContain('Too many failed or forged connection attempts');
    expect(limited.text).toContain('Try again in about 42 seconds.');
    const hostile = await ctx
      .http()
      .get('/settings/integrations/entra')
      .query({ status: 'error', code: HOSTILE })
      .set(cookie(owner.token));
    expect(hostile.text).toContain(ESCAPED);
    expect(hostile.text).not.toContain(HOSTILE);
  });

  it('/settings/tenant-assignment renders enabled, and each error code with its catalog message', async () => {
    // A code added to the tenant-assignment catalog is one line there; the page picks it up.
    defineCodes('assignment_redirect', { result_pages_probe: 'Probe message with `code` markup.' });
    const owner = await ownerOf(ctx, 'lee@fabrikam.com');
    const enabled = await ctx
      .http()
      .get('/settings/tenant-assignment')
      .query({ status: 'enabled' })
      .set(cookie(owner.token))
      .expect(200);
    expectStrictPage(enabled);
    expect(enabled.text).toContain('Tenant assignment is enabled');
    for (const { code, description } of registeredCodes().filter(
      (c) => c.channel === 'assignment_redirect',
    )) {
      const page = await ctx
        .http()
        .get('/settings/tenant-assignment')
        .query({ status: 'error', code })
        .set(cookie(owner.token))
        .expect(200);
      expect(page.text, code).toContain(inlineMarkup(description).value);
    }
    const probe = await ctx
      .http()
      .get('/settings/tenant-assignment')
      .query({ status: 'error', code: 'result_pages_probe' })
      .set(cookie(owner.token));
    expect(probe.text).toContain('Probe message with <code>code</code> markup.');
    const hostile = await ctx
      .http()
      .get('/settings/tenant-assignment')
      .query({ status: 'error', code: HOSTILE })
      .expect(401);
    expect(hostile.text).toContain(ESCAPED);
    expect(hostile.text).not.toContain(HOSTILE);
  });
});

describe('with a separate UI (APP_UI_URL on another origin)', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('serves none of the pages: those paths belong to the SPA', async () => {
    for (const path of [
      '/',
      '/sign-in?error=invalid_state',
      '/sign-in/choose-organization',
      '/pages/pages.js',
    ]) {
      const answer = await ctx.http().get(path).expect(404);
      expect(answer.headers['content-type'], path).toMatch(/^application\/problem\+json/);
    }
    await ctx.http().get('/settings/integrations/entra?status=connected').expect(404);
  });
});

describe('the canonical host (APP_BASE_URL says localhost, the browser opened 127.0.0.1)', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('sends the browser to APP_BASE_URL before a sign-in starts, keeping the query', async () => {
    const answer = await ctx
      .http()
      .get('/auth/microsoft/login')
      .query({ login_hint: adele.upn, returnTo: '/assets' })
      .set('Host', '127.0.0.1:3000')
      .expect(302);
    expect(answer.headers.location).toBe(
      `${APP_BASE_URL}/auth/microsoft/login?login_hint=${encodeURIComponent(adele.upn)}&returnTo=%2Fassets`,
    );
    // No flow was started there: no flow cookie, nothing sent to Microsoft.
    expect(answer.headers['set-cookie']).toBeUndefined();
    const head = await ctx.http().head('/auth/microsoft/login').set('Host', 'LOCALHOST:3000');
    expect(head.status).toBe(302);
    expect(head.headers.location).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
  });

  it('and the sign-in then completes on the canonical host', async () => {
    const first = await ctx
      .http()
      .get('/auth/microsoft/login')
      .query({ login_hint: adele.upn })
      .set('Host', '127.0.0.1:3000')
      .expect(302);
    const canonical = new URL(first.headers.location as string);
    expect(canonical.host).toBe('localhost:3000');
    const login = await ctx.http().get(`${canonical.pathname}${canonical.search}`).expect(302);
    const flowCookie = (login.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    const redirect = await followAuthorize(login.headers.location as string);
    expect(redirect.host).toBe('localhost:3000');
    const callback = await ctx
      .http()
      .get(`${redirect.pathname}${redirect.search}`)
      .set('Cookie', flowCookie)
      .expect(302);
    expect(new URL(callback.headers.location as string).searchParams.get('error')).toBeNull();
  });
});
