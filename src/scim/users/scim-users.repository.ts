import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { translateUniqueViolation } from '../../common/database-errors.js';
import { preparedQuery } from '../../database/prepared-statements.js';
import {
  OrganizationScopedRepository,
  UnscopedQueryError,
} from '../../database/organization-scoped.repository.js';
import { ScimUserEntity } from './entities/scim-user.entity.js';
import type { ProductFacts, StoredUser } from './scim-user-resource.js';
import { ScimError } from '../protocol/index.js';

/** The normalized columns of a SCIM user, as the service derives them from a resource. */
export type ScimUserColumns = Pick<
  ScimUserEntity,
  | 'userName'
  | 'userNameLower'
  | 'externalId'
  | 'displayNameLower'
  | 'active'
  | 'emailsLower'
  | 'attributes'
  | 'raw'
>;

/** A user of a list page: what its resource is built from. */
export type ScimUserListRow = StoredUser & { product: ProductFacts };

/** A row of the list statement; the page's columns are null when the page is empty (the total alone). */
interface ListedRow {
  total: number;
  user_id: string | null;
  attributes: Record<string, unknown> | null;
  active: boolean | null;
  version: number | null;
  created_at: Date | null;
  updated_at: Date | null;
  status: string | null;
  pending_reason: string | null;
  role: string | null;
}

/** A SCIM user a first Microsoft sign-in may link to, and what matched. */
export interface SignInCandidate {
  organizationId: string;
  userId: string;
  matchedBy: 'external_id' | 'user_name' | 'email';
}

/**
 * The userName unique index (or a second row for one product user) hit by a race: SCIM's 409 uniqueness, the
 * SCIM module's own domain error.
 */
export class ScimUserNameTakenError extends ScimError {
  constructor() {
    super(409, 'A user with this userName already exists', 'uniqueness');
  }
}

const translate = <T>(write: Promise<T>) =>
  translateUniqueViolation(write, (constraint) =>
    constraint === 'scim_users_user_name_organization_key' || constraint === 'PK_scim_users'
      ? new ScimUserNameTakenError()
      : undefined,
  );

/**
 * The list statement: the total, the page and what the product says of each user on it (status and role, from
 * `users`), in one round trip. Its text depends on the filter's shape only (values, offset and count are
 * parameters), so it is prepared once per connection.
 */
function listStatement(
  organizationId: string,
  filter: { sql: string; params: unknown[] } | null,
  offset: number,
  count: number,
): { text: string; values: unknown[] } {
  const where = `su.organization_id = $1 AND su.deleted_at IS NULL${filter ? ` AND (${filter.sql})` : ''}`;
  const params = [organizationId, ...(filter?.params ?? [])];
  const text = `WITH total AS (SELECT count(*)::int AS total FROM scim_users su WHERE ${where}),
            page AS (
              SELECT su.user_id, su.attributes, su.active, su.version, su.created_at, su.updated_at,
                     u.status, u.pending_reason, u.role
                FROM scim_users su
                JOIN users u ON u.id = su.user_id AND u.organization_id = su.organization_id
               WHERE ${where}
               ORDER BY su.created_at, su.user_id OFFSET $${params.length + 1} LIMIT $${params.length + 2})
       SELECT total.total, page.* FROM total LEFT JOIN page ON true ORDER BY page.created_at, page.user_id`;
  return { text, values: [...params, offset, count] };
}

/** Every column of `scim_users`, as the write paths read a row. */
const COLUMNS = `user_id, organization_id, user_name, user_name_lower, external_id, display_name_lower, active,
                 emails_lower, attributes, raw, version, deleted_at, created_at, updated_at`;

