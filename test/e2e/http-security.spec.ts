import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '@entra-integration/entra-emulator';
import { bearer, signIn } from '../support/sign-in.js';
import { APP_BASE_URL, APP_UI_URL, createTestContext, type TestContext } from '../support/test-app.js';

const { adele } = DEMO.users;
const SIBLING = 'http://evil.localhost:3000';
const OTHER_PORT = 'http://localhost:4444';

async function invitationsFor(ctx: TestContext, email: string): Promise<number> {
  const { rows } = await ctx.sql.query('SELECT count(*)::int AS n FROM invitations WHERE email = $1', [
    email,
  ]);
  return rows[0].n as number;
}

function expectProblem(response: { status: number; headers: Record<string, string>; body: unknown }) {
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  return response.body as { code: string; status: number };
}

describe('cookie-authenticated writes from other origins', () => {
  let ctx: TestContext;
  let token: string;

  beforeAll(async () => {
    ctx = await createTestContext({ TRUSTED_ORIGINS: 'https://admin.example.com' });
    token = (await signIn(ctx, adele.upn)).token!;
  });
  afterAll(() => ctx?.close());

  const cookie = () => `session=${token}`;

  it('refuses a form post from a sibling origin with the cookie: no invitation is created', async () => {
    const response = await ctx
      .http()
      .post('/api/v1/invitations')
      .set('Cookie', cookie())
      .set('Origin', SIBLING)
      .type('form')
      .send({ email: 'form@contoso.example', role: 'admin' });
    expect(response.status).toBe(403);
    expect(expectProblem(response).code).toBe('ORIGIN_NOT_ALLOWED');
    expect(await invitationsFor(ctx, 'form@contoso.example')).toBe(0);
  });

  it('refuses a JSON post from another port of the same host with the cookie', async () => {
    const response = await ctx
      .http()
      .post('/api/v1/invitations')
      .set('Cookie', cookie())
      .set('Origin', OTHER_PORT)
      .send({ email: 'json@contoso.example', role: 'admin' });
    expect(response.status).toBe(403);
    expect(expectProblem(response).code).toBe('ORIGIN_NOT_ALLOWED');
    expect(await invitationsFor(ctx, 'json@contoso.example')).toBe(0);
  });

  it('refuses a cookie-authenticated write without any Origin, and a same-site Sec-Fetch-Site', async () => {
    const none = await ctx
      .http()
      .post('/api/v1/invitations')
      .set('Cookie', cookie())
      .send({ email: 'none@contoso.example', role: 'admin' });
    expect(none.status).toBe(403);
    expect(expectProblem(none).code).toBe('ORIGIN_NOT_ALLOWED');
    const sameSite = await ctx
      .http()
      .post('/api/v1/invitations')
      .set('Cookie', cookie())
      .set('Sec-Fetch-Site', 'same-site')
      .send({ email: 'none@contoso.example', role: 'admin' });
    expect(sameSite.status).toBe(403);
    expect(await invitationsFor(ctx, 'none@contoso.example')).toBe(0);
  });

  it('accepts the SPA’s origin, Swagger UI’s (APP_BASE_URL), a configured origin and Sec-Fetch-Site', async () => {
    const origins = [APP_UI_URL, APP_BASE_URL, 'https://admin.example.com'];
    for (const [i, origin] of origins.entries()) {
      await ctx
        .http()
        .post('/api/v1/invitations')
        .set('Cookie', cookie())
        .set('Origin', origin)
        .send({ email: `ok${i}@contoso.example`, role: 'employee' })
        .expect(201);
    }
    await ctx
      .http()
      .post('/api/v1/invitations')
      .set('Cookie', cookie())
      .set('Sec-Fetch-Site', 'same-origin')
      .send({ email: 'ok9@contoso.example', role: 'employee' })
      .expect(201);
    expect(await invitationsFor(ctx, 'ok0@contoso.example')).toBe(1);
  });

  it('leaves reads with the cookie alone', async () => {
    await ctx.http().get('/api/v1/me').set('Cookie', cookie()).set('Origin', SIBLING).expect(200);
  });

  it('does not apply to Bearer requests, which a foreign page cannot send', async () => {
    await ctx
      .http()
      .post('/api/v1/invitations')
      .set(bearer(token))
      .send({ email: 'bearer@contoso.example', role: 'employee' })
      .expect(201);
  });

  it('refuses form, multipart and text bodies on the JSON API with 415, whoever sends them', async () => {
    const form = await ctx
      .http()
      .post('/api/v1/invitations')
      .set(bearer(token))
      .type('form')
      .send({ email: 'f@contoso.example', role: 'employee' });
    expect(form.status).toBe(415);
    expect(expectProblem(form).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const multipart = await ctx
      .http()
      .post('/api/v1/invitations')
      .set(bearer(token))
      .field('email', 'm@contoso.example')
      .field('role', 'employee');
    expect(multipart.status).toBe(415);
    const text = await ctx
      .http()
      .post('/api/v1/invitations')
      .set(bearer(token))
      .set('Content-Type', 'text/plain')
      .send('{"email":"t@contoso.example","role":"employee"}');
    expect(text.status).toBe(415);
    expect(expectProblem(text).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    for (const email of ['f@contoso.example', 'm@contoso.example', 't@contoso.example'])
      expect(await invitationsFor(ctx, email)).toBe(0);
  });
});

describe('security headers', () => {
  let ctx: TestContext;
  let token: string;

  beforeAll(async () => {
    ctx = await createTestContext({ HTTP_REQUEST_TIMEOUT_MS: '400' });
    token = (await signIn(ctx, adele.upn)).token!;
  });
  afterAll(() => ctx?.close());

  it('serves Swagger UI with no inline script allowed, and its init script as a file', async () => {
    const page = await ctx.http().get('/docs').redirects(1).expect(200);
    const csp = page.headers['content-security-policy'] as string;
    const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src '))!;
    expect(scriptSrc.trim()).toBe("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    // Every script on the page is an external file of the same origin: nothing the CSP would block.
    const scripts = [...(page.text as string).matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src=/);
      expect(body.trim()).toBe('');
    }
    expect(page.text).toContain('swagger-ui-init.js');
  });

  it('does not let Swagger UI keep a pasted Bearer token in localStorage', async () => {
    const init = await ctx.http().get('/docs/swagger-ui-init.js').expect(200);
    expect(init.text).toMatch(/"persistAuthorization":\s*false/);
    expect(init.text).toMatch(/"withCredentials":\s*true/);
  });

  it('sends neither HSTS nor upgrade-insecure-requests over plain http', async () => {
    const response = await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200);
    expect(response.headers['strict-transport-security']).toBeUndefined();
    expect(response.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
  });

  it('marks authenticated JSON answers, and API errors, as not storable', async () => {
    const me = await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200);
    expect(me.headers['cache-control']).toBe('no-store');
    const cookie = await ctx.http().get('/api/v1/organization').set('Cookie', `session=${token}`).expect(200);
    expect(cookie.headers['cache-control']).toBe('no-store');
    const refused = await ctx.http().get('/api/v1/me').expect(401);
    expect(refused.headers['cache-control']).toBe('no-store');
  });

  it('cuts off a request whose body never completes', async () => {
    const server = ctx.app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const answer = await new Promise<{ head: string; closed: boolean }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          'POST /api/v1/invitations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
            `Authorization: Bearer ${token}\r\nContent-Length: 1000\r\n\r\n{"email":`,
        );
      });
      let head = '';
      socket.on('data', (chunk) => (head += chunk.toString()));
      socket.on('close', () => resolve({ head, closed: true }));
      socket.on('error', reject);
    });
    expect(answer.closed).toBe(true);
    expect(answer.head.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
  });
});

