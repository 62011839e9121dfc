/**
 * npm run bench:webhooks [-- 1000]
 *
 * Webhook delivery under a sustained backlog: the built service (`node dist/src/main.js`, what `npm start`
 * runs, development configuration so that `WEBHOOK_ALLOW_PRIVATE_URLS` lets it post to a loopback receiver)
 * in its own process on an embedded PostgreSQL of its own, one endpoint subscribed to `user.*` (created
 * through the API), and a local http receiver that verifies every signature. Changes are produced so that
 * N deliveries (default 1,000) are always in flight — recorded but not yet received — for
 * `BENCH_DURATION_S` (default 30 s). Measures events/s from change to delivery, the delay of each delivery
 * (receiver clock minus the event's `timestamp`, both this machine's clock), and the service's RSS from /proc
 * before → peak.
 *
 * How changes are produced: the benchmark writes them the way the service's outbox fans them out, in one
 * transaction per batch of 100 (as a directory sync's `recordMany` does): the `events` rows (with `tx_id`),
 * one `webhook_deliveries` row per event for the endpoint with the envelope as its payload, and the pg-boss
 * job of each delivery (`insert` into the service's `webhook-delivery` queue, in the same transaction). From
 * there on everything is the service's real path: its workers fetch the jobs, claim the attempt, sign, POST
 * and record the outcome. Producing the changes through API calls instead would measure the API's write
 * throughput and could not keep a fixed backlog in flight; the part after the commit is the same.
 */
