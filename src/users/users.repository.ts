import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { translateUniqueViolation } from '../common/database-errors.js';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { Cursor } from '../common/pagination.js';
import {
  OrganizationScopedRepository,
  UnscopedQueryError,
} from '../database/organization-scoped.repository.js';
import { MicrosoftIdentityEntity } from './entities/microsoft-identity.entity.js';
import { type Role, UserEntity, type UserStatus } from './entities/user.entity.js';
import { MicrosoftIdentityAlreadyLinkedError } from './users.errors.js';
import type { CallerProfileQuery } from '../common/principal.js';
import { preparedQuery } from '../database/prepared-statements.js';
import type { WriteBatch } from '../database/write-batch.js';
import { CallerProfile, type IdentitySummary } from './caller-profile.js';
import type { UserRow } from './dto/user.dto.js';

export interface LinkedUser {
  userId: string;
  objectId: string;
  status: UserStatus;
  role: Role;
}

/**
 * How many matches of a search term the trigram indexes hand over before the term counts as common (see
 * `list`): at 100,000 users, 1 % of the organization.
 */
const SEARCH_PROBE = 1000;

/**
 * How many rows of the list's order a search tests per row of its page before it turns to the trigram indexes: a
 * term that 2 % of the users match fills its page there (51 rows within 2,550). Testing a row in that walk costs a
 * small fraction of what a match costs through the trigram indexes (bitmap, heap fetch and recheck, then a sort),
 * so a common term is never looked up there first.
 */
const SEARCH_WINDOW_PER_ROW = 50;

/**
 * The first rows of that window, per row of the page, tested before it: a sample of the organization where the
 * caller is reading. A term none of them matches is likely rare (at 2 % a sample of 102 rows misses it 1 time in
 * 8, and then only costs more), and a rare term costs less through the trigram indexes than the window costs to
 * walk (a term matching nobody reads an empty bitmap, where the walk would test all 2,550 rows).
 */
const SEARCH_SAMPLE_PER_ROW = 2;

/**
 * The users list's conditions as SQL with numbered parameters, the organization always first. They render over
 * any alias with the same placeholders, so a subquery over the same rows reuses the statement's parameters.
 */
class ListConditions {
  readonly params: unknown[];
  private readonly conditions: ((alias: string) => string)[] = [(a) => `${a}.organization_id = $1`];

  constructor(organizationId: string, filter: UserListFilter, cursor: Cursor | null) {
    this.params = [organizationId];
    if (filter.status) {
      const p = this.add(filter.status);
      this.conditions.push((a) => `${a}.status = ${p}`);
    }
    if (filter.role) {
      const p = this.add(filter.role);
      this.conditions.push((a) => `${a}.role = ${p}`);
    }
    // Row comparison: an index condition on (organization_id, created_at, id), not a filter.
    if (cursor) {
      const [at, id] = [this.add(cursor.createdAt), this.add(cursor.id)];
      this.conditions.push((a) => `(${a}.created_at, ${a}.id) > (${at}::timestamptz, ${id}::uuid)`);
    }
  }

