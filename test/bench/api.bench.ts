/**
 * npm run bench:api [-- 100000]
 *
 * The read API of a large organization, as deployed: the built service (`node dist/src/main.js`, with the Node
 * options of `npm run start:prod`,
 * NODE_ENV=production, default log level) in its own process on a PostgreSQL of its own, N linked users in one
 * organization (bulk SQL, then VACUUM ANALYZE as autovacuum would after such a load), driven by autocannon with
 * 10 connections and a Bearer session token obtained through the real sign-in with the Entra emulator.
 * Prints req/s, p50 and p99 for `GET /api/v1/me`, the users list's first page, a deep cursor page and searches,
 * for each WEB_CONCURRENCY in BENCH_WORKERS (default `1,2`: one process and two workers, side by side), with the
 * CPU per request of the service's processes and of the database's, and a verdict against each target. Fails
 * (exit 1) when no configuration meets every target.
 */
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { DEMO, ensureCertificates, startEntraEmulator } from '@entra-integration/entra-emulator';
import { encodeCursor } from '../../src/common/pagination.js';
import { freePort, startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import {
  configurationName,
  costPerRequest,
  type Deployment,
  type Measurement,
  CELLS_HEADER,
  CELLS_LEGEND,
  cells,
  loadAverage,
  plannedDeployments,
  relaunch,
  stopDeployments,
  signInBehindProxy,
  startDeployedService,
} from './bench-support.js';

const CONNECTIONS = 10;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = 3;

interface Target {
  name: string;
  path: string;
  minRps?: number;
  /** p99 must stay below this (strictly). */
  maxP99Ms: number;
}

const FIRST_NAMES = [
  'Adele', 'Alex', 'Allan', 'Ben', 'Chloe', 'Christie', 'Dana', 'Debra', 'Diego', 'Emily',
  'Enrico', 'Grady', 'Henrietta', 'Irvin', 'Isaiah', 'Jan', 'Johanna', 'Joni', 'Kayla', 'Lee',
  'Lidia', 'Lynne', 'Megan', 'Miriam', 'Nestor', 'Nora', 'Omar', 'Patti', 'Pradeep', 'Raul',
  'Rosa', 'Sam', 'Sandra', 'Tomas', 'Uma', 'Vera', 'Wanda', 'Xavier', 'Yuki', 'Zoe',
]; // prettier-ignore
const LAST_NAMES = [
  'Bowen', 'Campos', 'Deyoung', 'Gonzalez', 'Holt', 'Johnson', 'Kim', 'Lambert', 'Lopez', 'Martin',
  'Meyer', 'Nguyen', 'Olsen', 'Patel', 'Quinn', 'Reyes', 'Rossi', 'Schmidt', 'Smith', 'Tanaka',
  'Vance', 'Weber', 'Wilber', 'Young', 'Zimmer', 'Adams', 'Brooks', 'Clark', 'Dubois', 'Evans',
  'Fischer', 'Garcia', 'Hughes', 'Ivanova', 'Jensen', 'Kowalski', 'Larsen', 'Moreau', 'Novak', 'Ortiz',
  'Perez', 'Ramos', 'Silva', 'Torres', 'Ueda', 'Varga', 'Walsh', 'Xu', 'Yilmaz', 'Zhang',
]; // prettier-ignore

/**
 * A term few seeded users match: the last name and number of the address of user N/21 (`first.lastN@…`). Longer
 * numbers that start with N carry another last name, so at 100,000 users it matches exactly one.
 */
function rareTerm(users: number): string {
  const n = Math.floor(users / 21);
  return `${LAST_NAMES[Math.floor(n / 40) % 50].toLowerCase()}${n}`;
}

/**
 * N active, Microsoft-linked employees in the organization, one statement: `first.lastN@contoso.com`,
 * "First Last" (2,000 distinct names), created 10 ms apart before the owner.
 */
async function seed(databaseUrl: string, organizationId: string, users: number): Promise<number> {
  const started = Date.now();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `WITH u AS (
         INSERT INTO users (organization_id, email, display_name, role, role_source, status, created_at, updated_at)
         SELECT $1,
                lower(($3::text[])[1 + n % 40]) || '.' || lower(($4::text[])[1 + (n / 40) % 50]) || n || '@contoso.com',
                ($3::text[])[1 + n % 40] || ' ' || ($4::text[])[1 + (n / 40) % 50],
                'employee', 'default', 'active', now() - ($2 - n) * interval '10 ms', now()
           FROM generate_series(1, $2) AS n
         RETURNING id, email)
       INSERT INTO microsoft_identities (user_id, tenant_id, object_id, user_principal_name)
       SELECT id, $5, gen_random_uuid(), email FROM u`,
      [organizationId, users, FIRST_NAMES, LAST_NAMES, DEMO.tenants.contoso.id],
    );
    await client.query('VACUUM ANALYZE users');
    await client.query('VACUUM ANALYZE microsoft_identities');
  } finally {
    await client.end();
  }
  return Date.now() - started;
}

