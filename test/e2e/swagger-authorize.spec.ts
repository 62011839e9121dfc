import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerOf, type TestOwner } from '../support/factory.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

type Scheme = { type?: string; scheme?: string; in?: string; name?: string };
type Operation = { security?: Record<string, string[]>[]; 'x-required-scopes'?: string[] };

/**
 * Swagger UI's Authorize dialog with an API key pasted into `api_key`, then "Try it out". No browser drives it
 * here: the test reads what the served page configures Swagger UI with, checks that the served Swagger UI
 * turns an http/bearer scheme into `Authorization: Bearer <value>`, and sends the requests it then makes —
 * the pasted key in that header and, because of `withCredentials`, the admin's session cookie too.
 */
describe('Swagger UI Authorize takes an API key', () => {
  let ctx: TestContext;
  let owner: TestOwner;
  let key: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await ownerOf(ctx, DEMO.users.adele.upn);
    key = (
      await ctx
        .http()
        .post('/api/v1/api-keys')
        .set(bearer(owner.token))
        .send({ name: 'Swagger try-out', scopes: ['users:read'] })
        .expect(201)
    ).body.key as string;
  });
  afterAll(() => ctx?.close());

  it('offers api_key as an http bearer scheme, on exactly the operations that take a key', async () => {
    const init = await ctx.http().get('/docs/swagger-ui-init.js').expect(200);
    const options = JSON.parse(/let options = (\{[\s\S]*?\});\n/.exec(init.text)![1]) as {
      swaggerDoc: { components: { securitySchemes: Record<string, Scheme> } };
      customOptions: Record<string, unknown>;
    };
    expect(options.swaggerDoc.components.securitySchemes.api_key).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    // Sent by the browser beside the pasted key, and never kept in localStorage.
    expect(options.customOptions).toMatchObject({ withCredentials: true, persistAuthorization: false });

    const document = (await ctx.http().get('/docs/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, Operation>>;
    };
    const operations = Object.values(document.paths).flatMap((path) => Object.values(path));
    const takingKeys = operations.filter((op) => op.security?.some((s) => 'api_key' in s));
    expect(takingKeys.length).toBeGreaterThan(10);
    for (const operation of operations)
      expect(Boolean(operation['x-required-scopes']?.length)).toBe(takingKeys.includes(operation));
    expect(document.paths['/api/v1/users'].get.security).toContainEqual({ api_key: [] });
  });

  it('the served Swagger UI sends an http bearer value as Authorization: Bearer <value>', async () => {
    const bundle = await ctx.http().get('/docs/swagger-ui-bundle.js').expect(200);
    expect(bundle.text).toMatch(/\/\^bearer\$\/i\.test\([^)]*\.scheme\)&&\([^)]*Authorization=`Bearer \$\{/);
  });

  it('"Try it out" with the key acts as the key, even beside the admin’s session cookie', async () => {
    const asSwagger = (path: string) =>
      ctx.http().get(path).set('Authorization', `Bearer ${key}`).set('Cookie', `session=${owner.token}`);
    const users = await asSwagger('/api/v1/users').expect(200);
    expect(users.body.items.map((u: { id: string }) => u.id)).toContain(owner.userId);
    // What the Owner's cookie alone could read, the key without the scope cannot: the integrator's view.
    await ctx.http().get('/api/v1/audit-events').set('Cookie', `session=${owner.token}`).expect(200);
    const audit = await asSwagger('/api/v1/audit-events').expect(403);
    expect(audit.body).toMatchObject({ code: 'INSUFFICIENT_SCOPE', requiredScopes: ['audit:read'] });
    const keys = await asSwagger('/api/v1/api-keys').expect(403);
    expect(keys.body.code).toBe('API_KEY_NOT_ACCEPTED');
  });
});