  /** Adds a parameter; returns its placeholder. */
  add(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  sql(alias = 'u'): string {
    return this.conditions.map((condition) => condition(alias)).join(' AND ');
  }
}

type ColumnReader = (entity: object, row: Record<string, unknown>) => void;

/** The SQL type of a column, for a parameter's cast (a prepared statement's parameter types never vary). */
function sqlTypeOf(column: ColumnMetadata): string {
  const type = column.type === 'enum' ? `"${column.enumName}"` : String(column.type);
  return column.isArray ? `${type}[]` : type;
}

/** Column types whose raw value from `pg` is already what TypeORM's hydration would make of it. */
const VERBATIM_TYPES = new Set<unknown>(['uuid', 'text', 'varchar', 'character varying', 'timestamptz']);

/**
 * One reader per column: TypeORM's own conversion (`prepareHydratedValue`, `setEntityValue`), except where it
 * would hand back the raw value unchanged — a plain column of a verbatim type, or a string-valued enum — which
 * is copied as is. That conversion walks a chain of type tests per column and row, and the users list hydrates
 * 50 rows of 16 columns per page.
 */
function columnReaders(
  columns: readonly ColumnMetadata[],
  driver: { prepareHydratedValue(value: unknown, column: ColumnMetadata): unknown },
  prefix: string,
): ColumnReader[] {
  return columns.map((column) => {
    const key = prefix + column.databaseName;
    const plain = !column.embeddedMetadata && !column.isVirtual && !column.transformer && !column.isArray;
    const verbatim =
      VERBATIM_TYPES.has(column.type) ||
      (column.type === 'enum' && (column.enum ?? []).every((value) => typeof value === 'string'));
    if (plain && verbatim)
      return (entity, row) => {
        (entity as Record<string, unknown>)[column.propertyName] = row[key];
      };
    return (entity, row) => column.setEntityValue(entity, driver.prepareHydratedValue(row[key], column));
  });
}

/**
 * A case-insensitive substring match of the term (lower-case, placeholder `t`) in the email (stored lower-case) or
 * the display name (`display_name_lower`) of alias `a`: columns the order index carries, so a walk of the order
 * tests them on the index entries. strpos is the test the trigram path's LIKE makes, written so that the planner
 * cannot trade a walk of the order for the trigram indexes.
 */
const termTest = (a: string, t: string) =>
  `(strpos(${a}.email, ${t}) > 0 OR strpos(${a}.display_name_lower, ${t}) > 0)`;

/** What a walk of the order reads of each row it tests: the order index's entries (an index-only scan). */
const walkColumns = (a: string) => `${a}.id, ${a}.created_at, ${a}.email, ${a}.display_name_lower`;

/** `column` (a timestamptz) as `Date#toISOString` writes it: UTC, milliseconds truncated as node-postgres' Date did. */
const isoInstant = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The users list's select list over alias `u`: a `UserRow` per row, named as the answer names the fields, every
 * value text (or null), so node-postgres hands each over as it arrives — no Date parsing, no entity to hydrate.
 */
const LIST_COLUMNS = [
  'u.id',
  'u.organization_id AS "organizationId"',
  'u.email',
  'u.display_name AS "displayName"',
  'u.role',
  'u.role_source AS "roleSource"',
  'u.role_source_group_id AS "roleSourceGroupId"',
  'u.role_source_group_name AS "roleSourceGroupName"',
  'u.status',
  'u.pending_reason AS "pendingReason"',
  'u.deactivation_reason AS "deactivationReason"',
  `${isoInstant('u.deactivated_at')} AS "deactivatedAt"`,
  `${isoInstant('u.last_sign_in_at')} AS "lastSignInAt"`,
  `${isoInstant('u.created_at')} AS "createdAt"`,
].join(', ');

export interface UserListFilter {
  status?: UserStatus;
  role?: Role;
  search?: string;
}

@Injectable()
export class UsersRepository {
  private readonly users: OrganizationScopedRepository<UserEntity>;
  /** Each entity's column readers, made at the first read (the metadata is fixed once the data source is up). */
  private readonly readers = new WeakMap<readonly ColumnMetadata[], Map<string, ColumnReader[]>>();
  private profileQuery?: CallerProfileQuery;
  private userColumns?: readonly ColumnMetadata[];

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.users = new OrganizationScopedRepository(UserEntity, () => this.txHost.tx);
  }

  /** Identities hang off a user (no organization column); every read of them joins or names the user. */
  private identities() {
    return this.txHost.tx.getRepository(MicrosoftIdentityEntity);
  }

  /**
   * A user by id in any organization: for a session, which names the user and not yet the organization.
   * The one lookup across organizations; everything reached from it is scoped by the user's organization.
   */
  findByIdAcrossOrganizations(id: string): Promise<UserEntity | null> {
    return this.users.acrossOrganizations().findOneBy({ id });
  }

  /** A prepared statement: every write path reads its user (SCIM, status changes). */
  async findInOrganization(organizationId: string, id: string): Promise<UserEntity | null> {
    return this.oneUser(organizationId, id, '');
  }

  /** Locks the row for the rest of the current transaction (a prepared statement). */
  lockInOrganization(organizationId: string, id: string): Promise<UserEntity | null> {
    return this.oneUser(organizationId, id, 'FOR UPDATE');
  }