import { type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { Webhook } from 'standardwebhooks';
import { DEMO, ensureCertificates, startEntraEmulator } from '@entra-integration/entra-emulator';
import { freePort, startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { memoryOf, relaunch, resetPeak, signIn, startService } from './bench-support.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 30);
const BATCH = 100;
const DELIVERY_QUEUE = 'webhook-delivery';

/** The local receiver: verifies each delivery and notes when it arrived and how old its event was. */
class Receiver {
  readonly delays: number[] = [];
  readonly seen = new Set<string>();
  duplicates = 0;
  badSignatures = 0;
  firstAt = 0;
  lastAt = 0;
  private server: Server | undefined;
  private verifier: Webhook | undefined;

  async listen(): Promise<string> {
    const port = await freePort();
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const now = Date.now();
        const body = Buffer.concat(chunks).toString('utf8');
        let event: { id: string; timestamp: string } | undefined;
        try {
          event = this.verifier?.verify(body, req.headers as Record<string, string>) as typeof event;
        } catch {
          this.badSignatures += 1;
        }
        event ??= JSON.parse(body) as { id: string; timestamp: string };
        if (this.seen.has(event.id)) this.duplicates += 1;
        else {
          this.seen.add(event.id);
          this.delays.push(now - Date.parse(event.timestamp));
          this.firstAt ||= now;
          this.lastAt = now;
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    return `http://127.0.0.1:${port}/hooks/entra`;
  }

  useSecret(secret: string): void {
    this.verifier = new Webhook(secret);
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const inFlightTarget = Number(process.argv[2] ?? 1000);
  const dir = process.env.BENCH_DIR!;
  const certificates = await ensureCertificates(join(dir, 'certs'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const database = await startEmbeddedPostgres({ dir: join(dir, 'postgres'), ephemeral: true });
  const emulator = await startEntraEmulator({
    tls: { cert: certificates.cert, key: certificates.key },
    clients: [{ ...DEMO.client, redirectUris: [`${baseUrl}/auth/microsoft/callback`] }],
  });
  const receiver = new Receiver();
  const receiverUrl = await receiver.listen();
  const sql = new pg.Client({ connectionString: database.url });
  let boss: PgBoss | undefined;
  let service: ChildProcess | undefined;
  try {
    service = await startService(
      {
        PORT: String(port),
        APP_BASE_URL: baseUrl,
        DATABASE_URL: database.url,
        DATA_DIR: join(dir, 'data'),
        ENTRA_CLIENT_ID: DEMO.client.clientId,
        ENTRA_CLIENT_SECRET: DEMO.client.clientSecret,
        ENTRA_AUTHORITY_HOST: emulator.url,
        GRAPH_BASE_URL: emulator.url,
        NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS!,
        TOKEN_ENCRYPTION_KEYS: `bench:${Buffer.alloc(32, 9).toString('base64')}`,
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
        LOG_LEVEL: 'error',
      },
      baseUrl,
    );
    const pid = service.pid!;
    const token = await signIn(baseUrl, DEMO.users.adele.upn);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const me = (await (await fetch(`${baseUrl}/api/v1/me`, { headers })).json()) as {
      id: string;
      organizationId: string;
    };
    const created = await fetch(`${baseUrl}/api/v1/webhooks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ url: receiverUrl, eventTypes: ['user.*'], description: 'benchmark' }),
    });
    if (!created.ok)
      throw new Error(`POST /api/v1/webhooks answered ${created.status}: ${await created.text()}`);
    const endpoint = (await created.json()) as { id: string; secret: string };
    receiver.useSecret(endpoint.secret);
    // `data` as the service writes it for a directory sync's deactivation: the REST user, reason, source.
    const user = (await (await fetch(`${baseUrl}/api/v1/users/${me.id}`, { headers })).json()) as object;
    const data = JSON.stringify({ user, reason: 'entra_account_disabled', source: 'sync' });

    await sql.connect();
    boss = new PgBoss({ connectionString: database.url, schema: 'pgboss', supervise: false, schedule: false, migrate: false, max: 2 }); // prettier-ignore
    await boss.start();
    const jobs = boss;

    /** One batch of changes, fanned out as the outbox does it: events, their deliveries and jobs, one commit. */
    const produce = async (count: number): Promise<void> => {
      await sql.query('BEGIN');
      try {
        const { rows } = await sql.query<{ id: string }>(
          `WITH e AS (
             INSERT INTO events (organization_id, type, data, tx_id)
             SELECT $1, 'user.deactivated', $2::jsonb, (pg_current_xact_id())::text::bigint
               FROM generate_series(1, $3)
             RETURNING id, type, data, created_at)
           INSERT INTO webhook_deliveries (organization_id, endpoint_id, message_id, event_type, payload, next_attempt_at)
           SELECT $1, $4, e.id, e.type,
                  jsonb_build_object('id', e.id, 'type', e.type, 'data', e.data, 'timestamp',
                    to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
                  now()
             FROM e
           RETURNING id`,
          [me.organizationId, data, count, endpoint.id],
        );
        await jobs.insert(
          rows.map((row) => ({ name: DELIVERY_QUEUE, data: { deliveryId: row.id } })),
          { db: { executeSql: (text: string, values: unknown[]) => sql.query(text, values) } },
        );
        await sql.query('COMMIT');
      } catch (error) {
        await sql.query('ROLLBACK');
        throw error;
      }
    };

    const rssBefore = memoryOf(pid).rss;
    const kernelPeak = resetPeak(pid);
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(pid).rss)), 50);
    let produced = 0;
    const inFlight: number[] = [];
    const started = Date.now();
    const until = started + DURATION_S * 1000;
    while (Date.now() < until) {
      const missing = inFlightTarget - (produced - receiver.seen.size);
      if (missing > 0) {
        const count = Math.min(BATCH, missing);
        await produce(count);
        produced += count;
      } else await new Promise((r) => setTimeout(r, 10));
      inFlight.push(produced - receiver.seen.size);
    }
    const windowMs = Date.now() - started;
    const delivered = receiver.seen.size;
    clearInterval(sampler);
    if (kernelPeak) peak = Math.max(peak, memoryOf(pid).hwm);
    const backlog = produced - delivered;
    const delays = [...receiver.delays].sort((a, b) => a - b);
    const rate = delivered / (windowMs / 1000);
    const steady = inFlight.slice(Math.floor(inFlight.length / 10));
    const meanInFlight = steady.reduce((a, b) => a + b, 0) / Math.max(1, steady.length);
    const { rows: states } = await sql.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status ORDER BY status',
    );

    console.log(
      `\n— one endpoint (user.*) on a loopback receiver; ${inFlightTarget.toLocaleString('en')} deliveries kept in flight ` +
        `for ${DURATION_S} s; changes fanned out in batches of ${BATCH}`,
    );
    console.log(
      `(load average: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')})\n`,
    );
    const row = (name: string, value: string) => console.log(`${name.padEnd(40)} ${value}`);
    row('changes recorded', produced.toLocaleString('en'));
    row('delivered (distinct events)', delivered.toLocaleString('en'));
    row('events/s, change → delivery', rate.toFixed(1));
    row('in flight (mean after the first 10 %)', meanInFlight.toFixed(0));
    row('delay p50 (receiver − event timestamp)', `${percentile(delays, 50)} ms`);
    row('delay p99', `${percentile(delays, 99)} ms`);
    row('delay max', `${delays.at(-1) ?? NaN} ms`);
    row(
      'still in flight at the end',
      `${backlog.toLocaleString('en')} (≈ ${(backlog / Math.max(rate, 0.001)).toFixed(0)} s more to drain)`,
    );
    row('duplicates / bad signatures', `${receiver.duplicates} / ${receiver.badSignatures}`);
    row('deliveries by status', states.map((s) => `${s.status} ${s.n}`).join(', '));
    row('service RSS before → peak (/proc)', `${Math.round(rssBefore)} MB → ${Math.round(peak)} MB`);
    if (receiver.badSignatures > 0 || delivered === 0) process.exitCode = 1;
  } finally {
    await boss?.stop({ graceful: false, wait: true }).catch(() => undefined);
    await sql.end().catch(() => undefined);
    if (service && service.exitCode === null) {
      const exited = new Promise((r) => service!.once('exit', r));
      service.kill('SIGTERM');
      await exited;
    }
    await receiver.close();
    await emulator.close();
    await database.stop();
  }
}

if (!process.env.NODE_EXTRA_CA_CERTS || !process.env.BENCH_DIR) {
  void relaunch('bench-webhooks-');
} else {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
