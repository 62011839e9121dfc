import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerOf, type TestOwner } from '../support/factory.js';
import { addMember } from '../support/seed.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const { adele, megan } = DEMO.users;

/**
 * A receiver on loopback that takes its time (a different delay for each request, up to 60 ms), so that
 * attempts made side by side would arrive out of order; it answers 500 to the first attempt of the ids it
 * is told to refuse once.
 */
class SlowReceiver {
  readonly arrivals: { id: string; status: number }[] = [];
  readonly refuseOnce = new Set<string>();
  private server!: Server;
  private n = 0;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const id = String(request.headers['webhook-id']);
        const status = this.refuseOnce.delete(id) ? 500 : 200;
        this.arrivals.push({ id, status });
        // Deterministic but uneven delays: 0, 37, 14, 51, 28, 5, ... ms.
        const delay = (this.n++ * 37) % 61;
        setTimeout(() => response.writeHead(status).end(status === 200 ? 'ok' : 'nope'), delay);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function eventually<T>(probe: () => Promise<T | undefined | false>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('webhook deliveries go out in event order per endpoint', () => {
  let ctx: TestContext;
  let contoso: TestOwner;
  let meganId: string;
  const receiver = new SlowReceiver();
  const env = { WEBHOOK_RETRY_DELAYS_SECONDS: '1,1,1', WEBHOOK_TIMEOUT_MS: '2000' };
  const roles = ['manager', 'employee', 'admin'];

  /** `count` role changes recorded while no worker runs, so their jobs are all waiting when workers start. */
  const backlog = async (count: number): Promise<string[]> => {
    await ctx.reopen({ ...env, WEBHOOK_WORKER_ENABLED: 'false' });
    const before = await ctx
      .http()
      .get('/api/v1/events?types=user.role_changed&limit=500')
      .set(bearer(contoso.token))
      .expect(200);
    for (let i = 0; i < count; i += 1)
      await ctx
        .http()
        .patch(`/api/v1/users/${meganId}`)
        .set(bearer(contoso.token))
        .send({ role: roles[i % roles.length] })
        .expect(200);
    const after = await ctx
      .http()
      .get(`/api/v1/events?types=user.role_changed&limit=500&after=${before.body.nextCursor ?? ''}`)
      .set(bearer(contoso.token))
      .expect(200);
    const ids = (after.body.items as { id: string }[]).map((e) => e.id);
    expect(ids).toHaveLength(count);
    return ids;
  };
  const deliveredAll = (ids: string[]) =>
    eventually(async () => {
      const ok = new Set(receiver.arrivals.filter((a) => a.status === 200).map((a) => a.id));
      return ids.every((id) => ok.has(id));
    }, `${ids.length} deliveries`);

  beforeAll(async () => {
    await receiver.start();
    ctx = await createTestContext(env);
    contoso = await ownerOf(ctx, adele.upn, { seatLimit: 10 });
    meganId = await addMember(ctx, contoso.organizationId, megan, DEMO.tenants.contoso.id, 'employee');
    await ctx
      .http()
      .post('/api/v1/webhooks')
      .set(bearer(contoso.token))
      .send({ url: receiver.url, eventTypes: ['user.role_changed'] })
      .expect(201);
  });
  afterAll(async () => {
    await ctx?.close();
    await receiver.close();
  });

  it('when every attempt succeeds, the receiver gets the events in the order of the feed, each once', async () => {
    const ids = await backlog(30);
    receiver.arrivals.length = 0;
    await ctx.reopen(env);
    await deliveredAll(ids);
    expect(receiver.arrivals.map((a) => a.id)).toEqual(ids);
  });

  it('a delivery waiting out a retry is overtaken; every first attempt still goes out in event order', async () => {
    const ids = await backlog(8);
    receiver.arrivals.length = 0;
    receiver.refuseOnce.add(ids[1]);
    await ctx.reopen(env);
    await deliveredAll(ids);
    const firstAttempts = receiver.arrivals.filter(
      (a, i) => receiver.arrivals.findIndex((b) => b.id === a.id) === i,
    );
    expect(firstAttempts.map((a) => a.id)).toEqual(ids);
    expect(receiver.arrivals.filter((a) => a.id === ids[1]).map((a) => a.status)).toEqual([500, 200]);
    // The retry of the second event came after the third event's delivery: order is not kept across a retry.
    const retried = receiver.arrivals.findIndex((a) => a.id === ids[1] && a.status === 200);
    expect(retried).toBeGreaterThan(receiver.arrivals.findIndex((a) => a.id === ids[2]));
  });
});