/** The cursor a client holds after paging to `position` in the list (as the API encodes it). */
async function cursorAt(databaseUrl: string, organizationId: string, position: number): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; created_at: Date }>(
      'SELECT id, created_at FROM users WHERE organization_id = $1 ORDER BY created_at, id OFFSET $2 LIMIT 1',
      [organizationId, position - 1],
    );
    return encodeCursor({ id: rows[0].id, createdAt: rows[0].created_at });
  } finally {
    await client.end();
  }
}

async function load(url: string, token: string, seconds: number) {
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  });
}

/** A deployment of bench-support, with the Bearer session signed in on it. */
type SignedIn = Deployment & { token?: string };

async function main(): Promise<void> {
  const users = Number(process.argv[2] ?? 100_000);
  const dir = process.env.BENCH_DIR!;
  const certificates = await ensureCertificates(join(dir, 'certs'));
  const deployments: SignedIn[] = await plannedDeployments(freePort);
  const database = await startEmbeddedPostgres({ dir: join(dir, 'postgres'), ephemeral: true });
  const emulator = await startEntraEmulator({
    tls: { cert: certificates.cert, key: certificates.key },
    clients: [
      {
        ...DEMO.client,
        redirectUris: deployments.flatMap((d) => [
          `${d.publicUrl}/auth/microsoft/callback`,
          `${d.publicUrl}/auth/microsoft/connect/callback`,
        ]),
      },
    ],
  });
  try {
    // One after the other: the first applies the migrations, the others find the schema up to date.
    for (const deployment of deployments) {
      deployment.service = await startDeployedService({
        port: deployment.port,
        publicUrl: deployment.publicUrl,
        databaseUrl: database.url,
        emulatorUrl: emulator.url,
        encryptionKeySeed: 7,
        workers: deployment.workers,
      });
      deployment.token = await signInBehindProxy(
        deployment.localUrl,
        deployment.publicUrl,
        DEMO.users.adele.upn,
      );
    }
    const [first] = deployments;
    const me = (await (
      await fetch(`${first.localUrl}/api/v1/me`, { headers: { authorization: `Bearer ${first.token}` } })
    ).json()) as { organizationId: string };
    const seededMs = await seed(database.url, me.organizationId, users);
    const deep = await cursorAt(database.url, me.organizationId, Math.floor(users * 0.9));
    console.log(
      `\n— ${users.toLocaleString('en')} linked users in one organization (seeded in ${seededMs} ms); ` +
        `${CONNECTIONS} connections, Bearer, ${DURATION_S} s each after ${WARMUP_S} s of warm-up; ` +
        `${deployments.map((d) => configurationName(d.workers)).join(' and ')} (WEB_CONCURRENCY), ` +
        `each target measured on each back to back (load average ${loadAverage()})\n`,
    );

    const rare = rareTerm(users);
    const targets: Target[] = [
      { name: 'GET /api/v1/me', path: '/api/v1/me', minRps: 1500, maxP99Ms: 25 },
      { name: 'users, first page (limit=50)', path: '/api/v1/users?limit=50', minRps: 800, maxP99Ms: 25 },
      {
        name: `users, deep cursor (after ${Math.floor(users * 0.9).toLocaleString('en')})`,
        path: `/api/v1/users?limit=50&cursor=${deep}`,
        minRps: 800,
        maxP99Ms: 25,
      },
      {
        name: 'users, search=megan (a first name)',
        path: '/api/v1/users?limit=50&search=megan',
        maxP99Ms: 50,
      },
      { name: `users, search=${rare} (rare)`, path: `/api/v1/users?limit=50&search=${rare}`, maxP99Ms: 50 },
      // 1–2 characters are refused (400 SEARCH_TERM_TOO_SHORT); the shortest term that matches nobody:
      { name: 'users, search=zzz (no match)', path: '/api/v1/users?limit=50&search=zzz', maxP99Ms: 50 },
    ];
    // BENCH_ONLY=me,first: only the targets whose name contains one of these words.
    const only = process.env.BENCH_ONLY?.split(',');
    const measured: { target: Target; results: Measurement[] }[] = [];
    for (const target of targets.filter((t) => !only || only.some((word) => t.name.includes(word)))) {
      const results: Measurement[] = [];
      for (const deployment of deployments) {
        const url = `${deployment.localUrl}${target.path}`;
        const check = await fetch(url, { headers: { authorization: `Bearer ${deployment.token}` } });
        if (!check.ok) throw new Error(`${target.path} answered ${check.status}: ${await check.text()}`);
        await load(url, deployment.token!, WARMUP_S);
        const { cost, result } = await costPerRequest(
          deployment.service!.pid!,
          join(dir, 'postgres'),
          database.url,
          async () => {
            const result = await load(url, deployment.token!, DURATION_S);
            return { requests: result.requests.total, result };
          },
        );
        const bad = result.non2xx + result.errors + result.timeouts;
        const rps = result.requests.average;
        const met =
          bad === 0 &&
          (target.minRps === undefined || rps >= target.minRps) &&
          // The issue's targets are strict (p99 < 25 ms); autocannon's percentiles are whole milliseconds.
          result.latency.p99 < target.maxP99Ms;
        results.push({ rps, p50: result.latency.p50, p99: result.latency.p99, bad, cost, met });
        console.log(
          `${target.name.padEnd(42)} ${configurationName(deployment.workers).padEnd(10)} ` +
            `${cells(results[results.length - 1])}  (load average ${loadAverage()})`,
        );
      }
      measured.push({ target, results });
    }

    const width = cells(measured[0].results[0]).length;
    console.log(
      `\n${''.padEnd(42)} ${deployments.map((d) => `| ${configurationName(d.workers).padEnd(width)} `).join('')}`,
    );
    console.log(
      `${'request'.padEnd(42)} ${deployments.map(() => `| ${CELLS_HEADER.padEnd(width)} `).join('')}| target`,
    );
    console.log(CELLS_LEGEND);
    console.log(`(load average at the end: ${loadAverage()})`);
    for (const { target, results } of measured) {
      const goal = `${target.minRps ? `≥ ${target.minRps} req/s, ` : ''}p99 < ${target.maxP99Ms} ms`;
      console.log(`${target.name.padEnd(42)} ${results.map((r) => `| ${cells(r)} `).join('')}| ${goal}`);
    }
    const meetingAll = deployments.filter((_, i) => measured.every(({ results }) => results[i].met));
    console.log(
      `\nevery target met by: ${meetingAll.map((d) => configurationName(d.workers)).join(', ') || 'no configuration'}`,
    );
    if (meetingAll.length === 0) process.exitCode = 1;
  } finally {
    await stopDeployments(deployments);
    await emulator.close();
    await database.stop();
  }
}

if (!process.env.NODE_EXTRA_CA_CERTS || !process.env.BENCH_DIR) {
  void relaunch('bench-api-');
} else {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
