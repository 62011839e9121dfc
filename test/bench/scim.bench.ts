/**
 * npm run bench:scim [-- 100000]
 *
 * The SCIM endpoint of a large organization, as deployed: the built service (`node dist/src/main.js`, with the
 * Node options of `npm run start:prod`,
 * NODE_ENV=production) in its own process on a PostgreSQL of its own, N SCIM users in one Enterprise organization
 * (one created through the endpoint, the rest cloned from it in SQL, then VACUUM ANALYZE), driven by autocannon with
 * 10 connections and a SCIM token created through the REST API. Prints req/s, p50 and p99 for
 * `GET /Users?filter=userName eq "…"` (a different user each request), `POST /Users` and `PATCH active` (Entra's
 * non-compliant form), then the time of an initial cycle of 10,000 assigned users pushed by the emulator's
 * provisioning simulator. Targets from issue 12: ≥ 1,000 req/s with p99 < 50 ms for the query, ≥ 300/s for the writes.
 * The query's line also says what one request cost: service and database CPU ms, and database transactions.
 * Each request is measured for every WEB_CONCURRENCY of BENCH_WORKERS (default `1,2`: one process and two workers,
 * all services on the same database, measured back to back, side by side in the table); the cycle runs once, on
 * the last of them.
 *
 * BENCH_PROFILE=<dir>: the service writes a V8 CPU profile there when it stops. BENCH_SERVICE=<main.js>: another
 * build of the service (an earlier commit's), to compare back to back. BENCH_ONLY=GET,POST: only the requests whose
 * name contains one of these words (BENCH_CYCLE_USERS=0 leaves out the cycle).
 */
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { DEMO, ensureCertificates, startEntraEmulator } from '@entra-integration/entra-emulator';
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
  startDeployedService,
  signInBehindProxy,
  stopDeployments,
} from './bench-support.js';
import { createScimToken } from './scim-support.js';

const CONNECTIONS = 10;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = 3;
const CYCLE_USERS = Number(process.env.BENCH_CYCLE_USERS ?? 10_000);
const CYCLE_CONCURRENCY = Number(process.env.BENCH_CYCLE_CONCURRENCY ?? 4);
const SCIM_JSON = 'application/scim+json';

const userName = (n: number) => `bench.user${n}@contoso.com`;

/**
 * N SCIM users: one POSTed through the endpoint as the template, then N-1 copies of its `users` and `scim_users`
 * rows with their own ids, userName, email and display name — every other column exactly as the service wrote it.
 */