  /** One user of the organization by id, hydrated as TypeORM would, as a prepared statement. */
  private async oneUser(
    organizationId: string,
    id: string,
    lock: '' | 'FOR UPDATE',
  ): Promise<UserEntity | null> {
    this.assertOrganization(organizationId);
    const columns = this.columns();
    const rows = await preparedQuery<Record<string, unknown>>(
      this.txHost.tx,
      `SELECT ${columns.map((c) => `u.${c.databaseName}`).join(', ')} FROM users u
        WHERE u.organization_id = $1 AND u.id = $2 ${lock}`,
      [organizationId, id],
    );
    return rows[0] ? this.hydrate(new UserEntity(), columns, rows[0]) : null;
  }

  /**
   * The user `$2` of the organization `o` as the organizations module's `lockAlong` takes it: the organization's
   * lock and this user's in one statement, organization first.
   */
  lockedUserAlong(): {
    from: string;
    on: string;
    columns: string;
    lock: string;
    read(row: Record<string, unknown>): UserEntity;
  } {
    return {
      from: 'users u',
      on: 'u.organization_id = o.id AND u.id = $2',
      ...this.userColumnsQuery(),
      lock: 'FOR UPDATE OF u',
    };
  }

  /**
   * The user row `u` as select-list items (columns prefixed `u_`), for another module's statement to read along
   * (SCIM's write paths read the product user with their locked SCIM row); and the reader of such a row.
   */
  userColumnsQuery(): { columns: string; read(row: Record<string, unknown>): UserEntity } {
    const columns = this.columns();
    return {
      columns: columns.map((c) => `u.${c.databaseName} AS "u_${c.databaseName}"`).join(', '),
      read: (row) => this.hydrate(new UserEntity(), columns, row, 'u_'),
    };
  }

  /**
   * A SELECT of the ids of the organization's users holding an address (lower-cased) as their email or as the
   * UPN of a linked Microsoft account, over the placeholders given: two index look-ups
   * (`users_organization_email_idx`, `microsoft_identities_upn_lower_idx`), the same as `findByEmailOrUpn`, for
   * another module's statement to test along (SCIM's create), so the users module keeps the rule's SQL.
   */
  holdersOfAddressQuery(organization: string, address: string): string {
    return `(SELECT e.id FROM users e WHERE e.organization_id = ${organization} AND e.email = ${address} LIMIT 1)
            UNION ALL
            (SELECT i.user_id FROM microsoft_identities i JOIN users w ON w.id = i.user_id
              WHERE w.organization_id = ${organization} AND lower(i.user_principal_name) = ${address} LIMIT 1)`;
  }

  /** Adds the insert of a new user, every column as the entity has it, to a batch of the transaction's writes. */
  addInsert(batch: WriteBatch, user: UserEntity): void {
    this.assertOrganization(user.organizationId);
    const columns = this.columns();
    const values = columns.map((c) => batch.param(c.getEntityValue(user) ?? null, sqlTypeOf(c)));
    batch.add(
      'user_insert',
      `INSERT INTO users (${columns.map((c) => c.databaseName).join(', ')}) VALUES (${values.join(', ')})`,
    );
  }

  /**
   * Adds the update of these columns of a locked user to a batch of the transaction's writes; the returned step
   * applies them, with the new update time, to the entity once the batch ran.
   */
  addUpdate(
    batch: WriteBatch,
    user: UserEntity,
    changes: Partial<UserEntity>,
  ): (result: Record<string, Record<string, unknown>[]>) => UserEntity {
    this.assertOrganization(user.organizationId);
    const metadata = this.txHost.tx.connection.getMetadata(UserEntity);
    const set = Object.keys(changes).map((property) => {
      const column = metadata.findColumnWithPropertyName(property);
      if (!column) throw new Error(`users has no column for ${property}`);
      return `${column.databaseName} = ${batch.param((changes as Record<string, unknown>)[property] ?? null, sqlTypeOf(column))}`;
    });
    const name = batch.add(
      'user_update',
      `UPDATE users SET ${set.join(', ')}, updated_at = now()
        WHERE id = ${batch.param(user.id, 'uuid')} AND organization_id = ${batch.param(user.organizationId, 'uuid')}
       RETURNING updated_at`,
      true,
    );
    return (result) => {
      const [row] = result[name] as { updated_at: string }[];
      if (!row) throw new UnscopedQueryError('The row is not in the organization named.');
      return Object.assign(user, changes, { updatedAt: new Date(row.updated_at) });
    };
  }

