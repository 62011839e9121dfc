import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, chmod } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO } from '@entra-integration/entra-emulator';
import { freePort } from '../../src/database/embedded-postgres.js';
import { relocationFor } from '../../src/database/relocated-postgres.js';
import { builtEmulator, builtService, ROOT, type Built } from '../support/built.js';
import { cookie, http } from '../support/http-answer.js';

/**
 * `npm start` with WEB_CONCURRENCY=2, as an operator runs it: the emulator's launcher, then the built service,
 * whose process becomes a cluster primary owning the embedded PostgreSQL, with two workers. Observed from the
 * outside only: HTTP, the process table, the log, the operator CLI.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value: a guard against waiting forever (60 s), not a timed assertion. */
async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Direct children of `pid` from /proc, with their command lines. */
async function childrenOf(pid: number): Promise<{ pid: number; cmdline: string }[]> {
  const children: { pid: number; cmdline: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ');
      children.push({ pid: Number(entry), cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A GET on a connection of its own (no keep-alive pool): the cluster hands each new connection to the next
 * worker, so a series of these reaches every worker.
 */
function freshGet(url: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((done, fail) => {
    const req = request(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
      );
    });
    req.on('error', fail);
    req.end();
  });
}

class Running {
  output = '';
  readonly exited: Promise<number>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((done) => child.on('exit', (code, signal) => done(code ?? (signal ? 128 : 0))));
  }

  lines(pattern: RegExp): string[] {
    return this.output.split('\n').filter((line) => pattern.test(line));
  }

  /** The pids that wrote an access-log line for `path`. */
  servedBy(path: string): number[] {
    const pids = new Set<number>();
    for (const line of this.lines(/"message":"request"/)) {
      const record = JSON.parse(line) as { pid: number; message: { path: string } };
      if (record.message.path === path) pids.add(record.pid);
    }
    return [...pids].sort();
  }
}

function run(
  entry: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [entry], { env, timeout: 120_000 }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function serviceEnv(dataDir: string, port: number, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), ...extra };
  for (const name of [
    'DATABASE_URL',
    'ENTRA_CLIENT_ID',
    'ENTRA_CLIENT_SECRET',
    'ENTRA_AUTHORITY_HOST',
    'GRAPH_BASE_URL',
    'APP_BASE_URL',
    'APP_UI_URL',
    'NODE_ENV',
    'EMULATOR_PORT',
  ])
    if (!(name in extra)) delete env[name];
  return env;
}

