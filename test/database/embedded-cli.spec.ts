import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_STAMP, buildIsCurrent } from '../../src/cli/build-is-current.js';
import { builtService, type Built } from '../support/built.js';
import {
  EmbeddedDatabaseError,
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from '../../src/database/embedded-postgres.js';
import { runMigrations } from '../../src/app.migrate.js';
import { RELOCATION_ROOT, relocationFor } from '../../src/database/relocated-postgres.js';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function run(entry: string, args: string[], env: Record<string, string>): Promise<Outcome> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.DATABASE_URL;
  return new Promise((done) => {
    execFile(
      process.execPath,
      [entry, ...args],
      { env: childEnv, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const STACK_OR_SQL = /\n\s+at |QueryFailedError|SELECT |invalid input syntax/;

describe('the embedded database shared by the service and the operator CLI', () => {
  let build: Built;
  let dataDir: string;
  let server: EmbeddedDatabase;
  let organizationId: string;
  const cli = (...args: string[]) => run(join(build.dir, 'src/cli/cli.js'), args, { DATA_DIR: dataDir });

  beforeAll(async () => {
    build = await builtService('embedded-cli-spec');
    dataDir = await mkdtemp(join(tmpdir(), 'embedded-cli-'));
    await chmod(dataDir, 0o755); // reachable by the `postgres` user PostgreSQL runs as under root
    // This test process plays the running `npm start`: it owns the embedded server of DATA_DIR.
    server = await startEmbeddedPostgres({ dir: join(dataDir, 'postgres'), owner: 'the service' });
    await runMigrations(server.url);
    const [row] = await query<{ id: string }>(
      server.url,
      `INSERT INTO organizations (name) VALUES ('Contoso Ltd') RETURNING id`,
    );
    organizationId = row.id;
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
    if (build?.temporary) await rm(build.dir, { recursive: true, force: true });
  });

  it('records how to reach the running server, without the password, readable by its owner only', async () => {
    const file = join(dataDir, 'postgres.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ pid: process.pid, host: '127.0.0.1', database: 'app', ready: true });
    const password = (await readFile(join(dataDir, 'postgres.password'), 'utf8')).trim();
    expect(JSON.stringify(record)).not.toContain(password);
  });

  it('a second service start on the same DATA_DIR refuses in one line, and the first keeps serving', async () => {
    const second = await run(join(build.dir, 'src/main.js'), [], {
      DATA_DIR: dataDir,
      ENTRA_CLIENT_ID: 'test-client',
      ENTRA_CLIENT_SECRET: 'test-secret',
      PORT: '0',
    });
    expect(second.code).toBe(1);
    expect(second.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/in use by the service \(pid \d+, 127\.0\.0\.1:\d+\): stop that process first/),
    ]);
    expect(await query(server.url, `SELECT name FROM organizations`)).toEqual([{ name: 'Contoso Ltd' }]);
  });

  it('a second start in the same process is refused as well, with the same error', async () => {
    await expect(startEmbeddedPostgres({ dir: join(dataDir, 'postgres') })).rejects.toBeInstanceOf(
      EmbeddedDatabaseError,
    );
    expect(await query(server.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
  });

  it('the CLI lists organizations through the running server and leaves it running', async () => {
    const listed = await cli('orgs:list');
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(organizationId);
    expect(listed.stdout).toContain('Contoso Ltd');
    expect(await query(server.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    // Still the service's record: the CLI neither replaced nor removed it.
    const record = JSON.parse(await readFile(join(dataDir, 'postgres.json'), 'utf8')) as { pid: number };
    expect(record.pid).toBe(process.pid);
  });

  it('the CLI changes a plan on the running server', async () => {
    const changed = await cli('orgs:set-plan', organizationId, 'enterprise');
    expect(changed).toMatchObject({ code: 0, stdout: 'Contoso Ltd: plan is now enterprise\n' });
    expect(await query(server.url, 'SELECT plan FROM organizations WHERE id = $1', [organizationId])).toEqual(
      [{ plan: 'enterprise' }],
    );
  });

  it('a malformed id is answered in one line, without a stack trace or SQL', async () => {
    const answer = await cli('orgs:set-plan', 'not-a-uuid', 'enterprise');
    expect(answer.code).toBe(2);
    expect(answer.stdout).toBe('');
    expect(answer.stderr).toBe('not-a-uuid is not an organization id (a UUID, as orgs:list shows)\n');
    const seats = await cli('orgs:set-seats', "1' OR 1=1 --", '10');
    expect(seats.code).toBe(2);
    expect(seats.stderr).not.toMatch(STACK_OR_SQL);
    expect(seats.stderr).toContain('is not an organization id');
  });

  it('an unknown plan lists the plans; a bad seat limit says what a seat limit is', async () => {
    const plan = await cli('orgs:set-plan', organizationId, 'gold');
    expect(plan.code).toBe(2);
    expect(plan.stderr).toBe('unknown plan gold: the plans are free, team, enterprise\n');
    const seats = await cli('orgs:set-seats', organizationId, 'lots');
    expect(seats.code).toBe(2);
    expect(seats.stderr).toBe('lots is not a seat limit: give a whole number of at least 1\n');
    expect(await query(server.url, 'SELECT plan FROM organizations WHERE id = $1', [organizationId])).toEqual(
      [{ plan: 'enterprise' }],
    );
  });

  it('an unknown organization is a coded one-line answer; an unknown command prints the usage', async () => {
    const missing = await cli('orgs:set-plan', '00000000-0000-4000-8000-000000000000', 'team');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('ORGANIZATION_NOT_FOUND: Organization not found.\n');
    const unknown = await cli('orgs:delete-everything');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command orgs:delete-everything');
    expect(unknown.stderr).toContain('npm run cli -- orgs:set-plan <organizationId> <free|team|enterprise>');
    expect(unknown.stderr).not.toMatch(STACK_OR_SQL);
    // The migration CLI answers a typo before it starts or reaches any database.
    const migration = await run(join(build.dir, 'src/cli/migration-cli.js'), ['migrate'], {
      DATA_DIR: dataDir,
    });
    expect(migration).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'unknown command migrate: usage: migration-cli run | revert | generate <Name> | check\n',
    });
  });
});

describe('the owner record of a dead process', () => {
  it('is ignored and replaced: the server starts, and the record then names the new owner', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'embedded-stale-'));
    await chmod(dir, 0o755);
    try {
      const dataDir = join(dir, 'postgres');
      await writeFile(
        `${dataDir}.json`,
        JSON.stringify({
          pid: 999_999,
          owner: 'the service',
          host: '127.0.0.1',
          port: 1,
          user: 'postgres',
          database: 'app',
          ready: true,
        }),
        { mode: 0o600 },
      );
      const db = await startEmbeddedPostgres({ dir: dataDir, ephemeral: true, owner: 'the service' });
      try {
        expect(await query(db.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
        const record = JSON.parse(await readFile(`${dataDir}.json`, 'utf8')) as { pid: number };
        expect(record.pid).toBe(process.pid);
      } finally {
        await db.stop();
      }
      // Stopping releases the record, so the next start does not even have to judge it.
      await expect(stat(`${dataDir}.json`)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(process.getuid?.() === 0)('as root, in a directory the postgres user cannot enter', () => {
  it('keeps the cluster where that user can reach it, keyed by the data directory, across restarts', async () => {
    const privateDir = await mkdtemp(join(tmpdir(), 'embedded-private-')); // mode 0700, like `mktemp -d`
    const dir = join(privateDir, '.data', 'postgres');
    const relocation = relocationFor(dir)!;
    const lines: string[] = [];
    try {
      expect((await stat(privateDir)).mode & 0o777).toBe(0o700);
      expect(relocation.dataDir.startsWith(`${RELOCATION_ROOT}/`)).toBe(true);
      let db = await startEmbeddedPostgres({ dir, owner: 'the service', log: (l) => lines.push(l) });
      try {
        await query(db.url, `CREATE TABLE kept (note text); INSERT INTO kept VALUES ('before the restart')`);
      } finally {
        await db.stop();
      }
      expect(lines.some((l) => l.includes(`so the cluster lives in ${relocation.dataDir}`))).toBe(true);
      // Root owns the way in (0711: no listing); the postgres user owns the data (0700); DATA_DIR keeps the rest.
      expect((await stat(relocation.home)).mode & 0o777).toBe(0o711);
      const data = await stat(relocation.dataDir);
      expect(data.mode & 0o777).toBe(0o700);
      expect(data.uid).not.toBe(0);
      expect((await stat(`${dir}.password`)).mode & 0o777).toBe(0o600);

      db = await startEmbeddedPostgres({ dir, owner: 'the service' });
      try {
        expect(await query(db.url, 'SELECT note FROM kept')).toEqual([{ note: 'before the restart' }]);
      } finally {
        await db.stop();
      }
    } finally {
      await rm(privateDir, { recursive: true, force: true });
      await rm(relocation.home, { recursive: true, force: true });
    }
  });

  it('an ephemeral cluster leaves nothing behind', async () => {
    const privateDir = await mkdtemp(join(tmpdir(), 'embedded-private-'));
    const dir = join(privateDir, 'postgres');
    try {
      const db = await startEmbeddedPostgres({ dir, ephemeral: true });
      expect(await query(db.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
      await db.stop();
      await expect(stat(relocationFor(dir)!.home)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(privateDir, { recursive: true, force: true });
    }
  });
});

describe('npm run cli rebuilds only a stale dist/', () => {
  it('is current after a build, and stale after a source file changes, appears or is deleted', async () => {
    const root = await mkdtemp(join(tmpdir(), 'build-stamp-'));
    // Explicit times, so no step depends on the clock moving between two writes.
    const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000);
    const age = (path: string, secondsAgo: number) =>
      utimes(join(root, path), at(secondsAgo), at(secondsAgo));
    try {
      await mkdir(join(root, 'src'), { recursive: true });
      await mkdir(join(root, 'dist'), { recursive: true });
      await writeFile(join(root, 'src', 'a.ts'), 'export {};\n');
      await age('src/a.ts', 600);
      await age('src', 600);
      expect(buildIsCurrent(root)).toBe(false); // no complete build yet
      await writeFile(join(root, BUILD_STAMP), '');
      await age(BUILD_STAMP, 300);
      expect(buildIsCurrent(root)).toBe(true);
      await age('src/a.ts', 100); // edited after the build
      expect(buildIsCurrent(root)).toBe(false);
      await age('src/a.ts', 600);
      await writeFile(join(root, 'src', 'b.ts'), 'export {};\n'); // a file appears
      expect(buildIsCurrent(root)).toBe(false);
      await rm(join(root, 'src', 'b.ts'));
      await age('src', 100); // and is deleted again: only its folder's time tells
      expect(buildIsCurrent(root)).toBe(false);
      await age('src', 600);
      expect(buildIsCurrent(root)).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