  /**
   * The user's columns the service writes and reads: all but the generated `display_name_lower`, which only the
   * list's search reads (PostgreSQL refuses a value for it). One array, so the readers made for it are reused.
   */
  private columns(): readonly ColumnMetadata[] {
    this.userColumns ??= this.txHost.tx.connection
      .getMetadata(UserEntity)
      .columns.filter((c) => c.generatedType === undefined);
    return this.userColumns;
  }

  private assertOrganization(organizationId: string): void {
    if (typeof organizationId !== 'string' || organizationId.length === 0)
      throw new UnscopedQueryError('An organization id is required for organization-owned rows.');
  }

  /**
   * A page of the organization's users in `(created_at, id)` order, after `cursor`. Without a search this is one
   * walk of `users_organization_created_at_id_idx` (or its status twin) reading `take` rows, however deep the
   * cursor. Written as SQL that reads `UserRow`s as text (see LIST_COLUMNS): this is the hot read of the API, and
   * building and hydrating entities for it (and parsing their timestamps) cost more CPU than PostgreSQL spends
   * answering it.
   */
  async list(
    organizationId: string,
    filter: UserListFilter,
    cursor: Cursor | null,
    take: number,
  ): Promise<UserRow[]> {
    if (typeof organizationId !== 'string' || organizationId.length === 0)
      throw new UnscopedQueryError('An organization id is required for organization-owned rows.');
    // Each statement numbers its own parameters.
    const where = () => new ListConditions(organizationId, filter, cursor);
    const term = filter.search?.toLowerCase();
    if (term === undefined) {
      // Prepared: a page's plan never depends on the values (always the walk of the order's index).
      const all = where();
      return this.selectRows(all.sql(), all.params, take, 'users u', true);
    }
    // The service refuses shorter terms; no trigram could serve one.
    if (term.length >= 3) {
      // First the next rows of the order, if their first rows hold a match: a common term fills its page there.
      const found = await this.windowMatches(where(), term, take);
      if (found.length === take) return found;
      // A rarer term: the rest of its matches (after the rows tested) through the trigram indexes.
      const tested = take * (found.length > 0 ? SEARCH_WINDOW_PER_ROW : SEARCH_SAMPLE_PER_ROW);
      const rest = await this.searchByTrigrams(where(), term, take - found.length, tested);
      if (rest) return found.concat(rest);
    }
    // A term that is neither common enough for the window nor rare enough for the indexes: walk the order.
    return this.walkMatches(where(), term, take, null);
  }

  /**
   * The first `take` users matching `term` among the next SEARCH_WINDOW_PER_ROW rows of the order per row of the
   * page, or none when the first SEARCH_SAMPLE_PER_ROW rows per row match nobody (then the window is never read:
   * a one-time filter). Either way one statement: a match in the sample is a match in the window, so no rows
   * means only the sample was tested.
   */
  private windowMatches(where: ListConditions, term: string, take: number): Promise<UserRow[]> {
    return this.walkMatches(where, term, take, take * SEARCH_WINDOW_PER_ROW, take * SEARCH_SAMPLE_PER_ROW);
  }

  /**
   * The first `take` users matching `term` in the order (within its next `window` rows, if given; only if one of
   * its first `sample` rows matches, if given), in one statement: the walk tests the term on the entries of
   * `users_organization_created_at_id_idx` (an index-only scan when no filter needs the row), and only the page's
   * rows are read from the table, each by its id (LATERAL … LIMIT 1: never a hash join that reads the table, which
   * a generic plan may pick for a small organization). Prepared: its plan never depends on the values.
   */
  private walkMatches(
    where: ListConditions,
    term: string,
    take: number,
    window: number | null,
    sample?: number,
  ): Promise<UserRow[]> {
    const t = where.add(term);
    const next = (alias: string, size: number) =>
      `(SELECT ${walkColumns(alias)} FROM users ${alias} WHERE ${where.sql(alias)}
         ORDER BY ${alias}.created_at, ${alias}.id LIMIT ${Number(size)}) ${alias}`;
    const walked = window === null ? `users w WHERE ${where.sql('w')} AND` : `${next('w', window)} WHERE`;
    const sampled =
      sample === undefined ? '' : `AND EXISTS (SELECT FROM ${next('s', sample)} WHERE ${termTest('s', t)})`;
    return preparedQuery<UserRow>(
      this.txHost.tx,
      `WITH m AS (
         SELECT w.id, w.created_at FROM ${walked} ${termTest('w', t)} ${sampled}
          ORDER BY w.created_at, w.id LIMIT ${Number(take)})
       SELECT ${LIST_COLUMNS} FROM m,
              LATERAL (SELECT * FROM users u WHERE u.id = m.id AND u.organization_id = $1 LIMIT 1) u
        ORDER BY m.created_at, m.id`,
      where.params,
    );
  }