describe('npm start with WEB_CONCURRENCY=2', () => {
  let emulatorBuild: Built;
  let serviceBuild: Built;
  let root: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let baseUrl: string;
  let running: Running;
  let primary: number;
  let workers: number[];
  let token: string;

  const workerPids = async () =>
    (await childrenOf(primary))
      .filter((c) => c.cmdline.includes('main.js'))
      .map((c) => c.pid)
      .sort();

  beforeAll(async () => {
    [emulatorBuild, serviceBuild] = await Promise.all([
      builtEmulator('workers-spec'),
      builtService('workers-spec'),
    ]);
    root = await mkdtemp(join(tmpdir(), 'workers-spec-'));
    dataDir = join(root, 'data');
    // The launcher reuses the certificates this test worker already trusts (NODE_EXTRA_CA_CERTS).
    const certs = dirname(inject('emulatorTls').caPath);
    await mkdir(join(dataDir, 'emulator'), { recursive: true });
    for (const file of ['ca.pem', 'cert.pem', 'key.pem'])
      await copyFile(join(certs, file), join(dataDir, 'emulator', file));
    const port = await freePort();
    baseUrl = `http://localhost:${port}`;
    // LOG_LEVEL=log: the access log names the pid that served each request.
    env = serviceEnv(dataDir, port, { WEB_CONCURRENCY: '2', LOG_LEVEL: 'log' });
    running = new Running(
      spawn(
        process.execPath,
        [join(emulatorBuild.dir, 'start-with-emulator.js'), join(serviceBuild.dir, 'src', 'main.js')],
        { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    const announced = await until('both workers to listen', () => {
      if (running.child.exitCode !== null) throw new Error(`npm start exited:\n${running.output}`);
      return /"2 workers \(pids (\d+), (\d+)\) listening on /.exec(running.output) ?? undefined;
    });
    workers = [Number(announced[1]), Number(announced[2])].sort();
    const service = (await childrenOf(running.child.pid!)).find((c) => c.cmdline.includes('main.js'));
    primary = service!.pid;
  }, 180_000);

  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
    if (dataDir) {
      const relocated = relocationFor(join(dataDir, 'postgres'));
      if (relocated) await rm(relocated.home, { recursive: true, force: true });
    }
    if (root) await rm(root, { recursive: true, force: true });
    for (const build of [emulatorBuild, serviceBuild])
      if (build?.temporary) await rm(build.dir, { recursive: true, force: true });
  });

  it('runs two workers as children of the primary, and one session works on both of them', async () => {
    expect(await workerPids()).toEqual(workers);
    expect(workers).not.toContain(primary);

    // "Continue with Microsoft": our login, the emulator's authorize, our callback (each may land anywhere).
    const login = await http(
      `${baseUrl}/auth/microsoft/login?login_hint=${encodeURIComponent(DEMO.users.adele.upn)}`,
    );
    const authorize = await http(login.location!);
    const callback = await http(authorize.location!, {
      headers: { cookie: `ms_auth_flow=${cookie(login, 'ms_auth_flow')}` },
    });
    token = cookie(callback, 'session')!;
    expect(token, `sign-in ended at ${callback.location}`).toBeTruthy();

    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await freshGet(`${baseUrl}/api/v1/me`, token));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.body.email))).toEqual(new Set([DEMO.users.adele.upn]));
    // Both workers answered some of them (round-robin over new connections).
    await until('the access log of the 20 requests', () =>
      running.lines(/"path":"\/api\/v1\/me"/).length >= 20 ? true : undefined,
    );
    expect(running.servedBy('/api/v1/me')).toEqual(workers);

    // The primary owns the embedded database: its record names it, and the operator CLI reaches it.
    const record = JSON.parse(await readFile(join(dataDir, 'postgres.json'), 'utf8')) as { pid: number };
    expect(record.pid).toBe(primary);
    const cli = await promisify(execFile)(
      process.execPath,
      [
        join(serviceBuild.dir, 'src', 'cli', 'cli.js'),
        'orgs:set-plan',
        String(answers[0].body.organizationId),
        'team',
      ],
      { env, cwd: ROOT },
    );
    expect(cli.stdout).toContain('plan is now team');
    expect((await freshGet(`${baseUrl}/api/v1/organization`, token)).body.plan).toBe('team');
  });

  it('replaces a killed worker, logging one line with how it ended, and keeps answering meanwhile', async () => {
    const [victim, survivor] = workers;
    process.kill(victim, 'SIGKILL');
    const exitLine = await until('the exit line', () =>
      running.lines(new RegExp(`worker ${victim} `)).find((l) => l.includes('exited')),
    );
    expect(exitLine).toContain(
      `worker ${victim} exited unexpectedly (signal SIGKILL); starting a replacement`,
    );
    // The survivor serves alone until the replacement listens.
    for (let i = 0; i < 5; i++) expect((await freshGet(`${baseUrl}/api/v1/me`, token)).status).toBe(200);

    const replaced = await until('a replacement worker', async () => {
      const pids = await workerPids();
      return pids.length === 2 && !pids.includes(victim) ? pids : undefined;
    });
    expect(replaced).toContain(survivor);
    const replacement = replaced.find((pid) => pid !== survivor)!;
    await until('the replacement to listen', () =>
      running.lines(new RegExp(`"pid":${replacement},.*"worker listening on`)).length ? true : undefined,
    );
    const before = running.servedBy('/api/v1/organization');
    for (let i = 0; i < 6; i++)
      expect((await freshGet(`${baseUrl}/api/v1/organization`, token)).status).toBe(200);
    await until('the replacement to serve', () =>
      running.servedBy('/api/v1/organization').includes(replacement) ? true : undefined,
    );
    expect(before).not.toContain(replacement);
    expect(running.lines(/exited unexpectedly/)).toHaveLength(1);
    workers = replaced;
  });

  it('stops on SIGTERM: workers drained, the embedded PostgreSQL stopped, exit 0, the password never logged', async () => {
    const postgres = (await childrenOf(primary)).filter((c) => !c.cmdline.includes('main.js'));
    expect(postgres.map((c) => c.cmdline).join()).toContain('postgres');
    running.child.kill('SIGTERM');
    expect(await running.exited, running.output).toBe(0);
    for (const pid of [primary, ...workers, ...postgres.map((c) => c.pid)]) expect(isAlive(pid)).toBe(false);
    await expect(stat(join(dataDir, 'postgres.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(running.output).toContain("SIGTERM received: draining the workers' requests, then stopping");
    const password = (await readFile(join(dataDir, 'postgres.password'), 'utf8')).trim();
    expect(running.output).not.toContain(password);
    expect(running.output).not.toContain(encodeURIComponent(password));
  });
});

describe('WEB_CONCURRENCY refusals', () => {
  let serviceBuild: Built;
  let root: string;
  let busy: Server | undefined;

  beforeAll(async () => {
    serviceBuild = await builtService('workers-refusals-spec');
    root = await mkdtemp(join(tmpdir(), 'workers-refusals-'));
    // Reachable by the `postgres` user PostgreSQL runs as under root.
    await chmod(root, 0o755);
  }, 180_000);

  afterAll(async () => {
    busy?.close();
    if (root) await rm(root, { recursive: true, force: true });
    if (serviceBuild?.temporary) await rm(serviceBuild.dir, { recursive: true, force: true });
  });

  const credentials = { ENTRA_CLIENT_ID: 'test-client', ENTRA_CLIENT_SECRET: 'test-secret' };

  it('an invalid value stops the service at once with one line naming it, starting nothing', async () => {
    const dataDir = join(root, 'invalid');
    for (const value of ['0', 'two', '2.5']) {
      const answer = await run(
        join(serviceBuild.dir, 'src', 'main.js'),
        serviceEnv(dataDir, 0, { ...credentials, WEB_CONCURRENCY: value }),
      );
      expect(answer.code).toBe(1);
      expect(answer.stderr).toContain(`WEB_CONCURRENCY must be an integer between 1 and 32 (got "${value}")`);
      expect(answer.stderr).not.toMatch(/\n\s+at /);
    }
    await expect(stat(dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('workers that keep failing to start make the primary stop, database included, with one line and exit 1', async () => {
    const port = await freePort();
    busy = createServer();
    await new Promise<void>((listening) => busy!.listen(port, listening));
    const dataDir = join(root, 'busy-port');
    const answer = await run(
      join(serviceBuild.dir, 'src', 'main.js'),
      serviceEnv(dataDir, port, { ...credentials, WEB_CONCURRENCY: '2', LOG_LEVEL: 'warn' }),
    );
    expect(answer.code).toBe(1);
    const fatal = answer.stderr.split('\n').filter((line) => line.startsWith('fatal: workers'));
    expect(fatal).toEqual([
      'fatal: workers failed to start 3 times in a row (the last: exit code 1); stopping the service',
    ]);
    // Retried before giving up, each failure one line.
    expect(answer.stdout).toMatch(
      /worker \d+ failed to start \(exit code 1\); starting a replacement in 1 s/,
    );
    // Its embedded PostgreSQL was stopped, not orphaned: the owner record is gone and the server's pid file too.
    await expect(stat(join(dataDir, 'postgres.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(dataDir, 'postgres', 'postmaster.pid'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(dataDir, 'postgres'))).toContain('PG_VERSION');
  });
});