interface ScimUserRow {
  user_id: string;
  organization_id: string;
  user_name: string;
  user_name_lower: string;
  external_id: string | null;
  display_name_lower: string | null;
  active: boolean;
  emails_lower: string[];
  attributes: Record<string, unknown>;
  raw: Record<string, unknown>;
  version: number;
  deleted_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const entityOf = (row: ScimUserRow): ScimUserEntity =>
  Object.assign(new ScimUserEntity(), {
    userId: row.user_id,
    organizationId: row.organization_id,
    userName: row.user_name,
    userNameLower: row.user_name_lower,
    externalId: row.external_id,
    displayNameLower: row.display_name_lower,
    active: row.active,
    emailsLower: row.emails_lower,
    attributes: row.attributes,
    raw: row.raw,
    version: row.version,
    deletedAt: row.deleted_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });

/** The write of a row's columns and its next version (`update`): a prepared statement. */
const UPDATE = `UPDATE scim_users
                   SET user_name = $3, user_name_lower = $4, external_id = $5, display_name_lower = $6, active = $7,
                       emails_lower = $8, attributes = $9, raw = $10, version = $11, deleted_at = $12,
                       updated_at = CURRENT_TIMESTAMP
                 WHERE user_id = $1 AND organization_id = $2
             RETURNING updated_at`;

/** What `insertIfFree` found: the new row, or why there is none (then nothing was written). */
export type FreshInsert =
  { inserted: ScimUserEntity } | { inserted: null; userNameHeld: boolean; addressHeld: boolean };

const assertOrganization = (organizationId: string) => {
  if (typeof organizationId !== 'string' || organizationId.length === 0)
    throw new UnscopedQueryError('An organization id is required for organization-owned rows.');
};

@Injectable()
export class ScimUsersRepository {
  private readonly users: OrganizationScopedRepository<ScimUserEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.users = new OrganizationScopedRepository(ScimUserEntity, () => this.txHost.tx);
  }

  /** A visible (not SCIM-deleted) user of the organization. */
  findVisible(organizationId: string, userId: string): Promise<ScimUserEntity | null> {
    return this.users.findOneBy(organizationId, { userId, deletedAt: IsNull() });
  }

  /** A visible user, row-locked for the rest of the transaction (a prepared statement: every PATCH runs it). */
  async lockVisible(organizationId: string, userId: string): Promise<ScimUserEntity | null> {
    assertOrganization(organizationId);
    const [row] = await preparedQuery<ScimUserRow>(
      this.txHost.tx,
      `SELECT ${COLUMNS} FROM scim_users
        WHERE organization_id = $1 AND user_id = $2 AND deleted_at IS NULL FOR UPDATE`,
      [organizationId, userId],
    );
    return row ? entityOf(row) : null;
  }

  /**
   * `lockVisible` with the product user read along (`product`: the users module's select-list over `u` and its
   * reader), in one prepared statement: what a PATCH, PUT or DELETE starts from. Only the SCIM row is locked.
   */
  async lockVisibleWithUser<U>(
    organizationId: string,
    userId: string,
    product: { columns: string; read(row: Record<string, unknown>): U },
  ): Promise<{ row: ScimUserEntity; user: U } | null> {
    assertOrganization(organizationId);
    const [row] = await preparedQuery<ScimUserRow & Record<string, unknown>>(
      this.txHost.tx,
      `SELECT ${COLUMNS.split(',')
        .map((c) => `su.${c.trim()}`)
        .join(', ')}, ${product.columns}
         FROM scim_users su JOIN users u ON u.id = su.user_id AND u.organization_id = su.organization_id
        WHERE su.organization_id = $1 AND su.user_id = $2 AND su.deleted_at IS NULL FOR UPDATE OF su`,
      [organizationId, userId],
    );
    return row ? { row: entityOf(row), user: product.read(row) } : null;
  }