  /**
   * The page's matches after the first `skip` rows of the order, found through the trigram indexes
   * (`users_email_trgm_idx`, `users_display_name_lower_trgm_idx`) and read by id in the same statement (as
   * `walkMatches` reads its page), or null when the term matches more than SEARCH_PROBE users there: sorting that
   * many matches would cost more than walking the order to the first `take` of them.
   */
  private async searchByTrigrams(
    where: ListConditions,
    term: string,
    take: number,
    skip: number,
  ): Promise<UserRow[] | null> {
    // Past the `skip`-th row (none if there are fewer rows: the comparison with NULL excludes every row).
    const skipped = `(u.created_at, u.id) > (SELECT w.created_at, w.id FROM users w WHERE ${where.sql('w')}
                        ORDER BY w.created_at, w.id OFFSET ${Number(skip) - 1} LIMIT 1)`;
    const p = where.add(`%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    // No ORDER BY inside: the planner then reads the matches off the trigram bitmaps and stops at the probe.
    const rows = (await this.txHost.tx.query(
      `WITH m AS MATERIALIZED (
         SELECT u.id, u.created_at FROM users u
          WHERE ${where.sql()} AND ${skipped} AND (u.email LIKE ${p} OR u.display_name_lower LIKE ${p})
          LIMIT ${SEARCH_PROBE + 1})
       SELECT (SELECT count(*) FROM m)::int AS matched, ${LIST_COLUMNS}
         FROM (SELECT m.id, m.created_at FROM m ORDER BY m.created_at, m.id LIMIT ${Number(take)}) p,
              LATERAL (SELECT * FROM users u WHERE u.id = p.id AND u.organization_id = $1 LIMIT 1) u
        ORDER BY p.created_at, p.id`,
      where.params,
    )) as (UserRow & { matched: number })[];
    if (rows.length > 0 && rows[0].matched > SEARCH_PROBE) return null;
    return rows;
  }

  /** A user of the organization with its Microsoft identities (oldest first), in one statement. */
  async findWithIdentities(
    organizationId: string,
    id: string,
  ): Promise<{ user: UserEntity; identities: MicrosoftIdentityEntity[] } | null> {
    if (typeof organizationId !== 'string' || organizationId.length === 0)
      throw new UnscopedQueryError('An organization id is required for organization-owned rows.');
    const userColumns = this.columns();
    const identityColumns = this.txHost.tx.connection.getMetadata(MicrosoftIdentityEntity).columns;
    const rows = (await this.txHost.tx.query(
      `SELECT ${userColumns.map((c) => `u.${c.databaseName} AS "u_${c.databaseName}"`).join(', ')},
              ${identityColumns.map((c) => `i.${c.databaseName} AS "i_${c.databaseName}"`).join(', ')}
         FROM users u LEFT JOIN microsoft_identities i ON i.user_id = u.id
        WHERE u.organization_id = $1 AND u.id = $2
        ORDER BY i.created_at, i.id`,
      [organizationId, id],
    )) as Record<string, unknown>[];
    if (rows.length === 0) return null;
    return {
      user: this.hydrate(new UserEntity(), userColumns, rows[0], 'u_'),
      identities: rows
        .filter((row) => row.i_id !== null)
        .map((row) => this.hydrate(new MicrosoftIdentityEntity(), identityColumns, row, 'i_')),
    };
  }

  /**
   * The caller's profile as select-list items over the user row `u` (columns prefixed `p_`, the linked accounts
   * as one JSON array, oldest first, through `microsoft_identities_user_id_idx`), for a credential's lookup to
   * read along; and the reader of such a row.
   */
  callerProfileQuery(): CallerProfileQuery {
    if (!this.profileQuery) {
      const columns = this.columns();
      this.profileQuery = {
        columns: [
          ...columns.map((c) => `u.${c.databaseName} AS "p_${c.databaseName}"`),
          `(SELECT coalesce(json_agg(json_build_object('tenantId', i.tenant_id, 'objectId', i.object_id,
                     'userPrincipalName', i.user_principal_name, 'lastSignInAt', i.last_sign_in_at)
                     ORDER BY i.created_at, i.id), '[]'::json)
              FROM microsoft_identities i WHERE i.user_id = u.id) AS "p_identities"`,
        ].join(', '),
        read: (row) =>
          new CallerProfile(
            this.hydrate(new UserEntity(), columns, row, 'p_'),
            (
              row.p_identities as (Omit<IdentitySummary, 'lastSignInAt'> & { lastSignInAt: string | null })[]
            ).map((i) => ({ ...i, lastSignInAt: i.lastSignInAt === null ? null : new Date(i.lastSignInAt) })),
          ),
      };
    }
    return this.profileQuery;
  }

  /** Sets the entity's columns from a raw row as TypeORM's own hydration would. */
  private hydrate<T extends object>(
    entity: T,
    columns: readonly ColumnMetadata[],
    row: Record<string, unknown>,
    prefix = '',
  ): T {
    let readers = this.readers.get(columns)?.get(prefix);
    if (!readers) {
      readers = columnReaders(columns, this.txHost.tx.connection.driver, prefix);
      const byPrefix = this.readers.get(columns) ?? new Map<string, ColumnReader[]>();
      byPrefix.set(prefix, readers);
      this.readers.set(columns, byPrefix);
    }
    for (const read of readers) read(entity, row);
    return entity;
  }

  /**
   * Users matching `where` (over alias `u`, organization first) in list order, as `UserRow`s; `from` is the table
   * or an ordered subquery of it named `u`; `prepared` runs it as a named prepared statement.
   */
  private async selectRows(
    where: string,
    params: unknown[],
    take: number,
    from = 'users u',
    prepared = false,
  ): Promise<UserRow[]> {
    const text = `SELECT ${LIST_COLUMNS} FROM ${from}
        WHERE ${where} ORDER BY u.created_at, u.id LIMIT ${Number(take)}`;
    return prepared
      ? preparedQuery<UserRow>(this.txHost.tx, text, params)
      : ((await this.txHost.tx.query(text, params)) as UserRow[]);
  }

  /**
   * Users of the organization linked to these directory objects of the tenant. The sync asks this for every
   * page it reads, so it goes out as one prepared statement on the pool (`preparedQuery`), without a query
   * builder and a TypeORM query runner per statement (measured alone, a runner per statement had its
   * parameters promoted to the old generation; the pool's query did not).
   */
  findLinkedByObjectIds(
    organizationId: string,
    tenantId: string,
    objectIds: string[],
  ): Promise<LinkedUser[]> {
    if (objectIds.length === 0) return Promise.resolve([]);
    return preparedQuery<LinkedUser>(
      this.txHost.tx,
      `SELECT u.id AS "userId", i.object_id AS "objectId", u.status AS status, u.role AS role
         FROM microsoft_identities i INNER JOIN users u ON u.id = i.user_id
        WHERE u.organization_id = $1 AND i.tenant_id = $2 AND i.object_id = ANY($3::uuid[])`,
      [organizationId, tenantId, objectIds],
    );
  }

  /**
   * Records that the full directory round `roundId` listed these accounts (linked or not): one insert into
   * the round's seen set, a side table, so identity rows are never rewritten for it. The ids come as one
   * comma-separated string, sent as one text parameter (an array parameter is rebuilt as a literal first).
   */
  async markSeenInDirectory(roundId: string, objectIds: string): Promise<void> {
    if (objectIds.length === 0) return;
    // On the pool, like findLinkedByObjectIds: once per page of a full round.
    await preparedQuery(
      this.txHost.tx,
      `INSERT INTO directory_sync_seen (run_id, object_id)
       SELECT $1, unnest(string_to_array($2::text, ','))::uuid ON CONFLICT DO NOTHING`,
      [roundId, objectIds],
    );
  }

  /** Linked users the full round `roundId` did not see (keyset-paged by object id, one anti-join). */
  linkedNotSeen(
    organizationId: string,
    tenantId: string,
    roundId: string,
    afterObjectId: string | null,
    limit: number,
  ) {
    const query = this.linkedQuery(organizationId, tenantId)
      .andWhere(
        'NOT EXISTS (SELECT 1 FROM directory_sync_seen s WHERE s.run_id = :roundId AND s.object_id = i.object_id)',
        { roundId },
      )
      .orderBy('i.object_id', 'ASC')
      .limit(limit);
    if (afterObjectId) query.andWhere('i.object_id > :afterObjectId', { afterObjectId });
    return query.getRawMany<LinkedUser>();
  }

  /** Drops the seen set of a round. */
  async forgetSeen(roundId: string): Promise<void> {
    await this.txHost.tx.query('DELETE FROM directory_sync_seen WHERE run_id = $1', [roundId]);
  }

  /** Drops every seen set but those of `roundIds` (rounds still going on anywhere). */
  async forgetSeenExcept(roundIds: string[]): Promise<void> {
    await this.txHost.tx.query('DELETE FROM directory_sync_seen WHERE NOT (run_id = ANY($1::uuid[]))', [
      roundIds,
    ]);
  }

  /** Active linked users changed (e.g. reactivated by hand) since `since`. */
  linkedActiveChangedSince(organizationId: string, tenantId: string, since: Date): Promise<LinkedUser[]> {
    return this.linkedQuery(organizationId, tenantId)
      .andWhere("u.status = 'active' AND u.updated_at > :since", { since })
      .getRawMany();
  }

  /** How many of the organization's users are linked to accounts of the tenant, and how many are active. */
  async countLinked(organizationId: string, tenantId: string): Promise<{ linked: number; active: number }> {
    const row = await this.linkedQuery(organizationId, tenantId)
      .select('count(*)::int', 'linked')
      .addSelect("count(*) FILTER (WHERE u.status = 'active')::int", 'active')
      .getRawOne<{ linked: number; active: number }>();
    return { linked: row?.linked ?? 0, active: row?.active ?? 0 };
  }

  private linkedQuery(organizationId: string, tenantId: string) {
    return this.identities()
      .createQueryBuilder('i')
      .innerJoin(UserEntity, 'u', 'u.id = i.user_id')
      .select(['u.id AS "userId"', 'i.object_id AS "objectId"', 'u.status AS status', 'u.role AS role'])
      .where('u.organization_id = :organizationId AND i.tenant_id = :tenantId', { organizationId, tenantId });
  }

  /** Deactivates the still-active users among `ids` in one statement; returns those it changed. */
  async deactivateMany(
    organizationId: string,
    items: { userId: string; reason: string }[],
  ): Promise<{ id: string; role: Role; reason: string }[]> {
    if (items.length === 0) return [];
    // For UPDATE, TypeORM answers [rows, rowCount].
    const [rows] = (await this.txHost.tx.query(
      `UPDATE users u SET status = 'deactivated', deactivation_reason = v.reason, deactivated_at = now(), updated_at = now()
         FROM unnest($2::uuid[], $3::text[]) AS v(id, reason)
        WHERE u.id = v.id AND u.organization_id = $1 AND u.status = 'active'
        RETURNING u.id, u.role, v.reason`,
      [organizationId, items.map((i) => i.userId), items.map((i) => i.reason)],
    )) as [{ id: string; role: Role; reason: string }[], number];
    return rows;
  }

  findManyInOrganization(organizationId: string, ids: string[]): Promise<UserEntity[]> {
    return ids.length ? this.users.find(organizationId, { where: { id: In(ids) } }) : Promise.resolve([]);
  }

  /** A user of the organization, not deactivated, holding this address (`users_organization_email_idx`). */
  findLiveByEmail(organizationId: string, email: string): Promise<UserEntity | null> {
    return this.users
      .queryBuilder(organizationId, 'u')
      .andWhere("u.email = :email AND u.status <> 'deactivated'", { email: email.toLowerCase() })
      .orderBy('u.created_at', 'ASC')
      .addOrderBy('u.id', 'ASC')
      .getOne();
  }

  /**
   * Users of the organization holding this address as their email or as the UPN of a linked Microsoft account
   * (case-insensitive), oldest first: one statement of two index look-ups (`users_organization_email_idx`,
   * `microsoft_identities_upn_lower_idx`), never a walk of the organization.
   */
  findByEmailOrUpn(organizationId: string, address: string): Promise<UserEntity[]> {
    return this.users
      .queryBuilder(organizationId, 'u')
      .andWhere(
        `u.id IN ((SELECT e.id FROM users e WHERE e.organization_id = :organizationId AND e.email = :value LIMIT 10)
                  UNION
                  (SELECT i.user_id FROM microsoft_identities i JOIN users w ON w.id = i.user_id
                    WHERE w.organization_id = :organizationId AND lower(i.user_principal_name) = :value LIMIT 10))`,
        { organizationId, value: address.toLowerCase() },
      )
      .orderBy('u.created_at', 'ASC')
      .addOrderBy('u.id', 'ASC')
      .getMany();
  }

  /**
   * The `limit` oldest users of the seat queue (first in, first out), row-locked for the rest of the
   * transaction. Callers hold the organization lock, which serialises every change to the queue.
   */
  takeSeatQueue(organizationId: string, limit: number): Promise<UserEntity[]> {
    return this.users
      .queryBuilder(organizationId, 'u')
      .andWhere("u.status = 'pending' AND u.pending_reason = 'awaiting_seat'")
      .orderBy('u.pending_since', 'ASC')
      .addOrderBy('u.id', 'ASC')
      .limit(limit)
      .setLock('pessimistic_write')
      .getMany();
  }

  /** Each of these users' place in the seat queue (1 = next to get a seat); users not queued are absent. */
  async queuePositions(organizationId: string, ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = (await this.txHost.tx.query(
      `SELECT id, position FROM (
         SELECT id, row_number() OVER (ORDER BY pending_since, id)::int AS position
           FROM users
          WHERE organization_id = $1 AND status = 'pending' AND pending_reason = 'awaiting_seat'
       ) queue WHERE id = ANY($2::uuid[])`,
      [organizationId, ids],
    )) as { id: string; position: number }[];
    return new Map(rows.map((r) => [r.id, r.position]));
  }

  countActiveOwners(organizationId: string): Promise<number> {
    return this.users.countBy(organizationId, { status: 'active', role: 'owner' });
  }

  /** A new user. Addresses are not unique (see `UsersService.createWithMicrosoftIdentity` for sign-in's rule). */
  create(organizationId: string, values: Partial<UserEntity>): Promise<UserEntity> {
    return this.users.create(organizationId, values);
  }

  save(user: UserEntity): Promise<UserEntity> {
    return this.users.save(user.organizationId, user);
  }

  /** A new user in one INSERT (with `id`, when the caller chose it: SCIM writes its own row under it first). */
  insert(organizationId: string, values: Partial<UserEntity>): Promise<UserEntity> {
    return this.users.insertOne(organizationId, values);
  }

  /** Writes these columns of a loaded user in one UPDATE (a status change under the organization lock). */
  update(user: UserEntity, changes: Partial<UserEntity>): Promise<UserEntity> {
    return this.users.updateLoaded(user.organizationId, user, { id: user.id }, changes);
  }

  /** The sign-in lookup: a Microsoft account names its user, whatever organization that is in. */
  findIdentityAcrossOrganizations(
    tenantId: string,
    objectId: string,
  ): Promise<MicrosoftIdentityEntity | null> {
    return this.identities().findOneBy({ tenantId, objectId });
  }

  findIdentitiesOfUser(userId: string): Promise<MicrosoftIdentityEntity[]> {
    return this.identities().find({ where: { userId }, order: { createdAt: 'ASC' } });
  }

  /** Refuses to link one Microsoft account twice (`MICROSOFT_IDENTITY_ALREADY_LINKED`), even under races. */
  createIdentity(values: Partial<MicrosoftIdentityEntity>): Promise<MicrosoftIdentityEntity> {
    const repo = this.identities();
    return translateUniqueViolation(repo.save(repo.create(values)), (constraint) =>
      constraint === 'microsoft_identities_tenant_object_key'
        ? new MicrosoftIdentityAlreadyLinkedError()
        : undefined,
    );
  }

  async recordSignIn(
    organizationId: string,
    userId: string,
    identityId: string,
    userPrincipalName: string,
  ): Promise<void> {
    const now = new Date();
    await this.users.update(organizationId, { id: userId }, { lastSignInAt: now });
    await this.identities().update({ id: identityId }, { lastSignInAt: now, userPrincipalName });
  }
}
