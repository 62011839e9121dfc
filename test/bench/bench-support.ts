/**
 * What the benchmarks share: the built service run as `npm start` runs it, in a process of its own; its memory
 * read from /proc; a sign-in through the real redirects; the relaunch that sets NODE_EXTRA_CA_CERTS.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { DEMO, ensureCertificates } from '@entra-integration/entra-emulator';

export const REPO = resolve(import.meta.dirname, '../../..');
export const SERVICE = join(REPO, 'dist/src/main.js');

/**
 * The Node options the service is deployed with: those of `npm run start:prod` (package.json; `npm start` and the
 * Docker image pass the same), so a benchmark measures the process as it runs. BENCH_NODE_FLAGS="…" measures
 * other ones instead (empty: none).
 */
export function serviceNodeFlags(): string[] {
  const override = process.env.BENCH_NODE_FLAGS;
  if (override !== undefined) return override.split(' ').filter(Boolean);
  const scripts = (
    JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  const match = /^node ((?:--\S+ )*)dist\/src\/main\.js$/.exec(scripts['start:prod']);
  if (!match) throw new Error(`package.json's start:prod is not "node [--options] dist/src/main.js"`);
  return match[1].split(' ').filter(Boolean);
}

/**
 * NODE_EXTRA_CA_CERTS is read at start: make the certificates in a fresh directory (`BENCH_DIR`), then run
 * the benchmark again in a child with it set, and exit with the child's status.
 */
export async function relaunch(prefix: string): Promise<never> {
  if (!existsSync(SERVICE)) throw new Error(`${SERVICE} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // As root, the embedded PostgreSQL runs as `postgres`, which must be able to enter the directory.
  chmodSync(dir, 0o755);
  let status = 1;
  try {
    const certificates = await ensureCertificates(join(dir, 'certs'));
    const result = spawnSync(process.execPath, process.argv.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: certificates.caPath, BENCH_DIR: dir },
    });
    status = result.status ?? 1;
  } finally {
    // Before exiting: process.exit() inside the try would skip this and leave the directory behind.
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(status);
}

export function cookie(response: Response, name: string): string | null {
  const header = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return header ? header.split(';')[0].slice(name.length + 1) : null;
}

/** Signs in with Microsoft through the real redirects (development cookies) and returns the session token. */
export async function signIn(baseUrl: string, loginHint: string): Promise<string> {
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

/** Resident set size and its high-water mark of a process, in MiB, from /proc. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Resets the kernel's peak-RSS mark of a process (`5` in clear_refs), so VmHWM then is the run's peak. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The postmaster's pid of an embedded cluster in `dir` (its children are the backends). */
export function postmasterOf(dir: string): number {
  return Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/**
 * What V8 reports of the service's heap: with `traceGc`, the service runs with `--trace-gc` (a diagnostic flag
 * that changes no behaviour) and each full collection's live heap is read from its output, so a benchmark can
 * tell memory the service keeps from garbage the collector has not yet reclaimed.
 */
export class HeapTrace {
  /** Live heap (MB) after each full (mark-compact) collection, with when it ended. */
  readonly fullCollections: { at: number; liveMb: number }[] = [];

  /** The live heap after the full collections between `from` and `to` (epoch ms), or null if none ran. */
  liveBetween(from: number, to: number): { maxMb: number; count: number } | null {
    const inside = this.fullCollections.filter((c) => c.at >= from && c.at <= to);
    if (inside.length === 0) return null;
    return { maxMb: Math.max(...inside.map((c) => c.liveMb)), count: inside.length };
  }

  read(stream: NodeJS.ReadableStream): void {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        // e.g. "[123:0x…]  4483 ms: Mark-Compact 25.8 (56.2) -> 18.7 (57.5) MB, …"
        const match = /Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) /.exec(line);
        if (match) this.fullCollections.push({ at: Date.now(), liveMb: Number(match[1]) });
      }
    });
  }
}

/**
 * The built service as `npm start` runs it (no in-process harness), in a process of its own; with a
 * `HeapTrace`, under `--trace-gc` and read by it.
 */
export async function startService(
  env: Record<string, string>,
  baseUrl: string,
  heap?: HeapTrace,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...serviceNodeFlags(), ...(heap ? ['--trace-gc'] : []), SERVICE], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', heap ? 'pipe' : 'ignore', 'inherit'],
  });
  if (heap) heap.read(child.stdout!);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${baseUrl}/health/ready`)).ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the service did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Signs in with Microsoft through the real redirects and returns the session token. The service believes it is
 * served at `publicUrl` (https, as in production); the requests go to `localUrl`, as a TLS proxy would send them
 * (passing the public host on: the service sends any other host to its canonical URL first).
 */
export async function signInBehindProxy(
  localUrl: string,
  publicUrl: string,
  loginHint: string,
): Promise<string> {
  const forwarded = { 'x-forwarded-host': new URL(publicUrl).host, 'x-forwarded-proto': 'https' };
  const login = await fetch(`${localUrl}/auth/microsoft/login?login_hint=${encodeURIComponent(loginHint)}`, {
    redirect: 'manual',
    headers: forwarded,
  });
  const flow = cookie(login, '__Host-flow');
  const atMicrosoft = await fetch(login.headers.get('location')!, { redirect: 'manual' });
  const callback = await fetch(atMicrosoft.headers.get('location')!.replace(publicUrl, localUrl), {
    redirect: 'manual',
    headers: { cookie: `__Host-flow=${flow}`, ...forwarded },
  });
  const token = cookie(callback, '__Host-session');
  if (!token) throw new Error(`sign-in failed: ${callback.headers.get('location')}`);
  return token;
}

/** Waits (up to 60 s) until the service started as `service` answers `/health/ready`. */
export async function waitUntilReady(url: string, service: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (service.exitCode !== null) throw new Error(`the service exited with ${service.exitCode}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the service did not become ready within 60 s');
}

/**
 * The built service as deployed behind a TLS proxy (`NODE_ENV=production`, one trusted hop passing the public
 * host on), on `databaseUrl`, reaching the emulator for Microsoft, ready when this resolves. Its JSON log lines go
 * where a deployment's collector would read them; errors are shown. BENCH_PROFILE=<dir>: it writes a V8 CPU
 * profile there when it stops. BENCH_SERVICE=<main.js>: another build (an earlier commit's), to compare back to back.
 */
export async function startDeployedService(options: {
  port: number;
  publicUrl: string;
  databaseUrl: string;
  emulatorUrl: string;
  encryptionKeySeed: number;
  /** WEB_CONCURRENCY: 1 (the default) is one process; more is a cluster primary and that many workers. */
  workers?: number;
}): Promise<ChildProcess> {
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const main = process.env.BENCH_SERVICE ? resolve(process.env.BENCH_SERVICE) : SERVICE;
  const service = spawn(process.execPath, [...serviceNodeFlags(), ...profile, main], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
      NODE_ENV: 'production',
      PORT: String(options.port),
      WEB_CONCURRENCY: String(options.workers ?? 1),
      APP_BASE_URL: options.publicUrl,
      TRUST_PROXY: '1',
      DATABASE_URL: options.databaseUrl,
      ENTRA_CLIENT_ID: DEMO.client.clientId,
      ENTRA_CLIENT_SECRET: DEMO.client.clientSecret,
      ENTRA_AUTHORITY_HOST: options.emulatorUrl,
      GRAPH_BASE_URL: options.emulatorUrl,
      TOKEN_ENCRYPTION_KEYS: `bench:${Buffer.alloc(32, options.encryptionKeySeed).toString('base64')}`,
    },
  });
  await waitUntilReady(`http://127.0.0.1:${options.port}`, service);
  return service;
}

/** BENCH_WORKERS=1,2 (the default): the WEB_CONCURRENCY values a benchmark measures side by side. */
export function benchWorkerCounts(): number[] {
  const value = process.env.BENCH_WORKERS ?? '1,2';
  const counts = value.split(',').map((part) => Number(part.trim()));
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1 || n > 32))
    throw new Error(
      `BENCH_WORKERS must be a comma-separated list of worker counts from 1 to 32 (got "${value}")`,
    );
  return [...new Set(counts)];
}

