import { readFileSync } from 'node:fs';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH_KIND,
  type AuthKind,
  REQUIRED_ROLES,
  REQUIRED_SCOPES,
} from '../../src/common/auth.decorators.js';
import { API_KEY_SCOPES } from '../../src/common/scopes.js';
import { ownerOf } from '../support/factory.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

/** Routes that must answer without a session. Anything else public is a bug. */
const PUBLIC_ROUTES = new Set([
  'GET /auth/microsoft/login',
  'GET /auth/microsoft/callback',
  'GET /auth/microsoft/connect/callback',
  'GET /auth/microsoft/assignment/callback',
  // No session yet: the organization choice cookie authenticates these (401 without it, see invitation-choice.spec).
  'GET /auth/invitations',
  'POST /auth/invitations/:id/accept',
  'GET /health/live',
  'GET /health/ready',
]);

const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const scimRoute = (route: Route) => route.kinds?.includes('scim_token') ?? false;

interface Route {
  method: string;
  path: string;
  /** What `@Auth(...)` names on the handler, else on its controller; undefined when neither does. */
  kinds: AuthKind[] | undefined;
  roles: string[] | undefined;
  scopes: string[] | undefined;
}

/** Routes an API key must never reach, whatever its scopes: people's flows and the management of keys. */
const NEVER_BY_KEY = [
  'POST /api/v1/integrations/entra/connect',
  'DELETE /api/v1/integrations/entra',
  'POST /api/v1/api-keys',
  'GET /api/v1/api-keys',
  'DELETE /api/v1/api-keys/:id',
];

function routesOf(ctx: TestContext): Route[] {
  const routes: Route[] = [];
  for (const module of ctx.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => object) | null;
      if (!controller) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      const classKinds = Reflect.getMetadata(AUTH_KIND, controller) as AuthKind[] | undefined;
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
        const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/');
        routes.push({
          method: RequestMethod[method],
          path,
          kinds: (Reflect.getMetadata(AUTH_KIND, handler) as AuthKind[] | undefined) ?? classKinds,
          roles:
            (Reflect.getMetadata(REQUIRED_ROLES, handler) as string[] | undefined) ??
            (Reflect.getMetadata(REQUIRED_ROLES, controller) as string[] | undefined),
          scopes: Reflect.getMetadata(REQUIRED_SCOPES, handler) as string[] | undefined,
        });
      }
    }
  }
  return routes;
}

