/**
 * npm run bench:sync [-- 10000 100000]
 *
 * A tenant of N users, all linked in one organization, 1 % disabled and 0.2 % deleted, 50 ms of emulator
 * latency per Graph request. Measures the full sync (wall time, Graph requests, peak RSS of the API process,
 * and the lower bound: sequential delta pages × latency), then the incremental sync after 100 changes.
 */
import 'reflect-metadata';
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { loadConfig } from '../../src/config/config.js';
import { freePort, startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { runMigrations } from '../../src/database/migrate.js';
import { SyncRunsService } from '../../src/deprovisioning/sync-runs.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
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
  const rows: string[] = [];
  // One process per size, so that each peak RSS is that size's own and not what a previous run left.
  for (const users of sizes.length ? sizes : [10_000, 100_000]) {
    const result = spawnSync(
      process.execPath,
      ['--max-old-space-size=4096', '--expose-gc', process.argv[1], String(users)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
        env: { ...process.env, NODE_EXTRA_CA_CERTS: certificates.caPath, BENCH_DIR: dir },
      },
    );
    for (const line of result.stdout.split('\n')) {
      if (line.startsWith('ROW ')) rows.push(line.slice(4));
      else if (line) console.log(line);
    }
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
  rmSync(dir, { recursive: true, force: true });
  console.log('\nusers      full ms   bound ms  ratio  requests  RSS before  peak RSS MB  incremental ms');
  for (const row of rows) console.log(row);
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

function cookie(response: Response, name: string): string | null {
  const header = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return header ? header.split(';')[0].slice(name.length + 1) : null;
}

/** Signs in with Microsoft through the real redirects and returns the session token. */
async function signIn(baseUrl: string, loginHint: string): Promise<string> {
  const login = await fetch(`${baseUrl}/auth/microsoft/login?login_hint=${encodeURIComponent(loginHint)}`, {
    redirect: 'manual',
  });
  const flow = cookie(login, 'ms_auth_flow');
  const atMicrosoft = await fetch(login.headers.get('location')!, { redirect: 'manual' });
  const callback = await fetch(atMicrosoft.headers.get('location')!, {
    redirect: 'manual',
    headers: { cookie: `ms_auth_flow=${flow}` },
  });
  const token = cookie(callback, 'session');
  if (!token) throw new Error(`sign-in failed: ${callback.headers.get('location')}`);
  return token;
}

async function connect(baseUrl: string, token: string, loginHint: string): Promise<void> {
  const headers = { authorization: `Bearer ${token}` };
  const started = await fetch(`${baseUrl}/api/v1/integrations/entra/connect`, { method: 'POST', headers });
  const url = new URL(((await started.json()) as { authorizationUrl: string }).authorizationUrl);
  url.searchParams.set('login_hint', loginHint);
  const atMicrosoft = await fetch(url, { redirect: 'manual' });
  const callback = await fetch(atMicrosoft.headers.get('location')!, {
    redirect: 'manual',
    headers: { cookie: `session=${token}` },
  });
  if (!callback.headers.get('location')?.includes('status=connected')) throw new Error('connect failed');
  const settings = await fetch(`${baseUrl}/api/v1/integrations/entra/settings`, {
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
  heapBeforeMb: number;
  heapAfterMb: number;
  peakRssMb: number;
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
  const emulator = new EmulatorProcess(
    fork(join(import.meta.dirname, 'emulator-process.js'), {
      execArgv: ['--max-old-space-size=4096'],
      stdio: 'inherit',
    }),
  );
  const database = await startEmbeddedPostgres({ dir: join(dir, 'postgres'), ephemeral: true });
  try {
    const { url } = await emulator.call<{ url: string }>({
      type: 'start',
      cert: certificates.cert,
      key: certificates.key,
      redirectUris: [`${baseUrl}/auth/microsoft/callback`, `${baseUrl}/auth/microsoft/connect/callback`],
    });
    const { generatedMs } = await emulator.call<{ generatedMs: number }>({
      type: 'generate',
      count: users,
      disabledEvery: 100,
      deletedEvery: 500,
    });
    await runMigrations(database.url);
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: String(port),
      APP_BASE_URL: baseUrl,
      DATABASE_URL: database.url,
      ENTRA_CLIENT_ID: DEMO.client.clientId,
      ENTRA_CLIENT_SECRET: DEMO.client.clientSecret,
      ENTRA_AUTHORITY_HOST: url,
      GRAPH_BASE_URL: url,
      TOKEN_ENCRYPTION_KEYS: `bench:${Buffer.alloc(32, 5).toString('base64')}`,
      SYNC_POLL_INTERVAL_MS: '600000',
      LOG_LEVEL: 'error',
    });
    const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, database.url), {
      logger: ['error'],
    });
    configureApp(app, config);
    await app.listen(port, '127.0.0.1');
    try {
      const token = await signIn(baseUrl, DEMO.users.adele.upn);
      const me = (await (
        await fetch(`${baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as {
        organizationId: string;
      };
      await app
        .get(OrganizationsService)
        .updateSubscription(me.organizationId, { plan: 'enterprise', seatLimit: 1_000_000 }, SYSTEM_ACTOR);
      await connect(baseUrl, token, DEMO.users.adele.upn);
      await emulator.call({ type: 'link', databaseUrl: database.url, organizationId: me.organizationId });
      await emulator.call({ type: 'settings', latencyMs: LATENCY_MS });

      const runs = app.get(SyncRunsService);
      const syncOnce = async (): Promise<Measured> => {
        global.gc?.();
        const baseline = process.memoryUsage().rss;
        const heapBefore = process.memoryUsage().heapUsed;
        let peak = baseline;
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
        const before = (await emulator.call<{ graphRequests: number }>({ type: 'stats' })).graphRequests;
        const response = await fetch(`${baseUrl}/api/v1/integrations/entra/sync`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        });
        const { id } = (await response.json()) as { id: string };
        let run = await runs.get(me.organizationId, id);
        while (run.status === 'queued' || run.status === 'running') {
          await new Promise((resolve) => setTimeout(resolve, 20));
          run = await runs.get(me.organizationId, id);
        }
        clearInterval(sampler);
        global.gc?.();
        const retained = process.memoryUsage().heapUsed;
        const after = (await emulator.call<{ graphRequests: number }>({ type: 'stats' })).graphRequests;
        return {
          wallMs: run.finishedAt!.getTime() - run.startedAt!.getTime(),
          graphRequests: after - before,
          rssBeforeMb: Math.round(baseline / 1024 / 1024),
          heapBeforeMb: Math.round(heapBefore / 1024 / 1024),
          heapAfterMb: Math.round(retained / 1024 / 1024),
          peakRssMb: Math.round(peak / 1024 / 1024),
          status: run.status,
          deactivated: run.countDeactivated,
          mode: run.mode,
        };
      };

      const full = await syncOnce();
      await emulator.call({ type: 'disable', count: 100 });
      const incremental = await syncOnce();
      const pages = Math.ceil(users / PAGE_SIZE);
      return { users, generatedMs, full, incremental, lowerBoundMs: pages * LATENCY_MS, pages };
    } finally {
      await app.close();
    }
  } finally {
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
  const ratio = r.full.wallMs / r.lowerBoundMs;
  console.log(`  tenant generated in ${r.generatedMs} ms (emulator process)`);
  console.log(
    `  full sync:        ${r.full.wallMs} ms, ${r.full.graphRequests} Graph requests, API process RSS ${r.full.rssBeforeMb} MB ` +
      `before → peak ${r.full.peakRssMb} MB (JS heap after GC: ${r.full.heapBeforeMb} → ${r.full.heapAfterMb} MB), ` +
      `${r.full.deactivated} deactivated (${r.full.status}, ${r.full.mode})`,
  );
  console.log(
    `  lower bound:      ${r.lowerBoundMs} ms (${r.pages} sequential delta pages × ${LATENCY_MS} ms) → ${ratio.toFixed(2)}× (target ≤ 1.5×)`,
  );
  console.log(
    `  incremental sync: ${r.incremental.wallMs} ms after 100 changes, ${r.incremental.graphRequests} Graph request(s), ` +
      `${r.incremental.deactivated} deactivated (${r.incremental.mode}) (target < 1 s + ${LATENCY_MS} ms)`,
  );
  console.log(
    `ROW ${String(users).padEnd(10)} ${String(r.full.wallMs).padStart(7)}  ${String(r.lowerBoundMs).padStart(8)}  ` +
      `${ratio.toFixed(2).padStart(5)}  ${String(r.full.graphRequests).padStart(8)}  ${String(r.full.rssBeforeMb).padStart(10)}  ` +
      `${String(r.full.peakRssMb).padStart(11)}  ${String(r.incremental.wallMs).padStart(14)}`,
  );
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
