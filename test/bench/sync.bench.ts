/**
 * npm run bench:sync [-- 10000 100000 300000]
 *
 * A tenant of N users, all linked in one organization, 1 % disabled and 0.2 % deleted, against the emulator
 * as strict as Graph (delta pages capped at 200, `$top` ≤ 999, `$batch` ≤ 20, resource-unit throttling) with
 * 50 ms of latency per Graph request. The API runs as deployed: the built service (`node dist/src/main.js`, with
 * the Node options of `npm run start:prod`,
 * what `npm start` and the Docker image run) with NODE_ENV=production behind a TLS proxy (one trusted hop passing
 * the public host on), in a process of its own, on its own database, its RSS sampled from /proc while it syncs. Measures the full sync (wall time, Graph requests, the `ceil(N / 999)` × latency floor), then the
 * incremental sync after 100 changes. At the end, the peak RSS of every size side by side with its growth over
 * the idle process, and whether that growth is flat across the sizes (see FLAT_WITHIN_MB), with the load
 * average: on a shared machine the figures mean little without it.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { runMigrations } from '../../src/app.migrate.js';
import {
  HeapTrace,
  memoryOf,
  resetPeak,
  SERVICE,
  serviceNodeFlags,
  signInBehindProxy,
  startService,
} from './bench-support.js';
import { DEMO, ensureCertificates } from '@entra-integration/entra-emulator';

const LATENCY_MS = 50;
const PAGE_SIZE = 999;

/** NODE_EXTRA_CA_CERTS is read at start: make the certificates, then run the benchmark in a child with it set. */
async function relaunch(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sync-'));
  chmodSync(dir, 0o755);
  const certificates = await ensureCertificates(join(dir, 'certs'));
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const rows: Row[] = [];
  const loadAtStart = loadavg();
  // One process per size, so that each peak RSS is that size's own and not what a previous run left.
  if (!existsSync(SERVICE)) throw new Error(`${SERVICE} is missing: run npm run build first`);
  for (const users of sizes.length ? sizes : [10_000, 100_000, 300_000]) {
    const result = spawnSync(
      process.execPath,
      ['--max-old-space-size=4096', process.argv[1], String(users)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
        env: { ...process.env, NODE_EXTRA_CA_CERTS: certificates.caPath, BENCH_DIR: dir },
      },
    );
    for (const line of result.stdout.split('\n')) {
      if (line.startsWith('ROW ')) rows.push(JSON.parse(line.slice(4)) as Row);
      else if (line) console.log(line);
    }
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(
    '\nusers      full ms   floor ms  ratio  requests  RSS before MB  peak RSS MB  live heap MB  incremental ms  incr. requests',
  );
  for (const r of rows) {
    console.log(
      `${String(r.users).padEnd(10)} ${String(r.fullMs).padStart(7)}  ${String(r.floorMs).padStart(8)}  ` +
        `${(r.fullMs / r.floorMs).toFixed(2).padStart(5)}  ${String(r.requests).padStart(8)}  ${String(r.rssBeforeMb).padStart(13)}  ` +
        `${String(r.peakRssMb).padStart(11)}  ${(r.liveMb === null ? '–' : r.liveMb.toFixed(1)).padStart(12)}  ` +
        `${String(r.incrementalMs).padStart(14)}  ${String(r.incrementalRequests).padStart(14)}`,
    );
  }
  console.log(rssVerdict(rows));
  const load = (l: number[]) => l.map((n) => n.toFixed(2)).join(', ');
  console.log(
    `load average (1, 5, 15 min): ${load(loadAtStart)} at the start, ${load(loadavg())} at the end`,
  );
}

/** One size's figures, as the per-size child reports them to the parent. */
interface Row {
  users: number;
  fullMs: number;
  floorMs: number;
  requests: number;
  rssBeforeMb: number;
  peakRssMb: number;
  liveMb: number | null;
  incrementalMs: number;
  incrementalRequests: number;
}

/**
 * "Flat" as the target means it: the peak RSS of a full sync varies by at most this much across the sizes
 * measured (10,000 to 300,000 users by default). The growth over the idle process is shown beside it; it is not
 * the criterion because the idle RSS itself moves by tens of MB between runs on a busy machine.
 */
const FLAT_WITHIN_MB = 20;
const RSS_TARGET_MB = 300;

/** The peak RSS of each size side by side, its growth over the idle process, and whether it is flat and under target. */
function rssVerdict(rows: Row[]): string {
  const lines = ['\nAPI process RSS during the full sync (MB, from /proc):'];
  lines.push(`  ${'users'.padEnd(10)} ${'idle'.padStart(6)} ${'peak'.padStart(6)} ${'growth'.padStart(7)}`);
  for (const r of rows)
    lines.push(
      `  ${String(r.users).padEnd(10)} ${String(r.rssBeforeMb).padStart(6)} ${String(r.peakRssMb).padStart(6)} ` +
        `${String(r.peakRssMb - r.rssBeforeMb).padStart(7)}`,
    );
  const peaks = rows.map((r) => r.peakRssMb);
  const peak = Math.max(...peaks);
  lines.push(
    `  peak < ${RSS_TARGET_MB} MB at every size: ${peak < RSS_TARGET_MB ? 'yes' : 'NO'} (highest ${peak} MB)`,
  );
  if (rows.length < 2) {
    lines.push('  flat: not judged (it takes two sizes or more)');
  } else {
    const spread = peak - Math.min(...peaks);
    lines.push(
      `  flat (peak within ${FLAT_WITHIN_MB} MB across ${rows.map((r) => r.users.toLocaleString('en')).join(' / ')} users): ` +
        `${spread <= FLAT_WITHIN_MB ? 'yes' : 'NO'} (peak ${Math.min(...peaks)} to ${peak} MB, spread ${spread} MB)`,
    );
  }
  return lines.join('\n');
}

class EmulatorProcess {
  private next = 0;
  private readonly waiting = new Map<number, (value: { result?: unknown; error?: string }) => void>();
  constructor(readonly child: ChildProcess) {
    child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      this.waiting.get(message.id)?.(message);
      this.waiting.delete(message.id);
    });
  }
  async call<T>(command: Record<string, unknown>): Promise<T> {
    const id = ++this.next;
    const reply = await new Promise<{ result?: unknown; error?: string }>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ id, command });
    });
    if (reply.error) throw new Error(reply.error);
    return reply.result as T;
  }
}