describe('default-deny route guards', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('every route names how it authenticates', () => {
    const routes = routesOf(ctx);
    expect(routes.length).toBeGreaterThan(8);
    expect(routes.filter((r) => !r.kinds?.length).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('documents each route with the security requirement of its kind', () => {
    const document = JSON.parse(readFileSync('openapi/openapi.json', 'utf8')) as {
      paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
    };
    for (const route of routesOf(ctx)) {
      const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
      const operation = document.paths[path]?.[route.method.toLowerCase()];
      // SCIM describes itself through /scim/v2/Schemas: its routes stay out of the REST document.
      if (route.kinds?.includes('scim_token')) {
        expect({ route: `${route.method} ${route.path}`, operation }).toEqual({
          route: `${route.method} ${route.path}`,
          operation: undefined,
        });
        continue;
      }
      const schemes = (operation?.security ?? []).flatMap((requirement) => Object.keys(requirement)).sort();
      const expected = route.kinds?.includes('public')
        ? []
        : route.kinds?.includes('api_key')
          ? ['api_key', 'bearer', 'session']
          : ['bearer', 'session'];
      expect({ route: `${route.method} ${route.path}`, schemes }).toEqual({
        route: `${route.method} ${route.path}`,
        schemes: expected,
      });
    }
  });

  it('every route is either on the public allow-list or refuses a request without credentials', async () => {
    const routes = routesOf(ctx);
    const publicRoutes = routes
      .filter((r) => r.kinds?.includes('public'))
      .map((r) => `${r.method} ${r.path}`);
    expect(new Set(publicRoutes)).toEqual(PUBLIC_ROUTES);

    for (const route of routes.filter((r) => !r.kinds?.includes('public'))) {
      const path = route.path.replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000');
      const method = route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'put' | 'delete';
      const response = await ctx.http()[method](path).send({});
      expect({
        route: `${route.method} ${route.path}`,
        status: response.status,
        code: scimRoute(route) ? response.body.schemas?.[0] : response.body.code,
      }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 401,
        code: scimRoute(route) ? SCIM_ERROR : 'UNAUTHENTICATED',
      });
    }
  });

  it('lets a key reach exactly the routes that name a scope, never an owner-only one or a person’s flow', () => {
    const routes = routesOf(ctx);
    for (const route of routes) {
      const name = `${route.method} ${route.path}`;
      const byKey = route.kinds?.includes('api_key') ?? false;
      expect({ name, byKey }).toEqual({ name, byKey: (route.scopes?.length ?? 0) > 0 });
      if (byKey) {
        expect({ name, ownerOnly: route.roles?.length === 1 && route.roles[0] === 'owner' }).toEqual({
          name,
          ownerOnly: false,
        });
        expect(NEVER_BY_KEY).not.toContain(name);
      }
    }
    expect(routes.filter((r) => r.kinds?.includes('api_key')).length).toBeGreaterThan(15);
  });

  it('answers a key holding every scope with 403 API_KEY_NOT_ACCEPTED on every route that takes none', async () => {
    const owner = await ownerOf(ctx, 'adele@contoso.com');
    const created = await ctx
      .http()
      .post('/api/v1/api-keys')
      .set(bearer(owner.token))
      .send({ name: 'everything', scopes: [...API_KEY_SCOPES] })
      .expect(201);
    const key = created.body.key as string;
    const sessionOnly = routesOf(ctx).filter(
      (r) => !r.kinds?.includes('public') && !r.kinds?.includes('api_key'),
    );
    expect(sessionOnly.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(NEVER_BY_KEY));
    for (const route of sessionOnly) {
      const path = route.path.replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000');
      const method = route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'put' | 'delete';
      const response = await ctx.http()[method](path).set(bearer(key)).send({});
      // The SCIM endpoint takes SCIM tokens only: anything else is simply not a credential there.
      expect({
        route: `${route.method} ${route.path}`,
        status: response.status,
        code: scimRoute(route) ? response.body.schemas?.[0] : response.body.code,
      }).toEqual({
        route: `${route.method} ${route.path}`,
        status: scimRoute(route) ? 401 : 403,
        code: scimRoute(route) ? SCIM_ERROR : 'API_KEY_NOT_ACCEPTED',
      });
    }
  });

  it('refuses unknown, expired-looking or malformed bearer tokens', async () => {
    for (const header of [
      'Bearer not-a-real-token',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      `Bearer ${'x'.repeat(5000)}`,
    ]) {
      const response = await ctx.http().get('/api/v1/me').set('Authorization', header);
      expect(response.status).toBe(401);
    }
    // On a route that takes keys, a made-up one is simply not a credential.
    const fake = await ctx.http().get('/api/v1/users').set('Authorization', 'Bearer edk_not-a-real-key');
    expect({ status: fake.status, code: fake.body.code }).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('serves health, Swagger UI and the OpenAPI document without a session, with security headers', async () => {
    const ready = await ctx.http().get('/health/ready').expect(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { database: 'up' } });
    await ctx.http().get('/health/live').expect(200);
    const docs = await ctx.http().get('/docs/').redirects(1);
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger');
    const json = await ctx.http().get('/docs/openapi.json').expect(200);
    expect(json.body.openapi).toMatch(/^3\./);
    expect(ready.headers['x-content-type-options']).toBe('nosniff');
    expect(ready.headers['x-powered-by']).toBeUndefined();
    expect(ready.headers['x-request-id']).toEqual(expect.any(String));
  });
});

describe('default-deny route guards of the result pages (APP_UI_URL = APP_BASE_URL)', () => {
  let ctx: TestContext;
  let defaults: TestContext;
  let key: string;
  beforeAll(async () => {
    ctx = await createTestContext({ APP_UI_URL: 'http://localhost:3000' });
    // Passport holds one strategy per name for the whole process, and the app started last registers it: the
    // key is made while this app's strategies are the ones in place.
    const owner = await ownerOf(ctx, 'adele@contoso.com');
    const created = await ctx
      .http()
      .post('/api/v1/api-keys')
      .set(bearer(owner.token))
      .send({ name: 'everything', scopes: [...API_KEY_SCOPES] })
      .expect(201);
    key = created.body.key as string;
    defaults = await createTestContext();
  });
  afterAll(async () => {
    await ctx?.close();
    await defaults?.close();
  });

  it('every page names its kind; only the pages a signed-out person needs are public', async () => {
    const known = new Set(routesOf(defaults).map((r) => `${r.method} ${r.path}`));
    const pages = routesOf(ctx).filter((r) => !known.has(`${r.method} ${r.path}`));
    expect(pages.length).toBeGreaterThan(4);
    expect(pages.filter((r) => !r.kinds?.length)).toEqual([]);
    expect(
      new Set(pages.filter((r) => r.kinds?.includes('public')).map((r) => `${r.method} ${r.path}`)),
    ).toEqual(
      new Set([
        'GET /sign-in',
        'GET /sign-in/choose-organization',
        'GET /pages/pages.js',
        'GET /pages/pages.css',
      ]),
    );
    for (const route of pages.filter((r) => !r.kinds?.includes('public'))) {
      const response = await ctx.http().get(route.path);
      expect({ route: route.path, status: response.status }).toEqual({ route: route.path, status: 401 });
      expect(response.headers['content-type']).toMatch(/^text\/html/);
    }
  });

  it('answers an API key on a page with a 403 page: pages are for people, whatever the key’s scopes', async () => {
    const known = new Set(routesOf(defaults).map((r) => `${r.method} ${r.path}`));
    const pages = routesOf(ctx).filter((r) => !known.has(`${r.method} ${r.path}`));
    expect(pages.filter((r) => r.kinds?.includes('api_key'))).toEqual([]);
    for (const route of pages.filter((r) => !r.kinds?.includes('public'))) {
      const response = await ctx.http().get(route.path).set(bearer(key));
      expect({ route: route.path, status: response.status }).toEqual({ route: route.path, status: 403 });
      expect(response.text).not.toContain('adele');
      expect(response.headers['content-type']).toMatch(/^text\/html/);
    }
  });
});
