import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataSource } from '../../src/app.data-source.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { createTestDatabase } from '../support/test-app.js';

/**
 * Everything a migration can create in the public schema, as comparable text: tables and columns (type,
 * nullability, default), constraints, indexes, enum types and their labels, triggers and functions (not those
 * of extensions, which outlive a down). TypeORM's own tables are left out: `migrations`, and `typeorm_metadata`,
 * which its migration runner creates before running or undoing any migration once an entity has a generated column.
 */
const SCHEMA_SNAPSHOT = `
  SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || udt_name || ' ' ||
         is_nullable || ' ' || coalesce(column_default, '-') AS item
    FROM information_schema.columns WHERE table_schema = 'public'
     AND table_name NOT IN ('migrations', 'typeorm_metadata')
  UNION ALL
  SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid <> 0
      AND conrelid::regclass::text NOT IN ('migrations', 'typeorm_metadata')
  UNION ALL
  SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
     AND tablename NOT IN ('migrations', 'typeorm_metadata')
  UNION ALL
  SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
   WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname
  UNION ALL
  SELECT 'trigger ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'function ' || p.proname || ' ' || md5(pg_get_functiondef(p.oid))
    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
  ORDER BY 1`;

describe('migrations', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let client: pg.Client;

  const snapshot = async () =>
    (await client.query<{ item: string }>(SCHEMA_SNAPSHOT)).rows.map((r) => r.item);

  beforeAll(async () => {
    database = await createTestDatabase(); // migrated to the latest schema
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  it('round-trip: every down undoes its up, and up again rebuilds the same schema', async () => {
    const migrated = await snapshot();
    expect(migrated.some((item) => item.startsWith('column users.'))).toBe(true);

    const dataSource = await createDataSource(database.url).initialize();
    try {
      for (let i = MIGRATIONS.length - 1; i >= 0; i--) {
        await dataSource.undoLastMigration({ transaction: 'each' });
      }
      const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM migrations');
      expect(Number(rows[0].count)).toBe(0);
      // Nothing a migration made is left behind once every down has run.
      expect(await snapshot()).toEqual([]);

      const applied = await dataSource.runMigrations({ transaction: 'each' });
      expect(applied).toHaveLength(MIGRATIONS.length);
    } finally {
      await dataSource.destroy();
    }
    expect(await snapshot()).toEqual(migrated);
  });
});
