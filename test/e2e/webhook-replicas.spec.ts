import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DEMO } from '@entra-integration/entra-emulator';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { ownerOf, type TestOwner } from '../support/factory.js';
import { addMember } from '../support/seed.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const { adele, megan } = DEMO.users;
const ENDPOINTS = 4;

/**
 * One loopback receiver for several endpoints (`/hook/<n>`): notes which event ids arrive at which endpoint,
 * in arrival order, and answers after an uneven delay (0–40 ms), so that attempts made side by side would
 * overlap and arrive out of order.
 */
class Receiver {
  readonly arrivals = new Map<number, string[]>();
  private server!: Server;
  private n = 0;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const endpoint = Number(req.url?.split('/').at(-1));
        const list = this.arrivals.get(endpoint) ?? [];
        list.push(String(req.headers['webhook-id']));
        this.arrivals.set(endpoint, list);
        setTimeout(() => res.writeHead(204).end(), (this.n++ * 17) % 41);
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

async function eventually(probe: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('webhook deliveries shared by two service instances on one database', () => {
  let ctx: TestContext;
  let second: NestExpressApplication | undefined;
  let contoso: TestOwner;
  let meganId: string;
  const receiver = new Receiver();
  const env = { WEBHOOK_RETRY_DELAYS_SECONDS: '1,1,1', WEBHOOK_TIMEOUT_MS: '2000' };
  const roles = ['manager', 'employee', 'admin'];

  beforeAll(async () => {
    await receiver.start();
    ctx = await createTestContext(env);
    contoso = await ownerOf(ctx, adele.upn, { seatLimit: 10 });
    meganId = await addMember(ctx, contoso.organizationId, megan, DEMO.tenants.contoso.id, 'employee');
    for (let n = 0; n < ENDPOINTS; n += 1)
      await ctx
        .http()
        .post('/api/v1/webhooks')
        .set(bearer(contoso.token))
        .send({ url: `${receiver.url}/${n}`, eventTypes: ['user.role_changed'] })
        .expect(201);
  });
  afterAll(async () => {
    await second?.close();
    await ctx?.close();
    await receiver.close();
  });

  it('delivers every event once to each endpoint, in event order, whichever instance records or sends it', async () => {
    // A backlog recorded while no worker runs, so that both instances start on it together...
    await ctx.reopen({ ...env, WEBHOOK_WORKER_ENABLED: 'false' });
    const host = new URL(ctx.config.appBaseUrl).host;
    const change = (app: NestExpressApplication, i: number) =>
      request(app.getHttpServer())
        .patch(`/api/v1/users/${meganId}`)
        .set('Host', host)
        .set(bearer(contoso.token))
        .send({ role: roles[i % roles.length] })
        .expect(200);
    for (let i = 0; i < 20; i += 1) await change(ctx.app, i);
    await ctx.reopen(env);
    second = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot(ctx.config, ctx.config.databaseUrl!),
      { logger: ['fatal'], abortOnError: false },
    );
    configureApp(second, ctx.config);
    await second.init();
    // ...and more changes while both deliver, recorded through either of them.
    for (let i = 20; i < 40; i += 1) await change(i % 2 === 0 ? ctx.app : second, i);

    const feed = await ctx
      .http()
      .get('/api/v1/events?types=user.role_changed&limit=100')
      .set(bearer(contoso.token))
      .expect(200);
    const ids = (feed.body.items as { id: string }[]).map((event) => event.id);
    expect(ids).toHaveLength(40);
    await eventually(
      () => [...Array(ENDPOINTS).keys()].every((n) => (receiver.arrivals.get(n)?.length ?? 0) >= ids.length),
      'every event at every endpoint',
    );
    // Let any duplicate arrive before judging.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (let n = 0; n < ENDPOINTS; n += 1) expect(receiver.arrivals.get(n)).toEqual(ids);
  }, 90_000);
});