async function seed(sql: pg.Client, tenantUrl: string, token: string, organizationId: string, count: number) {
  const started = Date.now();
  const response = await fetch(`${tenantUrl}/Users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: userName(0),
      externalId: 'bench.user0',
      active: true,
      displayName: 'Bench User 0',
      name: { givenName: 'Bench', familyName: 'User 0' },
      emails: [{ primary: true, type: 'work', value: userName(0) }],
    }),
  });
  if (response.status !== 201)
    throw new Error(`POST /Users answered ${response.status}: ${await response.text()}`);
  const template = ((await response.json()) as { id: string }).id;
  await sql.query(
    'CREATE TEMP TABLE bench_ids AS SELECT n, gen_random_uuid() AS id FROM generate_series(1, $1) n',
    [count - 1],
  );
  // Every column but the generated ones, which PostgreSQL computes (and refuses a value for).
  const {
    rows: [{ columns }],
  } = await sql.query<{ columns: string }>(
    `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) AS columns
       FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'users' AND is_generated = 'NEVER'`,
  );
  await sql.query(
    `INSERT INTO users (${columns})
     SELECT ${columns} FROM (
       SELECT (jsonb_populate_record(NULL::users, to_jsonb(u) || jsonb_build_object(
                 'id', b.id, 'email', 'bench.user' || b.n || '@contoso.com', 'display_name', 'Bench User ' || b.n,
                 'created_at', u.created_at - b.n * interval '1 ms'))).*
         FROM users u, bench_ids b WHERE u.id = $1 AND u.organization_id = $2) c`,
    [template, organizationId],
  );
  await sql.query(
    `INSERT INTO scim_users
     SELECT (jsonb_populate_record(NULL::scim_users, to_jsonb(s) || jsonb_build_object(
               'user_id', b.id,
               'user_name', 'bench.user' || b.n || '@contoso.com',
               'user_name_lower', 'bench.user' || b.n || '@contoso.com',
               'external_id', 'bench.user' || b.n,
               'display_name_lower', 'bench user ' || b.n,
               'emails_lower', ARRAY['bench.user' || b.n || '@contoso.com'],
               'attributes', s.attributes || jsonb_build_object(
                  'userName', 'bench.user' || b.n || '@contoso.com', 'externalId', 'bench.user' || b.n,
                  'displayName', 'Bench User ' || b.n,
                  'emails', jsonb_build_array(jsonb_build_object('primary', true, 'type', 'work',
                             'value', 'bench.user' || b.n || '@contoso.com'))),
               'raw', s.raw || jsonb_build_object('userName', 'bench.user' || b.n || '@contoso.com'),
               'created_at', s.created_at - b.n * interval '1 ms'))).*
       FROM scim_users s, bench_ids b WHERE s.user_id = $1`,
    [template],
  );
  await sql.query('VACUUM ANALYZE users');
  await sql.query('VACUUM ANALYZE scim_users');
  const { rows } = await sql.query<{ id: string }>('SELECT id::text FROM bench_ids ORDER BY n LIMIT 50000');
  return { ms: Date.now() - started, ids: [template, ...rows.map((r) => r.id)] };
}

/** One request's measurements, one per configuration of BENCH_WORKERS. */
interface Row {
  name: string;
  minRps: number;
  maxP99Ms?: number;
  results: Measurement[];
}

async function load(options: autocannon.Options, seconds: number): Promise<autocannon.Result> {
  return autocannon({ connections: CONNECTIONS, duration: seconds, ...options });
}

/**
 * An initial cycle of CYCLE_USERS users newly assigned to the app (nobody else in scope) pushed by the emulator's
 * provisioning simulator with CYCLE_CONCURRENCY requests in flight, after its Test Connection.
 */
async function initialCycle(
  emulator: Awaited<ReturnType<typeof startEntraEmulator>>,
  tenantUrl: string,
  token: string,
) {
  const store = emulator.store;
  for (const a of store.assignmentsOf(DEMO.tenants.contoso.id, DEMO.client.clientId)) {
    store.unassignFromApp(a.tenantId, a.clientId, a.principalId);
  }
  for (const id of store.generateUsers(DEMO.tenants.contoso.id, CYCLE_USERS)) {
    store.assignToApp({ tenantId: DEMO.tenants.contoso.id, clientId: DEMO.client.clientId, principalId: id });
  }
  const job = emulator.provisioning.createJob({
    tenantId: DEMO.tenants.contoso.id,
    clientId: DEMO.client.clientId,
    tenantUrl,
    token,
    concurrency: CYCLE_CONCURRENCY,
  });
  const test = await emulator.provisioning.testConnection(job.id);
  if (!test.ok) throw new Error(`Test Connection failed: ${test.error}`);
  return emulator.provisioning.runCycle(job.id);
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 100_000);
  const dir = process.env.BENCH_DIR!;
  const certificates = await ensureCertificates(join(dir, 'certs'));
  const deployments = await plannedDeployments(freePort);
  const database = await startEmbeddedPostgres({ dir: join(dir, 'postgres'), ephemeral: true });
  const emulator = await startEntraEmulator({
    tls: { cert: certificates.cert, key: certificates.key },
    clients: [
      { ...DEMO.client, redirectUris: deployments.map((d) => `${d.publicUrl}/auth/microsoft/callback`) },
    ],
  });
  const sql = new pg.Client({ connectionString: database.url });
  try {
    // One after the other: the first applies the migrations, the others find the schema up to date.
    for (const deployment of deployments)
      deployment.service = await startDeployedService({
        port: deployment.port,
        publicUrl: deployment.publicUrl,
        databaseUrl: database.url,
        emulatorUrl: emulator.url,
        encryptionKeySeed: 9,
        workers: deployment.workers,
      });
    const [first] = deployments;
    const session = await signInBehindProxy(first.localUrl, first.publicUrl, DEMO.users.adele.upn);
    const me = (await (
      await fetch(`${first.localUrl}/api/v1/me`, { headers: { authorization: `Bearer ${session}` } })
    ).json()) as { organizationId: string };
    await sql.connect();
    // What `npm run cli -- orgs:set-plan … enterprise` and `orgs:set-seats` do, straight in SQL.
    await sql.query(`UPDATE organizations SET plan = 'enterprise', seat_limit = 1000000 WHERE id = $1`, [
      me.organizationId,
    ]);
    // The token is the organization's: every deployment (all on the same database) accepts it.
    const { token } = await createScimToken(first.localUrl, session, 'bench');
    const tenantUrlOf = (deployment: Deployment) => `${deployment.localUrl}/scim/v2`;
    const seeded = await seed(sql, tenantUrlOf(first), token, me.organizationId, count);
    console.log(
      `\n— ${count.toLocaleString('en')} SCIM users in one organization (seeded in ${seeded.ms} ms); ` +
        `${CONNECTIONS} connections, ${DURATION_S} s each after ${WARMUP_S} s of warm-up; ` +
        `${deployments.map((d) => configurationName(d.workers)).join(' and ')} (WEB_CONCURRENCY), ` +
        `each request measured on each back to back\n`,
    );
    const headers = {
      authorization: `Bearer ${token}`,
      accept: SCIM_JSON,
      'content-type': 'application/json',
    };

    for (const deployment of deployments) {
      const check = await fetch(
        `${tenantUrlOf(deployment)}/Users?filter=${encodeURIComponent(`userName eq "${userName(Math.floor(count / 2))}"`)}`,
        { headers },
      );
      const found = (await check.json()) as { totalResults?: number };
      if (check.status !== 200 || found.totalResults !== 1) {
        throw new Error(`the query for a seeded user answered ${check.status} ${JSON.stringify(found)}`);
      }
    }

    let query = 0;
    const queryOptions = (tenantUrl: string): autocannon.Options => ({
      url: tenantUrl,
      headers,
      requests: [
        {
          setupRequest: (request) => {
            const n = (query = (query * 7919 + 104729) % count);
            request.path = `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName(n)}"`)}`;
            return request;
          },
        },
      ],
    });
    let created = 0;
    const postOptions = (tenantUrl: string): autocannon.Options => ({
      url: `${tenantUrl}/Users`,
      method: 'POST',
      headers,
      requests: [
        {
          setupRequest: (request) => {
            const n = ++created;
            request.body = JSON.stringify({
              schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
              userName: `bench.new${n}@contoso.com`,
              externalId: `bench.new${n}`,
              active: true,
              displayName: `Bench New ${n}`,
              emails: [{ primary: true, type: 'work', value: `bench.new${n}@contoso.com` }],
            });
            return request;
          },
        },
      ],
    });
    let patched = 0;
    const patchOptions = (tenantUrl: string): autocannon.Options => ({
      url: tenantUrl,
      method: 'PATCH',
      headers,
      requests: [
        {
          setupRequest: (request) => {
            const i = patched++;
            const id = seeded.ids[i % seeded.ids.length];
            // Off on the first pass over the ids, on again on the next.
            const value = Math.floor(i / seeded.ids.length) % 2 === 0 ? 'False' : 'True';
            request.path = `/scim/v2/Users/${id}`;
            request.body = JSON.stringify({
              schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
              Operations: [{ op: 'Replace', path: 'active', value }],
            });
            return request;
          },
        },
      ],
    });

    const rows: Row[] = [];
    // BENCH_ONLY=get,post,patch,cycle: only the parts whose name contains one of these words (any case).
    const only = process.env.BENCH_ONLY?.toLowerCase().split(',');
    const wanted = (name: string) => !only || only.some((word) => name.toLowerCase().includes(word));
    const measure = async (
      name: string,
      options: (tenantUrl: string) => autocannon.Options,
      minRps: number,
      maxP99Ms?: number,
    ) => {
      if (!wanted(name)) return;
      const row: Row = { name, minRps, maxP99Ms, results: [] };
      for (const deployment of deployments) {
        await load(options(tenantUrlOf(deployment)), WARMUP_S);
        const { cost, result } = await costPerRequest(
          deployment.service!.pid!,
          join(dir, 'postgres'),
          database.url,
          async () => {
            const result = await load(options(tenantUrlOf(deployment)), DURATION_S);
            return { requests: Math.max(1, result.requests.total), result };
          },
        );
        const bad = result.non2xx + result.errors + result.timeouts;
        const rps = result.requests.average;
        const met = bad === 0 && rps >= minRps && (maxP99Ms === undefined || result.latency.p99 < maxP99Ms);
        row.results.push({ rps, p50: result.latency.p50, p99: result.latency.p99, bad, cost, met });
        console.log(
          `${name} (${configurationName(deployment.workers)}): ${rps.toFixed(0)} req/s, p50 ${result.latency.p50} ms, ` +
            `p99 ${result.latency.p99} ms, CPU ms/req API ${cost.serviceCpuMs.toFixed(2)} db ${cost.databaseCpuMs.toFixed(2)}, ` +
            `${cost.transactions.toFixed(2)} db xact/req (load average ${loadAverage()})`,
        );
      }
      rows.push(row);
    };
    await measure('GET /Users?filter=userName eq "…"', queryOptions, 1000, 50);
    await measure('POST /Users', postOptions, 300);
    await measure('PATCH /Users/{id} active', patchOptions, 300);

    // The provisioning simulator: an initial cycle of CYCLE_USERS assigned users, nobody else in scope, pushed to
    // the last configuration (the most workers, by default).
    const last = deployments[deployments.length - 1];
    const cycle = wanted('cycle') ? await initialCycle(emulator, tenantUrlOf(last), token) : null;
    const cycleLoad = loadAverage();

    if (rows.length > 0) {
      const width = cells(rows[0].results[0]).length;
      console.log(
        `\n${''.padEnd(36)} ${deployments.map((d) => `| ${configurationName(d.workers).padEnd(width)} `).join('')}`,
      );
      console.log(
        `${'request'.padEnd(36)} ${deployments.map(() => `| ${CELLS_HEADER.padEnd(width)} `).join('')}| target`,
      );
      console.log(CELLS_LEGEND);
      console.log(`(load average at the end: ${loadAverage()})`);
    }
    for (const { name, minRps, maxP99Ms, results } of rows) {
      const goal = `≥ ${minRps} req/s${maxP99Ms ? `, p99 < ${maxP99Ms} ms` : ''}`;
      console.log(`${name.padEnd(36)} ${results.map((r) => `| ${cells(r)} `).join('')}| ${goal}`);
    }
    const meetingAll = deployments.filter((_, i) => rows.every(({ results }) => results[i].met));
    let failed = rows.length > 0 && meetingAll.length === 0;
    if (rows.length > 0)
      console.log(
        `\nevery request target met by: ${meetingAll.map((d) => configurationName(d.workers)).join(', ') || 'no configuration'}`,
      );
    if (cycle) {
      const cycleOk = cycle.failed === 0 && cycle.usersCreated === CYCLE_USERS;
      failed ||= !cycleOk;
      console.log(
        `\ninitial cycle of ${CYCLE_USERS.toLocaleString('en')} users through the provisioning simulator ` +
          `(${configurationName(last.workers)}, concurrency ${CYCLE_CONCURRENCY}): ${(cycle.durationMs / 1000).toFixed(1)} s, ` +
          `${cycle.requests} requests (${((cycle.requests / cycle.durationMs) * 1000).toFixed(0)} req/s), ` +
          `${cycle.usersCreated} created, ${cycle.failed} failed${cycleOk ? '' : '  MISSED'} (load average after it: ` +
          `${cycleLoad})`,
      );
    }
    if (failed) process.exitCode = 1;
  } finally {
    await stopDeployments(deployments);
    await sql.end().catch(() => undefined);
    await emulator.close();
    await database.stop();
  }
}

if (!process.env.NODE_EXTRA_CA_CERTS || !process.env.BENCH_DIR) {
  void relaunch('bench-scim-');
} else {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
