import type { DataSource } from 'typeorm';
import { createDataSource } from './app.data-source.js';

// An arbitrary constant shared by every replica: whoever holds this advisory lock applies the migrations.
const MIGRATION_LOCK_KEY = 7_242_001;

/**
 * Applies pending migrations, each in its own transaction, while holding a PostgreSQL advisory lock so that
 * replicas starting together wait for one another instead of racing. Returns the names applied.
 */
export async function runMigrations(url: string): Promise<string[]> {
  const dataSource = await createDataSource(url).initialize();
  try {
    return await withMigrationLock(dataSource, async () => {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    });
  } finally {
    await dataSource.destroy();
  }
}

export async function withMigrationLock<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await work();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
