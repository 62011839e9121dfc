import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { ownerOf, type TestOwner } from '../support/factory.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const { adele, diego } = DEMO.users;

/**
 * A receiver on loopback: `/hang/...` paths never answer until `release()` (a customer's broken receiver),
 * any other path answers 200 at once. The log keeps, in order, each request's arrival and each hanging
 * request the service gave up on (its connection closed unanswered: the attempt timed out).
 */
class Receiver {
  readonly log: { what: 'arrived' | 'gave up'; path: string }[] = [];
  private readonly held = new Set<ServerResponse>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const path = request.url ?? '/';
        this.log.push({ what: 'arrived', path });
        if (!path.startsWith('/hang/')) {
          response.writeHead(200).end('ok');
          return;
        }
        this.held.add(response);
        response.on('close', () => {
          this.held.delete(response);
          if (!response.writableFinished) this.log.push({ what: 'gave up', path });
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Hanging requests still waiting for their answer. */
  get hanging(): number {
    return this.held.size;
  }

  index(what: 'arrived' | 'gave up', path?: string): number {
    return this.log.findIndex((entry) => entry.what === what && (path === undefined || entry.path === path));
  }

  /** Answers every hanging request (200), so that they stop holding the service's attempts. */
  release(): void {
    for (const response of this.held) response.writeHead(200).end('late');
  }

  close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function eventually(probe: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a slow webhook endpoint holds up only its own deliveries', () => {
  let ctx: TestContext;
  let contoso: TestOwner;
  let fabrikam: TestOwner;
  const receiver = new Receiver();
  // Long enough that the hanging attempts are all still open when the other organization's ping goes out,
  // on a busy machine; the test never waits for it unless the service stalls.
  const env = { WEBHOOK_TIMEOUT_MS: '20000', WEBHOOK_RETRY_DELAYS_SECONDS: '600' };

  const endpoint = async (owner: TestOwner, path: string): Promise<string> =>
    (
      await ctx
        .http()
        .post('/api/v1/webhooks')
        .set(bearer(owner.token))
        .send({ url: `${receiver.url}${path}`, eventTypes: ['user.role_changed'] })
        .expect(201)
    ).body.id as string;
  const ping = (owner: TestOwner, id: string) =>
    ctx.http().post(`/api/v1/webhooks/${id}/test`).set(bearer(owner.token)).expect(202);
  /** `count` of Contoso's endpoints, each pinged once its previous one's attempt hangs at the receiver. */
  const hangEndpoints = async (prefix: string, count: number): Promise<void> => {
    for (let n = 0; n < count; n += 1) {
      const path = `/hang/${prefix}-${n}`;
      await ping(contoso, await endpoint(contoso, path));
      await eventually(() => receiver.index('arrived', path) >= 0, `the attempt at ${path}`);
    }
  };

  beforeAll(async () => {
    await receiver.start();
    ctx = await createTestContext(env);
    contoso = await ownerOf(ctx, adele.upn);
    fabrikam = await ownerOf(ctx, diego.upn);
  });
  afterAll(async () => {
    receiver.release();
    await ctx?.close();
    await receiver.close();
  });

  it('another organization’s delivery arrives while four endpoints hang until the timeout', async () => {
    // Four: as many attempts as once stalled a replica's every worker, each waiting for its hanging batch.
    await hangEndpoints('a', 4);
    const healthy = await endpoint(fabrikam, '/fabrikam');
    await ping(fabrikam, healthy);
    await eventually(
      () => receiver.index('arrived', '/fabrikam') >= 0 || receiver.index('gave up') >= 0,
      'the healthy delivery, or a hanging attempt to time out',
    );
    // It arrived while every hanging attempt was still waiting for its answer.
    expect(receiver.index('gave up')).toBe(-1);
    expect(receiver.index('arrived', '/fabrikam')).toBeGreaterThan(receiver.index('arrived', '/hang/a-3'));
    expect(receiver.hanging).toBe(4);
    receiver.release();
  }, 90_000);

  it('with WEBHOOK_CONCURRENCY=2 and two attempts hanging, the next delivery waits for a free slot', async () => {
    await ctx.reopen({ ...env, WEBHOOK_TIMEOUT_MS: '8000', WEBHOOK_CONCURRENCY: '2' });
    await hangEndpoints('b', 2);
    const healthy = await endpoint(fabrikam, '/fabrikam-2');
    await ping(fabrikam, healthy);
    await eventually(() => receiver.index('arrived', '/fabrikam-2') >= 0, 'the delivery in the freed slot');
    // Both slots were held until the first hanging attempt timed out; the receiver saw that first.
    const gaveUp = receiver.index('gave up');
    expect(gaveUp).toBeGreaterThanOrEqual(0);
    expect(receiver.log[gaveUp].path).toMatch(/^\/hang\/b-/);
    expect(receiver.index('arrived', '/fabrikam-2')).toBeGreaterThan(gaveUp);
  }, 90_000);

  it('refuses a WEBHOOK_CONCURRENCY that is not a whole number from 1 to 1000, naming it', () => {
    expect(loadConfig({}).webhooks.concurrency).toBe(40);
    for (const value of ['0', '1001', 'many', '2.5'])
      expect(() => loadConfig({ WEBHOOK_CONCURRENCY: value })).toThrow(
        expect.objectContaining({
          constructor: ConfigError,
          problems: [expect.stringContaining('WEBHOOK_CONCURRENCY')],
        }),
      );
  });
});
