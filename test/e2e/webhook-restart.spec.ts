import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO, type EntraEmulator, startEntraEmulator } from '@entra-integration/entra-emulator';
import { freePort } from '../../src/database/embedded-postgres.js';
import { signIn } from '../bench/bench-support.js';
import { builtService, ROOT, type Built } from '../support/built.js';
import { createTestDatabase, TEST_KEYRING } from '../support/test-app.js';

/**
 * The built service in a process of its own, killed with SIGKILL while webhook deliveries are in flight (an
 * attempt sent and unanswered, others fetched from the queue or waiting), then started again on the same
 * database: every event reaches the receiver at least once, always under its own `webhook-id`.
 */

const EVENTS = 25;

/** Answers each delivery after 150 ms, so that a kill always finds one in flight. */
class Receiver {
  readonly requests: { id: string; verified: boolean; bodyId: string }[] = [];
  readonly answered = new Set<string>();
  open = 0;
  verifier?: Webhook;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const id = String(request.headers['webhook-id']);
        let verified = false;
        try {
          this.verifier?.verify(body, request.headers as Record<string, string>);
          verified = true;
        } catch {
          verified = false;
        }
        this.requests.push({ id, verified, bodyId: (JSON.parse(body) as { id: string }).id });
        this.open += 1;
        setTimeout(() => {
          this.open -= 1;
          // A response the killed service never reads does not count as delivered.
          if (response.socket?.destroyed) return;
          response.writeHead(204).end();
          this.answered.add(id);
        }, 150);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('killing the service mid-delivery and starting it again', () => {
  let built: Built;
  let emulator: EntraEmulator;
  let database: { url: string; drop(): Promise<void> };
  let env: Record<string, string>;
  let baseUrl: string;
  let service: ChildProcess | undefined;
  const receiver = new Receiver();

  const start = async () => {
    const child = spawn(process.execPath, [join(built.dir, 'src', 'main.js')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
      return fetch(`${baseUrl}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
    }, 'the service to be ready');
    return child;
  };
  const kill = async (child: ChildProcess) => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  beforeAll(async () => {
    built = await builtService('webhook-restart-spec');
    await receiver.start();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    emulator = await startEntraEmulator({
      tls: inject('emulatorTls'),
      clients: [{ ...DEMO.client, redirectUris: [`${baseUrl}/auth/microsoft/callback`] }],
    });
    database = await createTestDatabase();
    env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      PORT: String(port),
      APP_BASE_URL: baseUrl,
      DATABASE_URL: database.url,
      ENTRA_CLIENT_ID: DEMO.client.clientId,
      ENTRA_CLIENT_SECRET: DEMO.client.clientSecret,
      ENTRA_AUTHORITY_HOST: emulator.authorityHost,
      GRAPH_BASE_URL: emulator.graphBaseUrl,
      NODE_EXTRA_CA_CERTS: inject('emulatorTls').caPath,
      TOKEN_ENCRYPTION_KEYS: TEST_KEYRING,
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      // A short attempt timeout: an attempt the killed process left unanswered is taken up again sooner.
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_RETRY_DELAYS_SECONDS: '1,1,1',
      SYNC_WORKER_ENABLED: 'false',
      LOG_LEVEL: 'error',
    };
    // A fresh build when dist/ is not current takes a while on a busy machine.
  }, 180_000);
  afterAll(async () => {
    if (service && service.exitCode === null) await kill(service);
    await receiver.close();
    await emulator?.close();
    await database?.drop();
  });

  it('delivers every event at least once, each under its own webhook-id, none lost', async () => {
    service = await start();
    const token = await signIn(baseUrl, DEMO.users.adele.upn);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await fetch(`${baseUrl}/api/v1/webhooks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ url: receiver.url, eventTypes: ['invitation.*'] }),
    });
    expect(created.status).toBe(201);
    const webhook = (await created.json()) as { id: string; secret: string };
    receiver.verifier = new Webhook(webhook.secret);

    for (let i = 0; i < EVENTS; i += 1) {
      const invited = await fetch(`${baseUrl}/api/v1/invitations`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ email: `restart.${i}@contoso.com`, role: 'employee' }),
      });
      expect(invited.status).toBe(201);
    }
    // Mid-delivery: a few delivered, one sent and not yet answered.
    await until(() => receiver.answered.size >= 3 && receiver.open > 0, 'deliveries in flight');
    await kill(service);
    const deliveredBeforeKill = receiver.answered.size;
    expect(deliveredBeforeKill).toBeLessThan(EVENTS);

    service = await start();
    const feed = await fetch(`${baseUrl}/api/v1/events?types=invitation.created&limit=100`, { headers });
    const eventIds = ((await feed.json()) as { items: { id: string }[] }).items.map((e) => e.id);
    expect(eventIds).toHaveLength(EVENTS);
    await until(() => eventIds.every((id) => receiver.answered.has(id)), 'every event delivered');

    // Every request carried an event's id as its webhook-id, the body's id, and a valid signature.
    for (const request of receiver.requests) {
      expect(eventIds).toContain(request.id);
      expect(request.bodyId).toBe(request.id);
      expect(request.verified).toBe(true);
    }
    // At least once: only an attempt cut off by the kill may have reached the receiver twice.
    const sent = receiver.requests.map((r) => r.id);
    expect(sent.length - new Set(sent).size).toBeLessThanOrEqual(1);
    const deliveries = await fetch(`${baseUrl}/api/v1/webhooks/${webhook.id}/deliveries?limit=100`, {
      headers,
    });
    const items = ((await deliveries.json()) as { items: { messageId: string; status: string }[] }).items;
    expect(items.map((d) => d.messageId).sort()).toEqual([...eventIds].sort());
    expect(new Set(items.map((d) => d.status))).toEqual(new Set(['succeeded']));
  }, 120_000);
});
