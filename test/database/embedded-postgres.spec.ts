import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { runMigrations } from '../../src/app.migrate.js';

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL', () => {
  let dir: string;
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps data across restarts and survives a stale postmaster.pid from a killed run', async () => {
    dir = await mkdtemp(join(tmpdir(), 'embedded-pg-'));
    await chmod(dir, 0o755); // reachable by the `postgres` user PostgreSQL runs as under root
    const dataDir = join(dir, 'postgres');

    const first = await startEmbeddedPostgres({ dir: dataDir });
    expect(await runMigrations(first.url)).not.toHaveLength(0);
    await query(first.url, `INSERT INTO organizations (name) VALUES ('Kept across restarts')`);
    await first.stop();

    // A SIGKILLed run leaves postmaster.pid behind, naming a process that no longer exists.
    await writeFile(join(dataDir, 'postmaster.pid'), '999999\n/tmp\n0\n5432\n');
    const second = await startEmbeddedPostgres({ dir: dataDir });
    try {
      const rows = await query<{ name: string }>(second.url, 'SELECT name FROM organizations');
      expect(rows.map((r) => r.name)).toEqual(['Kept across restarts']);
      expect(await runMigrations(second.url)).toEqual([]);
    } finally {
      await second.stop();
    }
  });

  it('applies migrations once when several replicas start together', async () => {
    const db = await startEmbeddedPostgres({ dir: join(dir, 'concurrent'), ephemeral: true });
    try {
      const results = await Promise.all([
        runMigrations(db.url),
        runMigrations(db.url),
        runMigrations(db.url),
      ]);
      expect(results.filter((applied) => applied.length > 0)).toHaveLength(1);
      const rows = await query<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM migrations');
      expect(rows[0].n).toBe(results.flat().length);
    } finally {
      await db.stop();
    }
  });
});
