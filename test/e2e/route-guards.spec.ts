import { readFileSync } from 'node:fs';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_KIND, type AuthKind } from '../../src/common/auth.decorators.js';
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

interface Route {
  method: string;
  path: string;
  /** What `@Auth(...)` names on the handler, else on its controller; undefined when neither does. */
  kinds: AuthKind[] | undefined;
}

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
      const schemes = (operation?.security ?? []).flatMap((requirement) => Object.keys(requirement)).sort();
      const expected = route.kinds?.includes('public') ? [] : ['bearer', 'session'];
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
        code: response.body.code,
      }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 401,
        code: 'UNAUTHENTICATED',
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
  beforeAll(async () => {
    ctx = await createTestContext({ APP_UI_URL: 'http://localhost:3000' });
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
});
