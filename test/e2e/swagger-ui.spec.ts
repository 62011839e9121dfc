import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE_PLACEHOLDER } from '../../src/common/swagger-session.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

describe('Swagger UI, as an admin signed in with the session cookie uses it', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('loads the session script as a same-origin file, under a CSP without inline script', async () => {
    const page = await ctx.http().get('/docs/').redirects(1).expect(200);
    expect(page.text).toContain("<script src='/docs/session-cookie.js'></script>");
    const scriptSrc = /script-src ([^;]+)/.exec(page.headers['content-security-policy'] as string)?.[1];
    expect(scriptSrc).toBe("'self'");
    const script = await ctx.http().get('/docs/session-cookie.js').expect(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    // Signed in (the cookie answers /api/v1/me), the cookie scheme shows as authorized: locks and curl follow.
    expect(script.text).toContain("fetch('/api/v1/me', { credentials: 'same-origin'");
    expect(script.text).toContain(`preauthorizeApiKey('session', '${SESSION_COOKIE_PLACEHOLDER}')`);
  });

  it('names the cookie scheme the script authorizes, and says the browser sends it', async () => {
    const document = (await ctx.http().get('/docs/openapi.json').expect(200)).body as {
      components: { securitySchemes: Record<string, { in?: string; name?: string; description?: string }> };
      paths: Record<string, Record<string, { description?: string }>>;
    };
    expect(document.components.securitySchemes.session).toMatchObject({ in: 'cookie', name: 'session' });
    expect(document.components.securitySchemes.session.description).toMatch(/browser sends it/);
    // Sign-in is a navigation, not a call: the operation offers a link to open.
    expect(document.paths['/auth/microsoft/login'].get.description).toContain(
      '[/auth/microsoft/login](/auth/microsoft/login)',
    );
  });
});
