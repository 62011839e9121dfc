/**
 * npm run bench:webhooks [-- 1000]
 *
 * Webhook delivery under a sustained backlog, in two cases, each on a fresh service and database:
 *
 * - **one endpoint** subscribed to `user.*`: N deliveries (default 1,000) recorded and not yet received, all
 *   for the same endpoint. Deliveries to one endpoint go out one at a time, in event order, so this measures
 *   how fast one healthy endpoint is drained: at most one of the N is ever at the receiver.
 * - **many endpoints** (`BENCH_ENDPOINTS`, default 100) of one organization, each subscribed to `user.*`, so
 *   each event is one delivery per endpoint: N deliveries in flight are N / 100 events outstanding for every
 *   endpoint. 100 is what an integrator-heavy organization looks like at most: an HR system, an ITSM tool, a
 *   SIEM, an identity-governance product, a data warehouse loader and a few in-house services, each with a
 *   production, a staging and a development receiver, is a few dozen; 100 leaves room above that (Stripe caps
 *   an account at 16 endpoints). Thousands of endpoints are a whole service's worth of organizations, which
 *   shard the same way (one order per endpoint) but do not add a new effect.
 * - **slow endpoints** (`BENCH_SLOW_ENDPOINTS`, default 50, of which `BENCH_SLOW_COUNT`, default 3, answer
 *   after `BENCH_SLOW_MS`, default 5 s): a few customers' broken receivers among healthy ones. The N in flight
 *   are kept for the healthy endpoints only (the slow ones pile up a backlog, as a broken receiver does), and
 *   the delay and deliveries/s printed are the healthy endpoints': what the slow ones cost everyone else.
 *
 * Each case runs the built service (`node dist/src/main.js`, with the Node options of `npm run start:prod`, what
 * `npm start` runs, development configuration
 * so that `WEBHOOK_ALLOW_PRIVATE_URLS` lets it post to a loopback receiver) in its own process on an embedded
 * PostgreSQL of its own, endpoints created through the API, and a local http receiver that verifies every
 * signature and answers after `BENCH_RECEIVER_MS` (default 0: the receiver as fast as loopback allows).
 * Changes are produced so that N deliveries are always in flight for `BENCH_DURATION_S` (default 30 s).
 *
 * Printed per case: events/s and deliveries/s from change to delivery; the delay of each delivery (receiver
 * clock minus the event's `timestamp`, one machine's clock) at p50/p99; how many of the N in flight were
 * actually at the receiver (request received, not yet answered) and how many were queued in the service; the
 * service's CPU ms and PostgreSQL's CPU ms per delivery and PostgreSQL transactions per delivery (the
 * benchmark's own transactions taken off); per-endpoint order violations; the service's RSS before → peak,
 * sampled every 50 ms, and whether it is flat (the peak of the last third of the run is within 3 % of the
 * peak of the middle third); beside it the live heap after each full collection (`--trace-gc`), which tells
 * memory the service keeps from garbage not yet collected.
 *
 * How changes are produced: the benchmark writes them the way the service's outbox fans them out, in one
 * transaction per batch (up to 100 events, as a directory sync's `recordMany` does): the `events` rows (with
 * `tx_id`), one `webhook_deliveries` row per event and endpoint with the envelope as its payload, and the
 * pg-boss jobs the service's own fan-out would send (`deliveriesToEnqueue`, into its `webhook-delivery`
 * queue, in the same transaction). From there on everything is the service's real path: its workers fetch the
 * jobs, claim the attempts, sign, POST and record the outcomes. Producing the changes through API calls
 * instead would measure the API's write throughput and could not keep a fixed backlog in flight; the part
 * after the commit is the same.
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
import { deliveriesToEnqueue } from '../../src/webhooks/fan-out.js';
import {
  cpuMsOf,
  HeapTrace,
  memoryOf,
  postmasterOf,
  relaunch,
  resetPeak,
  signIn,
  startService,
} from './bench-support.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 30);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 100);
const RECEIVER_MS = Number(process.env.BENCH_RECEIVER_MS ?? 0);
const CASES = (process.env.BENCH_CASES ?? 'one,many,slow').split(',');
const SLOW_CASE_ENDPOINTS = Number(process.env.BENCH_SLOW_ENDPOINTS ?? 50);
const SLOW_COUNT = Number(process.env.BENCH_SLOW_COUNT ?? 3);
const SLOW_MS = Number(process.env.BENCH_SLOW_MS ?? 5000);
const MAX_BATCH_EVENTS = 100;
const DELIVERY_QUEUE = 'webhook-delivery';

/**
 * The local receiver of every endpoint (`/hooks/<n>`): verifies each delivery with its endpoint's secret,
 * notes when it arrived, how old its event was, and whether it came after a later event of the same endpoint.
 * Endpoints numbered below `slowCount` answer after `SLOW_MS`; their deliveries are counted apart.
 */