describe('security headers over https', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext({ APP_BASE_URL: 'https://api.example.com' });
  });
  afterAll(() => ctx?.close());

  it('sends HSTS and upgrade-insecure-requests when APP_BASE_URL is https', async () => {
    const response = await ctx.http().get('/health/live').expect(200);
    expect(response.headers['strict-transport-security']).toMatch(/max-age=31536000/);
    expect(response.headers['content-security-policy']).toContain('upgrade-insecure-requests');
  });
});

describe('client-chosen request ids', () => {
  let ctx: TestContext;
  let token: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    token = (await signIn(ctx, adele.upn)).token!;
  });
  afterAll(() => ctx?.close());

  async function auditedRequestIds(): Promise<(string | null)[]> {
    const { rows } = await ctx.sql.query('SELECT request_id FROM audit_events');
    return rows.map((r) => r.request_id as string | null);
  }

  it('keeps a short plain id end to end: response header and audit event', async () => {
    const response = await ctx
      .http()
      .post('/api/v1/invitations')
      .set(bearer(token))
      .set('X-Request-Id', 'client-req.42')
      .send({ email: 'rid@contoso.example', role: 'employee' })
      .expect(201);
    expect(response.headers['x-request-id']).toBe('client-req.42');
    expect(await auditedRequestIds()).toContain('client-req.42');
  });

  it('replaces a 10 kB id and one with control characters before logs, audit or the response see them', async () => {
    const huge = 'a'.repeat(10_240);
    // What Node's parser lets through (it refuses most control characters itself): a tab, NEL (a line
    // break to some log viewers), quotes and spaces for log-format injection, and one character too many.
    const tricky = ['tab\tid', 'line\u0085break', 'a" level="error', 'x'.repeat(65)];
    for (const [i, id] of [huge, ...tricky].entries()) {
      const response = await ctx
        .http()
        .post('/api/v1/invitations')
        .set(bearer(token))
        .set('X-Request-Id', id)
        .send({ email: `rid${i}@contoso.example`, role: 'employee' })
        .expect(201);
      const given = response.headers['x-request-id'] as string;
      expect(given).not.toBe(id);
      expect(given).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.stringify(response.body)).not.toContain(id);
    }
    const audited = await auditedRequestIds();
    expect(audited.some((r) => r !== null && (r.length > 64 || /[^\w.:-]/.test(r)))).toBe(false);
  });
});
