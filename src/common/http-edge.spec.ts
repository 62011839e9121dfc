import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { inSequence, mountedAt, onceAtBoot } from './http-edge.js';

const options: Parameters<typeof helmet>[0] = {
  contentSecurityPolicy: { directives: { 'script-src': ["'self'"], 'img-src': ["'self'", 'data:'] } },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
};

async function headersOf(middleware: RequestHandler): Promise<Record<string, string>> {
  const app = express();
  app.use((_req, res, next) => {
    res.setHeader('X-Powered-By', 'whatever'); // helmet removes it
    next();
  });
  app.use(middleware);
  app.get('/page', (_req, res) => res.send('ok'));
  const response = await request(app).get('/page').expect(200);
  const headers = { ...response.headers } as Record<string, string>;
  for (const name of ['date', 'etag', 'content-length', 'connection', 'keep-alive']) delete headers[name];
  return headers;
}

describe('onceAtBoot', () => {
  it('answers with exactly the headers helmet sets on each request, X-Powered-By removed', async () => {
    const replayed = await headersOf(onceAtBoot(helmet(options)));
    expect(replayed).toEqual(await headersOf(helmet(options)));
    expect(replayed['content-security-policy']).toContain("script-src 'self'");
    expect(replayed['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(replayed['x-powered-by']).toBeUndefined();
  });

  it('refuses at boot a middleware whose headers depend on the request', () => {
    const perRequest: RequestHandler = (req, res, next) => {
      res.setHeader('X-Path', req.path);
      next();
    };
    expect(() => onceAtBoot(perRequest)).toThrow(/reads request\.path/);
  });

  it('refuses at boot a middleware that does more than set headers, or answers later', () => {
    const redirects: RequestHandler = (_req, res) => res.redirect('/elsewhere');
    expect(() => onceAtBoot(redirects)).toThrow();
    const later: RequestHandler = (_req, res, next) => void setTimeout(next, 1);
    expect(() => onceAtBoot(later)).toThrow(/did not call next\(\) synchronously/);
  });
});

describe('inSequence and mountedAt', () => {
  const tag =
    (name: string): RequestHandler =>
    (_req, res, next) => {
      res.append('X-Steps', name);
      next();
    };

  function appWith(middleware: RequestHandler) {
    const app = express();
    app.use(middleware);
    app.get('/{*rest}', (_req, res) => res.send('routed'));
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send(`error: ${error.message}`);
    });
    return app;
  }

  it('runs the steps in order, then routes; a step that answers ends the sequence', async () => {
    const answering: RequestHandler = (req, res, next) =>
      req.path === '/stop' ? void res.send('stopped') : next();
    const app = appWith(inSequence(tag('a'), answering, tag('b')));
    const routed = await request(app).get('/go').expect(200, 'routed');
    expect(routed.headers['x-steps']).toBe('a, b');
    const stopped = await request(app).get('/stop').expect(200, 'stopped');
    expect(stopped.headers['x-steps']).toBe('a');
  });

  it('hands an error, passed on or thrown, to Express and skips the rest', async () => {
    const failing: RequestHandler = (req, _res, next) => {
      if (req.path === '/throw') throw new Error('thrown');
      next(new Error('passed'));
    };
    const app = appWith(inSequence(tag('a'), failing, tag('b')));
    const passed = await request(app).get('/x').expect(500, 'error: passed');
    expect(passed.headers['x-steps']).toBe('a');
    await request(app).get('/throw').expect(500, 'error: thrown');
  });

  it('mounts a step on a path prefix as app.use does: any case, at a segment boundary only', async () => {
    const app = appWith(mountedAt('/api', tag('api')));
    for (const path of ['/api', '/api/', '/API/v1/me', '/api/x?y=1'])
      expect((await request(app).get(path)).headers['x-steps'], path).toBe('api');
    for (const path of ['/apix', '/docs/api', '/'])
      expect((await request(app).get(path)).headers['x-steps'], path).toBeUndefined();
  });
});
