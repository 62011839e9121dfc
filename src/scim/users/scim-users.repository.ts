import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { IsNull } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { translateUniqueViolation } from '../../common/database-errors.js';
import {
  OrganizationScopedRepository,
  UnscopedQueryError,
} from '../../database/organization-scoped.repository.js';
import { ScimUserEntity } from './entities/scim-user.entity.js';
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

  /** A visible user, row-locked for the rest of the transaction. */
  lockVisible(organizationId: string, userId: string): Promise<ScimUserEntity | null> {
    return this.users.lockOneBy(organizationId, { userId, deletedAt: IsNull() });
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
  update(row: ScimUserEntity, columns: ScimUserColumns, deleted = false): Promise<ScimUserEntity> {
    return translate(
      this.users.updateLoaded(
        row.organizationId,
        row,
        { userId: row.userId },
        { ...columns, version: row.version + 1, deletedAt: deleted ? (row.deletedAt ?? new Date()) : null },
      ),
    );
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
   * appearing at its end. `count` 0 reads only the total.
   */
  async list(
    organizationId: string,
    filter: { sql: string; params: unknown[] } | null,
    offset: number,
    count: number,
  ): Promise<{ rows: ScimUserEntity[]; total: number }> {
    if (typeof organizationId !== 'string' || organizationId.length === 0)
      throw new UnscopedQueryError('An organization id is required for organization-owned rows.');
    const where = `su.organization_id = $1 AND su.deleted_at IS NULL${filter ? ` AND (${filter.sql})` : ''}`;
    const params = [organizationId, ...(filter?.params ?? [])];
    const [{ total }] = (await this.txHost.tx.query(
      `SELECT count(*)::int AS total FROM scim_users su WHERE ${where}`,
      params,
    )) as { total: number }[];
    if (count === 0 || total <= offset) return { rows: [], total };
    const columns = this.columns();
    const rows = (await this.txHost.tx.query(
      `SELECT ${columns.map((c) => `su.${c.databaseName}`).join(', ')} FROM scim_users su
        WHERE ${where} ORDER BY su.created_at, su.user_id OFFSET ${Number(offset)} LIMIT ${Number(count)}`,
      params,
    )) as Record<string, unknown>[];
    return { rows: rows.map((row) => this.hydrate(columns, row)), total };
  }

  /** The plan PostgreSQL picks for a filtered list statement (for the index tests). */
  async explainList(organizationId: string, filter: { sql: string; params: unknown[] }): Promise<unknown> {
    const rows = (await this.txHost.tx.query(
      `EXPLAIN (FORMAT JSON) SELECT su.user_id FROM scim_users su
        WHERE su.organization_id = $1 AND su.deleted_at IS NULL AND (${filter.sql})
        ORDER BY su.created_at, su.user_id LIMIT 100`,
      [organizationId, ...filter.params],
    )) as { 'QUERY PLAN': unknown }[];
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

  private columns(): readonly ColumnMetadata[] {
    return this.txHost.tx.connection.getMetadata(ScimUserEntity).columns;
  }

  private hydrate(columns: readonly ColumnMetadata[], row: Record<string, unknown>): ScimUserEntity {
    const driver = this.txHost.tx.connection.driver;
    const entity = new ScimUserEntity();
    for (const column of columns)
      column.setEntityValue(entity, driver.prepareHydratedValue(row[column.databaseName], column));
    return entity;
  }
}
