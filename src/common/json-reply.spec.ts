import express, { type Response } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { sendJson } from './json-reply.js';

/** The same handler answering through Express's `res.json` at `/express` and through `sendJson` at `/direct`. */
function appOf(prepare: (response: Response) => void, body: object) {
  const app = express();
  app.set('etag', false);
  app.get('/express', (_req, res) => {
    prepare(res);
    res.json(body);
  });
  app.get('/direct', (_req, res) => {
    prepare(res);
    if (!sendJson(res, body)) res.json(body);
  });
  return app;
}

/** Status, raw header lines in order (without Date) and body bytes. */
async function wire(
  app: express.Express,
  path: string,
  headers: Record<string, string> = {},
  method = 'get',
) {
  const call = (request(app) as unknown as Record<string, (p: string) => request.Test>)[method](path);
  for (const [name, value] of Object.entries(headers)) call.set(name, value);
  const response = await call.buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  });
  const raw = (response as unknown as { res: { rawHeaders: string[] } }).res.rawHeaders;
  const lines: string[] = [];
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].toLowerCase() !== 'date') lines.push(`${raw[i]}: ${raw[i + 1]}`);
  return { status: response.status, lines, body: (response.body as Buffer).toString('utf8') };
}

const small = { id: 'u1', email: 'adele@contoso.com', roles: ['admin'], active: true, n: 3, none: null };
const large = {
  items: Array.from({ length: 60 }, (_, i) => ({ id: `user-${i}`, name: `Ünïcode ${i} \u2028 "q"` })),
};

describe('sendJson', () => {
  it('answers with the status, headers (in order) and bytes of res.json, small and large bodies alike', async () => {
    for (const body of [small, large, []]) {
      const app = appOf((res) => res.status(201).setHeader('x-request-id', 'r1'), body);
      const direct = await wire(app, '/direct');
      expect(direct).toEqual(await wire(app, '/express'));
      expect(direct.status).toBe(201);
      expect(direct.lines).toContain('Content-Type: application/json; charset=utf-8');
      expect(JSON.parse(direct.body)).toEqual(body);
    }
  });

  it('completes a media type set without charset (as @Header sets it) as Express does', async () => {
    const app = appOf((res) => res.setHeader('Content-Type', 'application/scim+json'), small);
    const direct = await wire(app, '/direct');
    expect(direct).toEqual(await wire(app, '/express'));
    expect(direct.lines).toContain('Content-Type: application/scim+json; charset=utf-8');
  });

  it('keeps a media type set before (the SCIM endpoint’s) in its place', async () => {
    const app = appOf((res) => {
      res.setHeader('Content-Type', 'application/scim+json; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
    }, small);
    const direct = await wire(app, '/direct');
    expect(direct).toEqual(await wire(app, '/express'));
    expect(direct.lines.slice(1, 3)).toEqual([
      'Content-Type: application/scim+json; charset=utf-8',
      'Cache-Control: no-store',
    ]);
  });

  it('leaves to Express what it would answer differently: HEAD, conditional requests, ETags, other media types', async () => {
    const declined: string[] = [];
    const probe = (prepare: (response: Response) => void) => {
      const app = express();
      app.get('/x', (_req, res) => {
        prepare(res);
        if (!sendJson(res, small)) {
          declined.push(_req.method);
          res.json(small);
        }
      });
      return app;
    };
    await wire(
      probe(() => {}),
      '/x',
      {},
      'head',
    );
    await wire(
      probe(() => {}),
      '/x',
      { 'If-None-Match': '*' },
    );
    await wire(
      probe((res) => res.setHeader('ETag', 'W/"1"')),
      '/x',
    );
    await wire(
      probe((res) => res.setHeader('Content-Type', 'Application/JSON; charset=UTF-8')),
      '/x',
    );
    await wire(
      probe((res) => res.status(204)),
      '/x',
    );
    expect(declined).toHaveLength(5);
    // And a plain GET goes the direct way.
    await wire(
      probe(() => {}),
      '/x',
    );
    expect(declined).toHaveLength(5);
  });
});
