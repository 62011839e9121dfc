import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';

/** The part of a node-postgres pool or client this module uses. */
interface PgQueryable {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** Off (DATABASE_PREPARED_STATEMENTS=false): the same statements go out unnamed, parsed and planned each time. */
let enabled = true;

/** Set once at boot from the configuration. */
export function usePreparedStatements(on: boolean): void {
  enabled = on;
}

/** Statement names by text: a name is bound to its text on every connection that prepared it. */
const names = new Map<string, string>();

/**
 * How many texts get a name, per process. Each connection keeps every statement it prepared until it closes,
 * and some texts vary with the request (the list's `limit`): past this many, a new text goes out unnamed, so
 * no client can make the server's connections hold an unbounded number of plans.
 */
export const MAX_NAMED_STATEMENTS = 64;

/**
 * The statement's name: derived from its text, so one name never stands for two statements; undefined once
 * MAX_NAMED_STATEMENTS other texts have one.
 */
export function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (!name) {
    if (names.size >= MAX_NAMED_STATEMENTS) return undefined;
    name = `s_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * Runs a hot read as a named prepared statement (node-postgres `name:`), on the current transaction's
 * connection if `manager` has one, else on any pooled connection. PostgreSQL then parses the text once per
 * connection, and after a few executions keeps a generic plan instead of planning each request. The caller
 * gets node-postgres' rows, as `EntityManager.query` would return them for a SELECT, without TypeORM's query
 * runner round trip (acquire, log, broadcast, release) per statement.
 *
 * With DATABASE_PREPARED_STATEMENTS=false the statement goes out unnamed (still without TypeORM's round trip).
 * Only for statements whose plan does not depend on the values: a bounded set of texts (each connection keeps
 * every statement it prepared) and values that the planner would treat alike.
 */
export async function preparedQuery<Row>(
  manager: EntityManager,
  text: string,
  values: unknown[],
): Promise<Row[]> {
  const runner = manager.queryRunner;
  const target: PgQueryable =
    runner && !runner.isReleased
      ? ((await runner.connect()) as PgQueryable)
      : ((manager.connection.driver as unknown as { master: PgQueryable }).master ?? failNoPool());
  const name = enabled ? statementName(text) : undefined;
  const result = await target.query(name ? { name, text, values } : { text, values });
  return result.rows as Row[];
}

function failNoPool(): never {
  throw new Error('preparedQuery: the data source is not connected');
}