  /**
   * A POST's row for a new product user, in one prepared statement, written only when the `userName` is free
   * in the organization (no row at all, visible or deleted: else that row is locked) and no user of the
   * organization holds the `userName` as an address (`holders`: the users module's query over the given
   * placeholders; then SCIM may adopt that user instead). Otherwise nothing is written and the caller takes the
   * general path. A parallel insert of the same `userName` still answers 409 uniqueness.
   */
  async insertIfFree(
    organizationId: string,
    userId: string,
    columns: ScimUserColumns,
    holders: (organization: string, address: string) => string,
  ): Promise<FreshInsert> {
    assertOrganization(organizationId);
    const rows = await translate(
      preparedQuery<{
        held: boolean;
        address_held: boolean;
        created_at: Date | null;
        updated_at: Date | null;
      }>(
        this.txHost.tx,
        `WITH held AS (
           SELECT user_id FROM scim_users WHERE user_name_lower = $3::text AND organization_id = $1::uuid FOR UPDATE
         ), holders AS (${holders('$1', '$3')}),
         inserted AS (
           INSERT INTO scim_users (user_id, organization_id, user_name, user_name_lower, external_id,
                                   display_name_lower, active, emails_lower, attributes, raw, version, deleted_at)
           SELECT $2::uuid, $1::uuid, $4::text, $3::text, $5::text, $6::text, $7::boolean, $8::text[], $9::jsonb, $10::jsonb, 1, NULL
            WHERE NOT EXISTS (SELECT 1 FROM held) AND NOT EXISTS (SELECT 1 FROM holders)
           RETURNING created_at, updated_at
         )
         SELECT EXISTS (SELECT 1 FROM held) AS held, EXISTS (SELECT 1 FROM holders) AS address_held,
                inserted.created_at, inserted.updated_at
           FROM (SELECT 1) one LEFT JOIN inserted ON true`,
        [
          organizationId,
          userId,
          columns.userNameLower,
          columns.userName,
          columns.externalId,
          columns.displayNameLower,
          columns.active,
          columns.emailsLower,
          JSON.stringify(columns.attributes),
          JSON.stringify(columns.raw),
        ],
      ),
    );
    const [row] = rows;
    if (!row.created_at) return { inserted: null, userNameHeld: row.held, addressHeld: row.address_held };
    return {
      inserted: Object.assign(new ScimUserEntity(), {
        userId,
        organizationId,
        ...columns,
        version: 1,
        deletedAt: null,
        createdAt: row.created_at,
        updatedAt: row.updated_at!,
      }),
    };
  }

  /** The row of a product user, visible or deleted (one row per user). */
  findByUserId(organizationId: string, userId: string): Promise<ScimUserEntity | null> {
    return this.users.findOneBy(organizationId, { userId });
  }

  /** The row holding a `userName` (lower-cased), visible or deleted, row-locked. */
  lockByUserName(organizationId: string, userNameLower: string): Promise<ScimUserEntity | null> {
    return this.users.lockOneBy(organizationId, { userNameLower });
  }

  /** 409 uniqueness when the organization has the `userName` already, even under races. */
  insert(organizationId: string, userId: string, columns: ScimUserColumns): Promise<ScimUserEntity> {
    return translate(
      this.users.insertOne(organizationId, { userId, ...columns, version: 1, deletedAt: null }),
    );
  }

  /** Writes new columns (and visibility) and the next version; 409 uniqueness on a `userName` clash. */
  async update(row: ScimUserEntity, columns: ScimUserColumns, deleted = false): Promise<ScimUserEntity> {
    assertOrganization(row.organizationId);
    const changes = {
      ...columns,
      version: row.version + 1,
      deletedAt: deleted ? (row.deletedAt ?? new Date()) : null,
    };
    const [written] = await translate(
      preparedQuery<{ updated_at: Date }>(this.txHost.tx, UPDATE, [
        row.userId,
        row.organizationId,
        changes.userName,
        changes.userNameLower,
        changes.externalId,
        changes.displayNameLower,
        changes.active,
        changes.emailsLower,
        JSON.stringify(changes.attributes),
        JSON.stringify(changes.raw),
        changes.version,
        changes.deletedAt,
      ]),
    );
    if (!written) throw new UnscopedQueryError('The row is not in the organization named.');
    return Object.assign(row, changes, { updatedAt: written.updated_at });
  }