/**
 * Connects the organization as an admin would, through the deployed service behind its TLS proxy: the browser
 * follows the redirects to `publicUrl`, the proxy passes them to `localUrl` with the public host.
 */
async function connect(localUrl: string, publicUrl: string, token: string, loginHint: string): Promise<void> {
  const headers = { authorization: `Bearer ${token}` };
  const forwarded = { 'x-forwarded-host': new URL(publicUrl).host, 'x-forwarded-proto': 'https' };
  const started = await fetch(`${localUrl}/api/v1/integrations/entra/connect`, { method: 'POST', headers });
  const url = new URL(((await started.json()) as { authorizationUrl: string }).authorizationUrl);
  url.searchParams.set('login_hint', loginHint);
  const atMicrosoft = await fetch(url, { redirect: 'manual' });
  const callback = await fetch(atMicrosoft.headers.get('location')!.replace(publicUrl, localUrl), {
    redirect: 'manual',
    headers: { cookie: `__Host-session=${token}`, ...forwarded },
  });
  if (!callback.headers.get('location')?.includes('status=connected'))
    throw new Error(`connect failed: ${callback.status} ${callback.headers.get('location')}`);
  const settings = await fetch(`${localUrl}/api/v1/integrations/entra/settings`, {
    method: 'PATCH',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ autoDeprovisionSync: true }),
  });
  if (!settings.ok) throw new Error('settings failed');
}

