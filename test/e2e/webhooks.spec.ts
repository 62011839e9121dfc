import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO } from '@entra-integration/entra-emulator';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerOf, type TestOwner } from '../support/factory.js';
import { addMember } from '../support/seed.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const { adele, megan, diego } = DEMO.users;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on loopback: each path answers as its script says (status codes, or a delay). */
class Receiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, (number | 'slow')[]>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        this.received.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        const script = this.scripts.get(path) ?? [];
        const next = script.length > 1 ? script.shift()! : (script[0] ?? 200);
        if (next === 'slow') {
          setTimeout(() => response.writeHead(200).end('late'), 5_000).unref();
          return;
        }
        response.writeHead(next, { location: 'http://169.254.169.254/' }).end(next < 300 ? 'ok' : 'nope');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  script(path: string, answers: (number | 'slow')[]): string {
    this.scripts.set(path, answers);
    return `${this.url}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Waits for a condition the worker brings about (it polls the queue); fails the test if it never comes. */
async function eventually<T>(probe: () => Promise<T | undefined | false>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('webhooks', () => {
  let ctx: TestContext;
  let contoso: TestOwner;
  let fabrikam: TestOwner;
  let meganId: string;
  const receiver = new Receiver();
  const env = { WEBHOOK_RETRY_DELAYS_SECONDS: '1,1', WEBHOOK_TIMEOUT_MS: '1000' };

  const create = (owner: TestOwner | string, body: Record<string, unknown>) =>
    ctx
      .http()
      .post('/api/v1/webhooks')
      .set(bearer(typeof owner === 'string' ? owner : owner.token))
      .send(body);
  const deliveries = async (owner: TestOwner, id: string) =>
    (await ctx.http().get(`/api/v1/webhooks/${id}/deliveries`).set(bearer(owner.token)).expect(200)).body
      .items as {
      id: string;
      status: string;
      attempts: number;
      eventType: string;
      messageId: string;
      error: string | null;
      responseStatus: number | null;
      responseBody: string | null;
      durationMs: number | null;
    }[];
  const changeRole = (role: string) =>
    ctx.http().patch(`/api/v1/users/${meganId}`).set(bearer(contoso.token)).send({ role }).expect(200);

  beforeAll(async () => {
    await receiver.start();
    ctx = await createTestContext(env);
    contoso = await ownerOf(ctx, adele.upn, { seatLimit: 10 });
    fabrikam = await ownerOf(ctx, diego.upn);
    meganId = await addMember(ctx, contoso.organizationId, megan, DEMO.tenants.contoso.id, 'employee');
  });
  afterAll(async () => {
    await ctx?.close();
    await receiver.close();
  });

  it('delivers each matching event signed per Standard Webhooks, with the feed’s envelope', async () => {
    const created = await create(contoso, {
      url: receiver.script('/ok', [200]),
      eventTypes: ['user.*'],
    }).expect(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    const shown = await ctx
      .http()
      .get(`/api/v1/webhooks/${created.body.id}`)
      .set(bearer(contoso.token))
      .expect(200);
    expect(shown.body).not.toHaveProperty('secret');
    const stored = await ctx.sql.query('SELECT secret_ciphertext FROM webhook_endpoints');
    expect(JSON.stringify(stored.rows)).not.toContain(secret.slice(6));

    await changeRole('manager');
    const [hit] = await eventually(
      async () => receiver.at('/ok').length > 0 && receiver.at('/ok'),
      'a delivery',
    );
    const payload = new Webhook(secret).verify(hit.body, hit.headers as Record<string, string>) as {
      id: string;
      type: string;
      data: { user: { id: string; role: string } };
    };
    expect(payload).toMatchObject({
      type: 'user.role_changed',
      data: { user: { id: meganId, role: 'manager' } },
    });
    expect(hit.headers['webhook-id']).toBe(payload.id);
    const feed = await ctx
      .http()
      .get('/api/v1/events?types=user.role_changed')
      .set(bearer(contoso.token))
      .expect(200);
    expect(feed.body.items.at(-1)).toEqual(payload);
    // Tampering is caught by the receiver's library.
    expect(() =>
      new Webhook(secret).verify(hit.body.replace('manager', 'owner'), hit.headers as Record<string, string>),
    ).toThrow();

    const log = await eventually(async () => {
      const items = await deliveries(contoso, created.body.id);
      return items[0]?.status === 'succeeded' && items;
    }, 'the delivery to succeed');
    expect(log[0]).toMatchObject({
      attempts: 1,
      responseStatus: 200,
      responseBody: 'ok',
      eventType: 'user.role_changed',
    });
    expect(log[0].durationMs).toEqual(expect.any(Number));
    await ctx.http().delete(`/api/v1/webhooks/${created.body.id}`).set(bearer(contoso.token)).expect(204);
  });

  it('retries a 500 with the same webhook-id and delivers once, never following a redirect', async () => {
    const created = await create(contoso, {
      url: receiver.script('/flaky', [500, 302, 200]),
      eventTypes: ['user.role_changed'],
    }).expect(201);
    await changeRole('employee');
    const log = await eventually(async () => {
      const items = await deliveries(contoso, created.body.id);
      return items[0]?.status === 'succeeded' && items;
    }, 'the retried delivery to succeed');
    expect(log).toHaveLength(1);
    expect(log[0].attempts).toBe(3);
    const hits = receiver.at('/flaky');
    expect(hits).toHaveLength(3);
    expect(new Set(hits.map((h) => h.headers['webhook-id']))).toEqual(new Set([log[0].messageId]));
    expect(receiver.received.some((r) => r.path === '/latest')).toBe(false);
    await ctx.http().delete(`/api/v1/webhooks/${created.body.id}`).set(bearer(contoso.token)).expect(204);
  });

  it('times out a slow receiver, gives up after the last retry and disables the endpoint (audited)', async () => {
    const created = await create(contoso, {
      url: receiver.script('/slow', ['slow']),
      eventTypes: ['*'],
    }).expect(201);
    await changeRole('manager');
    const log = await eventually(async () => {
      const items = await deliveries(contoso, created.body.id);
      return items[0]?.status === 'failed' && items;
    }, 'the delivery to give up');
    expect(log[0]).toMatchObject({ attempts: 3, error: 'timeout', responseStatus: null });
    const endpoint = await ctx
      .http()
      .get(`/api/v1/webhooks/${created.body.id}`)
      .set(bearer(contoso.token))
      .expect(200);
    expect(endpoint.body).toMatchObject({ enabled: false, disabledReason: 'failing' });
    const audit = await ctx
      .http()
      .get(`/api/v1/audit-events?targetId=${created.body.id}&action=webhook.disabled`)
      .set(bearer(contoso.token))
      .expect(200);
    expect(audit.body.items[0].actor.type).toBe('system');

    // A person fixes the receiver, re-enables the endpoint and retries the failed delivery.
    receiver.script('/slow', [200]);
    await ctx
      .http()
      .patch(`/api/v1/webhooks/${created.body.id}`)
      .set(bearer(contoso.token))
      .send({ enabled: true })
      .expect(200);
    await ctx
      .http()
      .post(`/api/v1/webhooks/${created.body.id}/deliveries/${log[0].id}/retry`)
      .set(bearer(contoso.token))
      .expect(202);
    await eventually(
      async () => (await deliveries(contoso, created.body.id))[0]?.status === 'succeeded',
      'the retry',
    );
    const again = await ctx
      .http()
      .post(`/api/v1/webhooks/${created.body.id}/deliveries/00000000-0000-4000-8000-000000000000/retry`)
      .set(bearer(contoso.token))
      .expect(404);
    expect(again.body.code).toBe('WEBHOOK_DELIVERY_NOT_FOUND');
    await ctx.http().delete(`/api/v1/webhooks/${created.body.id}`).set(bearer(contoso.token)).expect(204);
  });

  it('signs with both secrets while a rolled secret overlaps, and pings on request', async () => {
    const created = await create(contoso, {
      url: receiver.script('/roll', [200]),
      eventTypes: ['sync.*'],
    }).expect(201);
    const rolled = await ctx
      .http()
      .post(`/api/v1/webhooks/${created.body.id}/secret/roll`)
      .set(bearer(contoso.token))
      .send({ overlapHours: 2 })
      .expect(200);
    expect(rolled.body.secret).not.toBe(created.body.secret);
    expect(rolled.body.previousSecretExpiresAt).toEqual(expect.any(String));
    const ping = await ctx
      .http()
      .post(`/api/v1/webhooks/${created.body.id}/test`)
      .set(bearer(contoso.token))
      .expect(202);
    expect(ping.body).toMatchObject({ eventType: 'webhook.ping', status: 'pending' });
    const [hit] = await eventually(
      async () => receiver.at('/roll').length > 0 && receiver.at('/roll'),
      'the ping',
    );
    expect(String(hit.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [created.body.secret, rolled.body.secret])
      expect(new Webhook(secret).verify(hit.body, hit.headers as Record<string, string>)).toMatchObject({
        type: 'webhook.ping',
        data: { webhookId: created.body.id },
      });
    await ctx.http().delete(`/api/v1/webhooks/${created.body.id}`).set(bearer(contoso.token)).expect(204);
  });

  it('keeps organizations apart and takes webhooks:manage from a key', async () => {
    const mine = await create(contoso, { url: receiver.script('/mine', [200]), eventTypes: ['*'] }).expect(
      201,
    );
    for (const path of [`/api/v1/webhooks/${mine.body.id}`, `/api/v1/webhooks/${mine.body.id}/deliveries`]) {
      const foreign = await ctx.http().get(path).set(bearer(fabrikam.token)).expect(404);
      expect(foreign.body.code).toBe('WEBHOOK_NOT_FOUND');
    }
    expect(
      (await ctx.http().get('/api/v1/webhooks').set(bearer(fabrikam.token)).expect(200)).body.items,
    ).toEqual([]);
    // Fabrikam's changes never reach Contoso's endpoint.
    const before = receiver.at('/mine').length;
    const fabrikamKey = await ctx
      .http()
      .post('/api/v1/api-keys')
      .set(bearer(fabrikam.token))
      .send({ name: 'hooks', scopes: ['webhooks:manage'] })
      .expect(201);
    const theirs = await create(fabrikamKey.body.key, {
      url: receiver.script('/theirs', [200]),
      eventTypes: ['*'],
    }).expect(201);
    await ctx
      .http()
      .post(`/api/v1/webhooks/${theirs.body.id}/test`)
      .set(bearer(fabrikamKey.body.key))
      .expect(202);
    await eventually(async () => receiver.at('/theirs').length > 0, 'fabrikam’s ping');
    expect(receiver.at('/mine').length).toBe(before);

    const reader = await ctx
      .http()
      .post('/api/v1/api-keys')
      .set(bearer(contoso.token))
      .send({ name: 'r', scopes: ['users:read'] })
      .expect(201);
    const refused = await ctx.http().get('/api/v1/webhooks').set(bearer(reader.body.key)).expect(403);
    expect(refused.body).toMatchObject({ code: 'INSUFFICIENT_SCOPE', requiredScopes: ['webhooks:manage'] });
    const unknownType = await create(contoso, {
      url: receiver.script('/x', [200]),
      eventTypes: ['user.exploded'],
    }).expect(400);
    expect(unknownType.body.code).toBe('VALIDATION_FAILED');
    await ctx.http().delete(`/api/v1/webhooks/${mine.body.id}`).set(bearer(contoso.token)).expect(204);
  });

  it('loses nothing across a restart: a delivery recorded while no worker ran is delivered after', async () => {
    await ctx.reopen({ ...env, WEBHOOK_WORKER_ENABLED: 'false' });
    const created = await create(contoso, {
      url: receiver.script('/restart', [200]),
      eventTypes: ['user.*'],
    }).expect(201);
    await changeRole('employee');
    expect((await deliveries(contoso, created.body.id))[0]).toMatchObject({ status: 'pending', attempts: 0 });
    await ctx.reopen(env);
    await eventually(
      async () => (await deliveries(contoso, created.body.id))[0]?.status === 'succeeded',
      'delivery after restart',
    );
    expect(receiver.at('/restart')).toHaveLength(1);
  });

  it('refuses http, loopback, private and metadata URLs outside development', async () => {
    await ctx.reopen({ ...env, WEBHOOK_ALLOW_PRIVATE_URLS: 'false' });
    for (const url of [
      `${receiver.url}/x`,
      'https://127.0.0.1/x',
      'https://10.0.0.8/x',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/x',
      'https://localhost/x',
    ]) {
      const refused = await create(contoso, { url, eventTypes: ['*'] }).expect(400);
      expect({ url, code: refused.body.code }).toEqual({ url, code: 'WEBHOOK_URL_REFUSED' });
    }
  });
});
