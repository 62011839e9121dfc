import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { onceAtBoot } from './http-edge.js';

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
