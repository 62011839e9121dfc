import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { EntityManager } from 'typeorm';

/** Distinct statement texts named per process; beyond it, a text is sent unnamed (parsed every time). */
const MAX_NAMED = 100;
const names = new Map<string, string>();

function nameOf(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) {
    name = `hot_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * Runs a read as a named prepared statement: each pooled connection parses and plans its text once and then
 * only binds values, which is most of what PostgreSQL spends on a one-row index lookup. For the hottest reads
 * (a SCIM token, a SCIM `userName eq` query), whose text is fixed or comes from a small set: every distinct
 * text stays prepared on every connection for its lifetime, so at most 100 texts per process are named and any
 * further one is sent as a plain query. Values are always parameters, never part of the text. Inside a
 * transaction the statement runs on the transaction's connection.
 */
export async function queryPrepared<T>(
  manager: EntityManager,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const name = nameOf(text);
  if (name === undefined) return (await manager.query(text, values)) as T[];
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  try {
    const client = (await runner.connect()) as pg.PoolClient;
    const result = await client.query({ name, text, values });
    return result.rows as T[];
  } finally {
    if (!manager.queryRunner) await runner.release();
  }
}