/** How a WEB_CONCURRENCY value is named in the benchmarks' tables. */
export const configurationName = (workers: number) => (workers === 1 ? '1 process' : `${workers} workers`);

/** One deployed service of a benchmark, at its own port, with its WEB_CONCURRENCY. */
export interface Deployment {
  workers: number;
  port: number;
  localUrl: string;
  publicUrl: string;
  service?: ChildProcess;
}

/** A port, local and public URLs for each configuration of BENCH_WORKERS (nothing started yet). */
export async function plannedDeployments(freePort: () => Promise<number>): Promise<Deployment[]> {
  const deployments: Deployment[] = [];
  for (const workers of benchWorkerCounts()) {
    const port = await freePort();
    deployments.push({
      workers,
      port,
      localUrl: `http://127.0.0.1:${port}`,
      publicUrl: `https://localhost:${port}`,
    });
  }
  return deployments;
}

/** Stops each deployment's service (SIGTERM) and waits for it to exit. */
export async function stopDeployments(deployments: Deployment[]): Promise<void> {
  for (const { service } of deployments) {
    if (service && service.exitCode === null) {
      const exited = new Promise((r) => service.once('exit', r));
      service.kill('SIGTERM');
      await exited;
    }
  }
}

/** Transactions PostgreSQL has committed in the database so far (each statement outside a transaction is one). */
export async function databaseTransactions(databaseUrl: string): Promise<number> {
  // A backend publishes its counts at most once a second while busy, and one that went idle with counts pending
  // only after PostgreSQL's idle interval (PGSTAT_IDLE_INTERVAL, 10 s): wait that out, else transactions of the
  // warm-up land in the measured window and some of the window's own are missed (more so with more backends, as
  // with several workers' pools).
  await new Promise((r) => setTimeout(r, 11_000));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}

