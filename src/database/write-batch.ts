import type { EntityManager } from 'typeorm';
import { preparedQuery } from './prepared-statements.js';

/**
 * Several writes of one transaction, possibly of several modules (a user, its audit event, its outbox event),
 * sent as one statement: each module adds its data-modifying CTE (`name AS (INSERT … RETURNING …)`) with typed
 * parameters, and the batch runs them together as a named prepared statement. Its text depends only on the
 * shape of the writes (which parts, how many rows), never on the values, so PostgreSQL parses and plans it
 * once per connection. Each module still writes only its own tables and reads back only its own rows.
 *
 * The parts see the same snapshot and none may read another's rows (PostgreSQL runs them as one statement);
 * AFTER STATEMENT triggers fire once, at its end.
 */
export class WriteBatch {
  private readonly values: unknown[] = [];
  private readonly parts: string[] = [];
  private readonly returned: string[] = [];

  /** The placeholder of one value, cast to `type` so the prepared statement's parameter types never vary. */
  param(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }

  /**
   * Adds a CTE (`sql`: an INSERT, UPDATE or SELECT; a later part may read an earlier one's rows by the name it
   * got) and returns its name, `<kind>_<n>`. With `returns`, the rows of its RETURNING clause (or its SELECT)
   * come back under that name, as JSON: timestamps as ISO strings; return bigints as text.
   */
  add(kind: string, sql: string, returns = false): string {
    if (!/^[a-z][a-z_]*$/.test(kind)) throw new Error(`WriteBatch: ${kind} is not a plain name`);
    const name = `${kind}_${this.parts.length + 1}`;
    this.parts.push(`${name} AS (${sql})`);
    if (returns) this.returned.push(name);
    return name;
  }

  get empty(): boolean {
    return this.parts.length === 0;
  }

  /** Runs every part in one statement of the current transaction; the returned rows of each part by name. */
  async run(manager: EntityManager): Promise<Record<string, Record<string, unknown>[]>> {
    if (this.parts.length === 0) return {};
    const select = this.returned.length
      ? this.returned.map((n) => `(SELECT coalesce(json_agg(${n}), '[]'::json) FROM ${n}) AS ${n}`).join(', ')
      : '1 AS done';
    const text = `WITH ${this.parts.join(',\n')}\nSELECT ${select}`;
    const [row] = await preparedQuery<Record<string, Record<string, unknown>[]>>(manager, text, this.values);
    return row;
  }
}