class Receiver {
  readonly delays: number[] = [];
  readonly seen = new Set<string>();
  /** Deliveries to the slow endpoints (distinct), not in `delays` or `seen`. */
  readonly slowSeen = new Set<string>();
  constructor(private readonly slowCount = 0) {}
  duplicates = 0;
  badSignatures = 0;
  outOfOrder = 0;
  /** Requests received and not yet answered. */
  open = 0;
  private readonly lastSeq = new Map<number, number>();
  private readonly verifiers = new Map<number, Webhook>();
  private server: Server | undefined;

  async listen(): Promise<string> {
    const port = await freePort();
    this.server = createServer((req, res) => {
      this.open += 1;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const now = Date.now();
        const endpoint = Number(req.url?.split('/').at(-1));
        const body = Buffer.concat(chunks).toString('utf8');
        type Delivered = { id: string; timestamp: string; data: { benchSeq: number } };
        let event: Delivered | undefined;
        try {
          event = this.verifiers
            .get(endpoint)
            ?.verify(body, req.headers as Record<string, string>) as Delivered;
        } catch {
          this.badSignatures += 1;
        }
        event ??= JSON.parse(body) as Delivered;
        const key = `${endpoint}:${event.id}`;
        const slow = endpoint < this.slowCount;
        if (this.seen.has(key) || this.slowSeen.has(key)) this.duplicates += 1;
        else {
          if (slow) this.slowSeen.add(key);
          else {
            this.seen.add(key);
            this.delays.push(now - Date.parse(event.timestamp));
          }
          if (event.data.benchSeq < (this.lastSeq.get(endpoint) ?? 0)) this.outOfOrder += 1;
          this.lastSeq.set(endpoint, Math.max(event.data.benchSeq, this.lastSeq.get(endpoint) ?? 0));
        }
        const answer = () => {
          this.open -= 1;
          res.writeHead(204).end();
        };
        const wait = slow ? SLOW_MS : RECEIVER_MS;
        if (wait > 0) setTimeout(answer, wait);
        else answer();
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    return `http://127.0.0.1:${port}/hooks`;
  }

  useSecret(endpoint: number, secret: string): void {
    this.verifiers.set(endpoint, new Webhook(secret));
  }

  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/** Transactions PostgreSQL has counted in the database so far (each statement outside a transaction is one). */
async function transactions(sql: pg.Client): Promise<number> {
  // Backends publish their counts at most once a second.
  await new Promise((r) => setTimeout(r, 1_500));
  const { rows } = await sql.query<{ n: string }>(
    'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(rows[0].n);
}

async function runCase(endpointCount: number, inFlightTarget: number, slowCount = 0): Promise<boolean> {
  const dir = process.env.BENCH_DIR!;
  const caseDir = join(dir, `case-${endpointCount}${slowCount > 0 ? '-slow' : ''}`);
  /** Deliveries of each event that count towards the target in flight (the healthy endpoints'). */
  const healthyCount = endpointCount - slowCount;
  const certificates = await ensureCertificates(join(dir, 'certs'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const database = await startEmbeddedPostgres({ dir: join(caseDir, 'postgres'), ephemeral: true });
  const emulator = await startEntraEmulator({
    tls: { cert: certificates.cert, key: certificates.key },
    clients: [{ ...DEMO.client, redirectUris: [`${baseUrl}/auth/microsoft/callback`] }],
  });
  const receiver = new Receiver(slowCount);
  const receiverUrl = await receiver.listen();
  const sql = new pg.Client({ connectionString: database.url });
  const stats = new pg.Client({ connectionString: database.url });
  let boss: PgBoss | undefined;
  let service: ChildProcess | undefined;
  const heap = new HeapTrace();
  try {
    service = await startService(
      {
        PORT: String(port),
        APP_BASE_URL: baseUrl,
        DATABASE_URL: database.url,
        DATA_DIR: join(caseDir, 'data'),
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
      heap,
    );
    const pid = service.pid!;
    const postmaster = postmasterOf(join(caseDir, 'postgres'));
    const token = await signIn(baseUrl, DEMO.users.adele.upn);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const me = (await (await fetch(`${baseUrl}/api/v1/me`, { headers })).json()) as {
      id: string;
      organizationId: string;
    };
    const endpointIds: string[] = [];
    for (let n = 0; n < endpointCount; n += 1) {
      const created = await fetch(`${baseUrl}/api/v1/webhooks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          url: `${receiverUrl}/${n}`,
          eventTypes: ['user.*'],
          description: `bench ${n}`,
        }),
      });
      if (!created.ok)
        throw new Error(`POST /api/v1/webhooks answered ${created.status}: ${await created.text()}`);
      const endpoint = (await created.json()) as { id: string; secret: string };
      receiver.useSecret(n, endpoint.secret);
      endpointIds.push(endpoint.id);
    }
    // `data` as the service writes it for a directory sync's deactivation: the REST user, reason, source
    // (and the benchmark's own sequence number, to check the order per endpoint).
    const user = (await (await fetch(`${baseUrl}/api/v1/users/${me.id}`, { headers })).json()) as object;
    const data = JSON.stringify({ user, reason: 'entra_account_disabled', source: 'sync' });

    await sql.connect();
    await stats.connect();
    boss = new PgBoss({ connectionString: database.url, schema: 'pgboss', supervise: false, schedule: false, migrate: false, max: 2 }); // prettier-ignore
    await boss.start();
    const jobs = boss;
    let benchSeq = 0;
    let ownTransactions = 0;

    /** One batch of changes, fanned out as the outbox does it: events, their deliveries and jobs, one commit. */
    const produce = async (events: number): Promise<void> => {
      await sql.query('BEGIN');
      try {
        const { rows } = await sql.query<{ id: string; endpoint_id: string; seq: string }>(
          `WITH e AS (
             INSERT INTO events (organization_id, type, data, tx_id)
             SELECT $1, 'user.deactivated', jsonb_set($2::jsonb, '{benchSeq}', to_jsonb($5::int + g)),
                    (pg_current_xact_id())::text::bigint
               FROM generate_series(1, $3) g
             RETURNING id, type, data, created_at)
           INSERT INTO webhook_deliveries (organization_id, endpoint_id, message_id, event_type, payload, next_attempt_at)
           SELECT $1, ep.id, e.id, e.type,
                  jsonb_build_object('id', e.id, 'type', e.type, 'data', e.data, 'timestamp',
                    to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
                  now()
             FROM e CROSS JOIN unnest($4::uuid[]) WITH ORDINALITY AS ep(id, n)
            ORDER BY (e.data->>'benchSeq')::int, ep.n
           RETURNING id, endpoint_id, seq::text`,
          [me.organizationId, data, events, endpointIds, benchSeq],
        );
        benchSeq += events;
        const enqueue = deliveriesToEnqueue(
          rows.map((row) => ({ id: row.id, endpointId: row.endpoint_id, seq: row.seq })),
        );
        await jobs.insert(
          enqueue.map((job) => ({ name: DELIVERY_QUEUE, data: job })),
          { db: { executeSql: (text: string, values: unknown[]) => sql.query(text, values) } },
        );
        await sql.query('COMMIT');
        ownTransactions += 1;
      } catch (error) {
        await sql.query('ROLLBACK');
        throw error;
      }
    };

    const xactsBefore = await transactions(stats);
    const cpuBefore = { service: cpuMsOf(pid), database: cpuMsOf(postmaster, true) };
    const rssBefore = memoryOf(pid).rss;
    const kernelPeak = resetPeak(pid);
    const rssSamples: { at: number; rss: number }[] = [];
    const inFlight: { total: number; atReceiver: number }[] = [];
    /** Deliveries recorded for the healthy endpoints, and for the slow ones. */
    let produced = 0;
    let producedSlow = 0;
    const sampler = setInterval(() => {
      rssSamples.push({ at: Date.now(), rss: memoryOf(pid).rss });
      inFlight.push({ total: produced - receiver.seen.size, atReceiver: receiver.open });
    }, 50);
    const started = Date.now();
    const until = started + DURATION_S * 1000;
    while (Date.now() < until) {
      const missing = inFlightTarget - (produced - receiver.seen.size);
      const events = Math.min(MAX_BATCH_EVENTS, Math.floor(missing / healthyCount));
      if (events > 0) {
        await produce(events);
        produced += events * healthyCount;
        producedSlow += events * slowCount;
      } else await new Promise((r) => setTimeout(r, 10));
    }
    const windowMs = Date.now() - started;
    const delivered = receiver.seen.size;
    clearInterval(sampler);
    // Costs cover the window and the 1.5 s the statistics need to arrive; the deliveries of those 1.5 s count.
    const xacts = (await transactions(stats)) - xactsBefore - ownTransactions - 1;
    const deliveredForCost = receiver.seen.size + receiver.slowSeen.size;
    const serviceCpu = (cpuMsOf(pid) - cpuBefore.service) / deliveredForCost;
    const databaseCpu = (cpuMsOf(postmaster, true) - cpuBefore.database) / deliveredForCost;
    const peak = Math.max(...rssSamples.map((s) => s.rss), kernelPeak ? memoryOf(pid).hwm : 0);
    const thirds = [0, 1, 2].map((i) =>
      Math.max(
        ...rssSamples
          .filter((s) => s.at >= started + (i * windowMs) / 3 && s.at < started + ((i + 1) * windowMs) / 3)
          .map((s) => s.rss),
      ),
    );
    // What the service keeps (live heap after each full collection), as opposed to garbage not yet collected.
    const liveThirds = [0, 1, 2].map((i) =>
      heap.liveBetween(started + (i * windowMs) / 3, started + ((i + 1) * windowMs) / 3),
    );
    const flat = thirds[2] <= thirds[1] * 1.03;
    const backlog = produced - delivered;
    const delays = [...receiver.delays].sort((a, b) => a - b);
    const rate = delivered / (windowMs / 1000);
    const steady = inFlight.slice(Math.floor(inFlight.length / 10));
    const meanTotal = mean(steady.map((s) => s.total));
    const meanAtReceiver = mean(steady.map((s) => s.atReceiver));
    const maxAtReceiver = Math.max(0, ...steady.map((s) => s.atReceiver));
    const { rows: states } = await sql.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status ORDER BY status',
    );

    const title =
      endpointCount === 1
        ? 'one endpoint (user.*)'
        : `${endpointCount} endpoints of one organization, each on user.* (every event → ${endpointCount} deliveries)`;
    const answering =
      slowCount > 0
        ? `${slowCount} of them answering after ${SLOW_MS} ms, the others after ${RECEIVER_MS} ms ` +
          `(figures below: the healthy endpoints, unless named slow)`
        : `receiver answering after ${RECEIVER_MS} ms`;
    console.log(
      `\n— ${title}; loopback ${answering}; ` +
        `${inFlightTarget.toLocaleString('en')} deliveries kept in flight for ${DURATION_S} s; ` +
        `changes fanned out in transactions of up to ${MAX_BATCH_EVENTS} events`,
    );
    console.log(
      `(load average: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')})\n`,
    );
    const row = (name: string, value: string) => console.log(`${name.padEnd(44)} ${value}`);
    row('deliveries recorded', produced.toLocaleString('en'));
    row('delivered (distinct event × endpoint)', delivered.toLocaleString('en'));
    if (slowCount > 0)
      row(
        'slow endpoints: delivered / recorded',
        `${receiver.slowSeen.size.toLocaleString('en')} / ${producedSlow.toLocaleString('en')}`,
      );
    row('deliveries/s, change → delivery', rate.toFixed(1));
    row('events/s, change → delivery to every endpoint', (rate / healthyCount).toFixed(1));
    row('delay p50 (receiver − event timestamp)', `${percentile(delays, 50)} ms`);
    row('delay p99', `${percentile(delays, 99)} ms`);
    row('delay max', `${delays.at(-1) ?? NaN} ms`);
    row(
      'in flight (mean after the first 10 %)',
      `${meanTotal.toFixed(0)}: ${(meanTotal - meanAtReceiver).toFixed(0)} queued, ` +
        `${meanAtReceiver.toFixed(1)} at the receiver (max ${maxAtReceiver})`,
    );
    row('service CPU ms per delivery', serviceCpu.toFixed(2));
    row('PostgreSQL CPU ms per delivery', databaseCpu.toFixed(2));
    row('PostgreSQL transactions per delivery', (xacts / deliveredForCost).toFixed(2));
    row(
      'still in flight at the end',
      `${backlog.toLocaleString('en')} (≈ ${(backlog / Math.max(rate, 0.001)).toFixed(0)} s more to drain)`,
    );
    row(
      'duplicates / bad signatures / out of order',
      `${receiver.duplicates} / ${receiver.badSignatures} / ${receiver.outOfOrder}`,
    );
    row('deliveries by status', states.map((s) => `${s.status} ${s.n}`).join(', '));
    row('service RSS before → peak (/proc)', `${Math.round(rssBefore)} MB → ${Math.round(peak)} MB`);
    row(
      'RSS peak per third of the run',
      `${thirds.map((t) => Math.round(t)).join(' → ')} MB (${flat ? 'flat' : 'GROWING'})` +
        (slowCount > 0 ? ' — not judged: the slow endpoints pile up a backlog by design' : ''),
    );
    row(
      'live heap after full GCs, per third',
      liveThirds.map((l) => (l ? `${l.maxMb.toFixed(1)} MB (${l.count})` : 'no full GC')).join(' → '),
    );
    return (
      receiver.badSignatures === 0 && receiver.outOfOrder === 0 && delivered > 0 && (flat || slowCount > 0)
    );
  } finally {
    await boss?.stop({ graceful: false, wait: true }).catch(() => undefined);
    await sql.end().catch(() => undefined);
    await stats.end().catch(() => undefined);
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

async function main(): Promise<void> {
  const inFlightTarget = Number(process.argv[2] ?? 1000);
  let ok = true;
  if (CASES.includes('one')) ok = (await runCase(1, inFlightTarget)) && ok;
  if (CASES.includes('many')) ok = (await runCase(ENDPOINTS, inFlightTarget)) && ok;
  if (CASES.includes('slow')) ok = (await runCase(SLOW_CASE_ENDPOINTS, inFlightTarget, SLOW_COUNT)) && ok;
  if (!ok) process.exitCode = 1;
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