/**
 * CPU time (user + system) a process and, with `children`, its children have used so far, in ms: the live ones
 * and those that ended (reaped by it: a database backend whose connection closed, a worker that exited), so a
 * child ending during a measurement takes nothing of what it used with it.
 */
export function cpuMsOf(pid: number, children = false): number {
  const stat = (p: number | string) => {
    try {
      // Fields after the command name (which may hold spaces): state is [0], ppid [1], utime [11], stime [12],
      // cutime [13], cstime [14] (the children it has waited for).
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      return {
        ppid: Number(fields[1]),
        ticks: Number(fields[11]) + Number(fields[12]),
        reaped: Number(fields[13]) + Number(fields[14]),
      };
    } catch {
      return { ppid: 0, ticks: 0, reaped: 0 };
    }
  };
  const own = stat(pid);
  let ticks = own.ticks;
  if (children) {
    ticks += own.reaped;
    for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      const s = stat(entry);
      if (s.ppid === pid) ticks += s.ticks;
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/**
 * CPU time (user + system) of a service in ms: the process and every Node process below it — with
 * WEB_CONCURRENCY > 1 the cluster primary and its workers — and the workers that exited (reaped by the primary).
 * A live non-Node child is left out (the embedded PostgreSQL a primary may run is the database's share).
 */
export function serviceCpuMsOf(pid: number): number {
  const processes = new Map<number, { ppid: number; node: boolean; ticks: number; reaped: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      processes.set(Number(entry), {
        ppid: Number(fields[1]),
        node: command === 'node' || command.startsWith('node '),
        ticks: Number(fields[11]) + Number(fields[12]),
        reaped: Number(fields[13]) + Number(fields[14]),
      });
    } catch {
      // gone meanwhile
    }
  }
  const inTree = (p: number): boolean => {
    for (let current = p, hops = 0; current > 1 && hops < 64; hops++) {
      if (current === pid) return true;
      current = processes.get(current)?.ppid ?? 0;
    }
    return false;
  };
  let ticks = processes.get(pid)?.reaped ?? 0;
  for (const [p, info] of processes) if (p === pid || (info.node && inTree(p))) ticks += info.ticks;
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** What a measured run cost per request: service and database CPU ms, and database transactions. */
export interface CostPerRequest {
  serviceCpuMs: number;
  databaseCpuMs: number;
  transactions: number;
  /**
   * The share of the machine's CPU time the hypervisor gave to other guests while it ran (/proc/stat "steal"):
   * on a shared virtual machine the same code costs more CPU per request when it is high.
   */
  stealPercent: number;
}

/** The machine's CPU time so far (/proc/stat, in clock ticks): all of it, and the part stolen by the hypervisor. */
function machineTicks(): { total: number; steal: number } {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
}

/**
 * Measures `run` (which returns how many requests it made) by the CPU the service's processes (its primary and
 * workers, see `serviceCpuMsOf`) and the database's processes (the postmaster's children) used, and the
 * transactions the database committed, per request.
 */
export async function costPerRequest<T>(
  servicePid: number,
  databaseDir: string,
  databaseUrl: string,
  run: () => Promise<{ requests: number; result: T }>,
): Promise<{ cost: CostPerRequest; result: T }> {
  const postmaster = postmasterOf(databaseDir);
  const xactsBefore = await databaseTransactions(databaseUrl);
  const before = {
    service: serviceCpuMsOf(servicePid),
    database: cpuMsOf(postmaster, true),
    machine: machineTicks(),
  };
  const { requests, result } = await run();
  // Read at once: the wait for the transaction counts below would add the idle processes' background work.
  const after = {
    service: serviceCpuMsOf(servicePid),
    database: cpuMsOf(postmaster, true),
    machine: machineTicks(),
  };
  // The statistics collector publishes at transaction end; the two reads of it are not counted.
  const transactions = (await databaseTransactions(databaseUrl)) - xactsBefore - 1;
  const cost = {
    serviceCpuMs: (after.service - before.service) / requests,
    databaseCpuMs: (after.database - before.database) / requests,
    transactions: transactions / requests,
    stealPercent:
      (100 * (after.machine.steal - before.machine.steal)) /
      Math.max(1, after.machine.total - before.machine.total),
  };
  return { cost, result };
}

/** One request's figures on one configuration of BENCH_WORKERS. */
export interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  bad: number;
  /** CPU ms per request of the service and of PostgreSQL (all its processes), and its transactions per request. */
  cost: CostPerRequest;
  met: boolean;
}

export const CELLS_HEADER = '  req/s  p50ms  p99ms  errors  API ms    db ms  xact  steal  verdict';
export const CELLS_LEGEND =
  "(CPU ms/req: of the service's processes — primary and workers — and of the database's; " +
  "steal: the machine's CPU time the hypervisor gave to other guests meanwhile)";

export function cells(m: Measurement): string {
  return (
    `${m.rps.toFixed(0).padStart(7)}  ${String(m.p50).padStart(5)}  ${String(m.p99).padStart(5)}  ` +
    `${String(m.bad).padStart(6)}  ${m.cost.serviceCpuMs.toFixed(2).padStart(6)}  ` +
    `${m.cost.databaseCpuMs.toFixed(2).padStart(7)}  ${m.cost.transactions.toFixed(2).padStart(4)}  ` +
    `${`${m.cost.stealPercent.toFixed(0)}%`.padStart(5)}  ` +
    `${m.met ? 'met' : 'MISSED'}`.padEnd(7)
  );
}

export const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
