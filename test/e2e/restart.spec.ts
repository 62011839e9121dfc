import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
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
 * `npm start` as an operator runs it — the emulator's development launcher starting the bundled emulator and
 * then the built service as a child process, with the embedded PostgreSQL, everything under one DATA_DIR —
 * stopped and started again between two syncs. Only HTTP, the operator CLI and the emulator's control API
 * touch it, as a person trying it would.
 */

class NpmStart {
  output = '';
  private exited: Promise<number>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((done) => child.on('exit', (code, signal) => done(code ?? (signal ? 128 : 0))));
  }

  static async start(emulator: Built, service: Built, env: NodeJS.ProcessEnv, baseUrl: string) {
    const child = spawn(
      process.execPath,
      [join(emulator.dir, 'start-with-emulator.js'), join(service.dir, 'src', 'main.js')],
      // A process group of its own, as a terminal runs a command: Ctrl-C signals the whole group.
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    const started = new NpmStart(child);
    let gone = false;
    void started.exited.then(() => (gone = true));
    // Up when it answers ready; a guard against waiting forever, not a timed assertion.
    for (let i = 0; i < 600; i++) {
      if (gone) throw new Error(`npm start exited before it was ready:\n${started.output}`);
      const ready = await fetch(`${baseUrl}/health/ready`).then(
        (r) => r.status,
        () => 0,
      );
      if (ready === 200) return started;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`npm start not ready after 60 s:\n${started.output}`);
  }

  /** SIGTERM to the launcher (a process manager's stop), which forwards it and then closes the emulator. */
  async stop(): Promise<number> {
    this.child.kill('SIGTERM');
    return this.exited;
  }

  /** Ctrl-C in the terminal: SIGINT to every process of the command's process group. */
  async ctrlC(): Promise<number> {
    process.kill(-this.child.pid!, 'SIGINT');
    return this.exited;
  }

  /** The launcher killed outright (SIGKILL): it can tell nobody. */
  async kill(): Promise<number> {
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

describe('npm start restarted between two syncs', () => {
  let emulatorBuild: Built;
  let serviceBuild: Built;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let baseUrl: string;
  let running: NpmStart | undefined;

  beforeAll(async () => {
    [emulatorBuild, serviceBuild] = await Promise.all([
      builtEmulator('restart-spec'),
      builtService('restart-spec'),
    ]);
    // A `mktemp -d` directory (0700): as root, the embedded cluster then lives where the postgres user can reach it.
    dataDir = join(await mkdtemp(join(tmpdir(), 'restart-spec-')), 'data');
    // The emulator's certificates are the ones this test worker already trusts (NODE_EXTRA_CA_CERTS); the
    // launcher reuses valid certificates it finds in DATA_DIR/emulator.
    const certs = dirname(inject('emulatorTls').caPath);
    await mkdir(join(dataDir, 'emulator'), { recursive: true });
    for (const file of ['ca.pem', 'cert.pem', 'key.pem'])
      await copyFile(join(certs, file), join(dataDir, 'emulator', file));
    const port = await freePort();
    baseUrl = `http://localhost:${port}`;
    env = { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' };
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
      delete env[name];
  }, 180_000);

  afterAll(async () => {
    await running?.stop();
    if (dataDir) {
      const relocated = relocationFor(join(dataDir, 'postgres'));
      if (relocated) await rm(relocated.home, { recursive: true, force: true });
      await rm(dirname(dataDir), { recursive: true, force: true });
    }
    for (const build of [emulatorBuild, serviceBuild])
      if (build?.temporary) await rm(build.dir, { recursive: true, force: true });
  });

  const restart = async (stop: 'stop' | 'ctrlC' = 'stop') => {
    if (running) {
      // A clean stop: exit 0, and the embedded PostgreSQL stopped with it (its owner record released).
      expect(await running[stop](), running.output).toBe(0);
      await expect(stat(join(dataDir, 'postgres.json'))).rejects.toMatchObject({ code: 'ENOENT' });
      // PostgreSQL stopped after the service, not with it: no connection of the service was cut under it.
      expect(running.output).not.toMatch(/terminating connection due to administrator command/);
    }
    running = undefined;
    running = await NpmStart.start(emulatorBuild, serviceBuild, env, baseUrl);
    return running;
  };

  const emulatorUrl = async () => {
    const saved = JSON.parse(await readFile(join(dataDir, 'emulator', 'state.json'), 'utf8')) as {
      port: number;
    };
    return `https://127.0.0.1:${saved.port}`;
  };

  /** "Continue with Microsoft" in a browser: our login, the emulator's authorize, our callback. */
  async function signIn(upn: string): Promise<string> {
    const login = await http(`${baseUrl}/auth/microsoft/login?login_hint=${encodeURIComponent(upn)}`);
    expect(login.status).toBe(302);
    const authorize = await http(login.location!);
    expect(authorize.status).toBe(302);
    const callback = await http(authorize.location!, {
      headers: { cookie: `ms_auth_flow=${cookie(login, 'ms_auth_flow')}` },
    });
    const session = cookie(callback, 'session');
    if (!session) throw new Error(`sign-in of ${upn} ended at ${callback.location}`);
    return session;
  }

  const api = (token: string, path: string, init: RequestInit = {}) =>
    http(`${baseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });

  async function syncNow(token: string) {
    const started = await api(token, '/api/v1/integrations/entra/sync', { method: 'POST' });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    for (;;) {
      const run = await api(token, `/api/v1/integrations/entra/sync-runs/${String(started.body.id)}`);
      if (!['queued', 'running'].includes(String(run.body.status))) return run.body;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('keeps the emulator URL, the grant and the delta link: the second sync succeeds, incrementally', async () => {
    await restart();
    const firstEmulatorUrl = await emulatorUrl();
    expect(running!.output).toContain(`Emulator: ${firstEmulatorUrl}`);
    const owner = await signIn(DEMO.users.adele.upn);
    const me = await api(owner, '/api/v1/me');
    const organizationId = String(me.body.organizationId);
    // The operator CLI beside the running service, as the README has it.
    const cli = await promisify(execFile)(
      process.execPath,
      [join(serviceBuild.dir, 'src', 'cli', 'cli.js'), 'orgs:set-plan', organizationId, 'enterprise'],
      { env, cwd: ROOT },
    );
    expect(cli.stdout).toContain('plan is now enterprise');

    const connect = await api(owner, '/api/v1/integrations/entra/connect', { method: 'POST' });
    expect(connect.status).toBe(200);
    const consent = new URL(String(connect.body.authorizationUrl));
    consent.searchParams.set('login_hint', DEMO.users.adele.upn);
    const granted = await http(consent.toString());
    const connected = await http(granted.location!, { headers: { cookie: `session=${owner}` } });
    expect(new URL(connected.location!).searchParams.get('status')).toBe('connected');
    const settings = await api(owner, '/api/v1/integrations/entra/settings', {
      method: 'PATCH',
      body: JSON.stringify({ autoProvisionUsers: true, autoDeprovisionSync: true }),
    });
    expect(settings.status).toBe(200);
    const megan = await signIn(DEMO.users.megan.upn); // auto-provisioned from the verified domain
    const meganId = String((await api(megan, '/api/v1/me')).body.id);

    expect(await syncNow(owner)).toMatchObject({ status: 'succeeded', mode: 'full', errorCode: null });

    // Ctrl-C, as a person in a terminal stops it.
    await restart('ctrlC');
    expect(await emulatorUrl()).toBe(firstEmulatorUrl);
    expect(running!.output).toContain(`Emulator: ${firstEmulatorUrl}`);
    // Sessions live in the database: the owner is still signed in.
    expect((await api(owner, '/api/v1/me')).status).toBe(200);
    // Microsoft's side changes while the service was down.
    const disabled = await http(`${firstEmulatorUrl}/_emulator/users/${DEMO.users.megan.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accountEnabled: false }),
    });
    expect(disabled.status).toBe(200);

    const second = await syncNow(owner);
    expect(second, JSON.stringify(second) + running!.output.slice(-3000)).toMatchObject({
      status: 'succeeded',
      mode: 'incremental',
      errorCode: null,
    });
    expect(second.counts).toMatchObject({ deactivated: 1 });
    const user = await api(owner, `/api/v1/users/${meganId}`);
    expect(user.body).toMatchObject({ status: 'deactivated', deactivationReason: 'entra_account_disabled' });
  }, 180_000);

  it('stops the service and its database when the launcher is killed, so nothing serves on, orphaned', async () => {
    await running?.stop();
    running = await NpmStart.start(emulatorBuild, serviceBuild, env, baseUrl);
    await running.kill();
    // The service notices its launcher gone, drains and stops its embedded PostgreSQL: the owner record goes,
    // which only a clean stop does (a killed owner leaves it behind for the next start to find stale).
    await expect
      .poll(
        () =>
          stat(join(dataDir, 'postgres.json')).then(
            () => 'running',
            (e: NodeJS.ErrnoException) => e.code,
          ),
        {
          timeout: 30_000,
          interval: 100,
        },
      )
      .toBe('ENOENT');
    await expect(fetch(`${baseUrl}/health/live`)).rejects.toThrow();
    running = undefined;
  }, 60_000);
});