interface Measured {
  wallMs: number;
  graphRequests: number;
  rssBeforeMb: number;
  peakRssMb: number;
  /** V8's live heap after the full collections that ran during the sync (null: none was needed). */
  live: { maxMb: number; count: number } | null;
  status: string;
  deactivated: number;
  mode: string | null;
}

async function benchmark(users: number) {
  const dir = mkdtempSync(join(process.env.BENCH_DIR!, `n${users}-`));
  chmodSync(dir, 0o755);
  const certificates = await ensureCertificates(join(process.env.BENCH_DIR!, 'certs'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // As deployed: NODE_ENV=production behind a TLS proxy that passes the public host on.
  const publicUrl = `https://localhost:${port}`;
  const emulator = new EmulatorProcess(
    fork(join(import.meta.dirname, 'emulator-process.js'), {
      execArgv: ['--max-old-space-size=4096'],
      stdio: 'inherit',
    }),
  );
  const database = await startEmbeddedPostgres({ dir: join(dir, 'postgres'), ephemeral: true });
  const sql = new pg.Client({ connectionString: database.url });
  let service: ChildProcess | undefined;
  const heap = new HeapTrace();
  try {
    const { url } = await emulator.call<{ url: string }>({
      type: 'start',
      cert: certificates.cert,
      key: certificates.key,
      redirectUris: [`${publicUrl}/auth/microsoft/callback`, `${publicUrl}/auth/microsoft/connect/callback`],
    });
    const { generatedMs } = await emulator.call<{ generatedMs: number }>({
      type: 'generate',
      count: users,
      disabledEvery: 100,
      deletedEvery: 500,
    });
    await runMigrations(database.url);
    await sql.connect();
    service = await startService(
      {
        PORT: String(port),
        NODE_ENV: 'production',
        APP_BASE_URL: publicUrl,
        TRUST_PROXY: '1',
        DATABASE_URL: database.url,
        DATA_DIR: join(dir, 'data'),
        ENTRA_CLIENT_ID: DEMO.client.clientId,
        ENTRA_CLIENT_SECRET: DEMO.client.clientSecret,
        ENTRA_AUTHORITY_HOST: url,
        GRAPH_BASE_URL: url,
        NODE_EXTRA_CA_CERTS: certificates.caPath,
        TOKEN_ENCRYPTION_KEYS: `bench:${Buffer.alloc(32, 5).toString('base64')}`,
        SYNC_POLL_INTERVAL_MS: '600000',
        LOG_LEVEL: 'error',
      },
      baseUrl,
      heap,
    );
    const pid = service.pid!;
    const token = await signInBehindProxy(baseUrl, publicUrl, DEMO.users.adele.upn);
    const headers = { authorization: `Bearer ${token}` };
    const me = (await (await fetch(`${baseUrl}/api/v1/me`, { headers })).json()) as {
      organizationId: string;
    };
    // The operator's subscription change, straight in the database: the service runs elsewhere.
    await sql.query(`UPDATE organizations SET plan = 'enterprise', seat_limit = 1000000 WHERE id = $1`, [
      me.organizationId,
    ]);
    await connect(baseUrl, publicUrl, token, DEMO.users.adele.upn);
    await emulator.call({ type: 'link', databaseUrl: database.url, organizationId: me.organizationId });
    await emulator.call({ type: 'settings', latencyMs: LATENCY_MS });

    const syncOnce = async (): Promise<Measured> => {
      const startedAt = Date.now();
      const baseline = memoryOf(pid).rss;
      const kernelPeak = resetPeak(pid);
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(pid).rss)), 10);
      const before = (await emulator.call<{ graphRequests: number }>({ type: 'stats' })).graphRequests;
      const response = await fetch(`${baseUrl}/api/v1/integrations/entra/sync`, { method: 'POST', headers });
      const { id } = (await response.json()) as { id: string };
      let run: {
        status: string;
        mode: string | null;
        startedAt: string;
        finishedAt: string;
        counts: { deactivated: number };
      };
      do {
        await new Promise((resolve) => setTimeout(resolve, 20));
        run = (await (
          await fetch(`${baseUrl}/api/v1/integrations/entra/sync-runs/${id}`, { headers })
        ).json()) as typeof run;
      } while (run.status === 'queued' || run.status === 'running');
      clearInterval(sampler);
      if (kernelPeak) peak = Math.max(peak, memoryOf(pid).hwm);
      const after = (await emulator.call<{ graphRequests: number }>({ type: 'stats' })).graphRequests;
      return {
        wallMs: Date.parse(run.finishedAt) - Date.parse(run.startedAt),
        graphRequests: after - before,
        rssBeforeMb: Math.round(baseline),
        peakRssMb: Math.round(peak),
        live: heap.liveBetween(startedAt, Date.now()),
        status: run.status,
        deactivated: run.counts.deactivated,
        mode: run.mode,
      };
    };

    const full = await syncOnce();
    await emulator.call({ type: 'disable', count: 100 });
    const incremental = await syncOnce();
    const pages = Math.ceil(users / PAGE_SIZE);
    return { users, generatedMs, full, incremental, floorMs: pages * LATENCY_MS, pages };
  } finally {
    if (service && service.exitCode === null) {
      const exited = new Promise((resolve) => service!.once('exit', resolve));
      service.kill('SIGTERM');
      await exited;
    }
    await sql.end().catch(() => undefined);
    emulator.child.disconnect();
    await database.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const users = Number(process.argv[2]);
  console.log(
    `\n— ${users.toLocaleString('en')} users, all linked; 1 % disabled, 0.2 % deleted; ${LATENCY_MS} ms per Graph request`,
  );
  const r = await benchmark(users);
  const ratio = r.full.wallMs / r.floorMs;
  console.log(`  tenant generated in ${r.generatedMs} ms (emulator process)`);
  console.log(
    `  full sync:        ${r.full.wallMs} ms, ${r.full.graphRequests} Graph requests, ` +
      `${r.full.deactivated} deactivated (${r.full.status}, ${r.full.mode})`,
  );
  console.log(
    `  floor:            ${r.floorMs} ms (ceil(${users} / ${PAGE_SIZE}) = ${r.pages} pages × ${LATENCY_MS} ms) → ` +
      `${ratio.toFixed(2)}× (target ≤ 1.3×)`,
  );
  console.log(
    `  incremental sync: ${r.incremental.wallMs} ms after 100 changes, ${r.incremental.graphRequests} Graph request(s), ` +
      `${r.incremental.deactivated} deactivated (${r.incremental.mode}) (target < 1 s + ${LATENCY_MS} ms)`,
  );
  console.log(
    `  API process RSS (${['node', ...serviceNodeFlags(), 'dist/src/main.js'].join(' ')}, from /proc): ${r.full.rssBeforeMb} MB before → peak ${r.full.peakRssMb} MB ` +
      `during the full sync, peak ${r.incremental.peakRssMb} MB during the incremental one (target < 300 MB)`,
  );
  // RSS follows V8's heap sizing, which lets garbage build up longer in a longer run before a full collection;
  // the live heap after each full collection is what the service keeps, and it must not grow with N.
  console.log(
    `  V8 live heap after full collections (--trace-gc) during the full sync: ` +
      (r.full.live
        ? `max ${r.full.live.maxMb.toFixed(1)} MB over ${r.full.live.count} collection(s)`
        : 'no full collection was needed'),
  );
  const row: Row = {
    users,
    fullMs: r.full.wallMs,
    floorMs: r.floorMs,
    requests: r.full.graphRequests,
    rssBeforeMb: r.full.rssBeforeMb,
    peakRssMb: r.full.peakRssMb,
    liveMb: r.full.live ? r.full.live.maxMb : null,
    incrementalMs: r.incremental.wallMs,
    incrementalRequests: r.incremental.graphRequests,
  };
  console.log(`ROW ${JSON.stringify(row)}`);
}

if (!process.env.NODE_EXTRA_CA_CERTS || !process.env.BENCH_DIR || !Number(process.argv[2])) {
  void relaunch();
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