  /** Hides the row from SCIM (a SCIM DELETE); its userName stays taken, for the same person to come back. */
  markDeleted(row: ScimUserEntity): Promise<ScimUserEntity> {
    return this.users.updateLoaded(
      row.organizationId,
      row,
      { userId: row.userId },
      { deletedAt: new Date(), version: row.version + 1 },
    );
  }

  /**
   * A page of visible users matching `filter` (SQL over alias `su` with parameters numbered from $2), in
   * `(created_at, user_id)` order: immutable, so rows written meanwhile never move a page's window except by
   * appearing at its end. `count` 0 reads only the total. One statement: the total, the page and what the
   * product says of each user on it (status and role, from `users`: the one read of the SCIM users repository
   * on the users module's table, as a list of 200 resources must not cost a second round trip).
   */
  async list(
    organizationId: string,
    filter: { sql: string; params: unknown[] } | null,
    offset: number,
    count: number,
  ): Promise<{ rows: ScimUserListRow[]; total: number }> {
    if (typeof organizationId !== 'string' || organizationId.length === 0)
      throw new UnscopedQueryError('An organization id is required for organization-owned rows.');
    const { text, values } = listStatement(organizationId, filter, offset, count);
    const rows = await preparedQuery<ListedRow>(this.txHost.tx, text, values);
    return {
      total: rows[0]?.total ?? 0,
      rows: rows
        .filter((row) => row.user_id !== null)
        .map((row) => ({
          userId: row.user_id!,
          attributes: row.attributes!,
          active: row.active!,
          version: row.version!,
          createdAt: row.created_at!,
          updatedAt: row.updated_at!,
          product: { status: row.status!, pendingReason: row.pending_reason, role: row.role! },
        })),
    };
  }

  /**
   * The plan PostgreSQL picks for the list statement of a filter (for the index tests): the statement `list`
   * runs, with the plan a prepared statement settles on after its first executions (`generic`) or the one for
   * these values.
   */
  async explainList(
    organizationId: string,
    filter: { sql: string; params: unknown[] },
    plan: 'generic' | 'custom' = 'custom',
  ): Promise<unknown> {
    const { text, values } = listStatement(organizationId, filter, 0, 100);
    // A generic plan is planned without values (PostgreSQL 16 and later).
    const rows = (await (plan === 'generic'
      ? this.txHost.tx.query(`EXPLAIN (GENERIC_PLAN, FORMAT JSON) ${text}`)
      : this.txHost.tx.query(`EXPLAIN (FORMAT JSON) ${text}`, values))) as { 'QUERY PLAN': unknown }[];
    return rows[0]['QUERY PLAN'];
  }

  /**
   * Visible SCIM users of any organization whose `externalId` is the account's object id, or whose `userName`
   * or an email is one of its addresses: what a first Microsoft sign-in may link to (the caller checks the
   * organization's tenant and that nobody is linked yet). Three index look-ups, at most a few rows.
   */
  async signInCandidatesAcrossOrganizations(
    objectId: string,
    addresses: string[],
  ): Promise<SignInCandidate[]> {
    const lower = addresses.map((a) => a.toLowerCase());
    return (await this.txHost.tx.query(
      `SELECT organization_id AS "organizationId", user_id AS "userId",
              CASE WHEN external_id = $1 THEN 'external_id'
                   WHEN user_name_lower = ANY($2::text[]) THEN 'user_name' ELSE 'email' END AS "matchedBy"
         FROM scim_users
        WHERE deleted_at IS NULL
          AND (external_id = $1 OR user_name_lower = ANY($2::text[]) OR emails_lower && $2::text[])
        ORDER BY created_at, user_id LIMIT 20`,
      [objectId, lower],
    )) as SignInCandidate[];
  }

  /** How many users of the organization SCIM manages (visible ones). */
  countVisible(organizationId: string): Promise<number> {
    return this.users.countBy(organizationId, { deletedAt: IsNull() });
  }
}
