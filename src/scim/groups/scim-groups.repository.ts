import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { translateUniqueViolation } from '../../common/database-errors.js';
import {
  OrganizationScopedRepository,
  UnscopedQueryError,
} from '../../database/organization-scoped.repository.js';
import { ScimError } from '../protocol/index.js';
import { ScimGroupEntity } from './entities/scim-group.entity.js';

/** A member as stored: the product user's id and the `display` the directory sent with it. */
export interface StoredMember {
  userId: string;
  display: string | null;
}

/** A member list entry of a write: `display` null when the directory sent none. */
export type NewMember = StoredMember;

const externalIdTaken = (constraint: string | undefined) =>
  constraint === 'scim_groups_external_id_key'
    ? new ScimError(409, 'A group with this externalId already exists.', 'uniqueness')
    : undefined;

interface GroupRow {
  id: string;
  organization_id: string;
  display_name: string;
  display_name_lower: string;
  external_id: string | null;
  raw: Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
}

function hydrate(row: GroupRow): ScimGroupEntity {
  return Object.assign(new ScimGroupEntity(), {
    id: row.id,
    organizationId: row.organization_id,
    displayName: row.display_name,
    displayNameLower: row.display_name_lower,
    externalId: row.external_id,
    raw: row.raw,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

function assertScoped(organizationId: string): void {
  if (typeof organizationId !== 'string' || organizationId.length === 0)
    throw new UnscopedQueryError('An organization id is required for organization-owned rows.');
}

/**
 * `scim_groups` and `scim_group_members`. Every statement names the organization; membership writes return
 * the users whose membership actually changed, which is what role resolution needs.
 */
@Injectable()
export class ScimGroupsRepository {
  private readonly groups: OrganizationScopedRepository<ScimGroupEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.groups = new OrganizationScopedRepository(ScimGroupEntity, () => this.txHost.tx);
  }

  private query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.txHost.tx.query(sql, params) as Promise<T[]>;
  }

  find(organizationId: string, id: string): Promise<ScimGroupEntity | null> {
    return this.groups.findOneBy(organizationId, { id });
  }

  /** Reads the group and locks it for the rest of the current transaction (one writer per group at a time). */
  lock(organizationId: string, id: string): Promise<ScimGroupEntity | null> {
    return this.groups.lockOneBy(organizationId, { id });
  }

  create(
    organizationId: string,
    values: { displayName: string; externalId: string | null; raw: Record<string, unknown> },
  ): Promise<ScimGroupEntity> {
    return translateUniqueViolation(
      this.groups.create(organizationId, { ...values, displayNameLower: values.displayName.toLowerCase() }),
      externalIdTaken,
    );
  }

  save(group: ScimGroupEntity): Promise<ScimGroupEntity> {
    group.displayNameLower = group.displayName.toLowerCase();
    return translateUniqueViolation(this.groups.save(group.organizationId, group), externalIdTaken);
  }

  async delete(organizationId: string, id: string): Promise<void> {
    await this.groups.delete(organizationId, { id });
  }

  /**
   * A page of the organization's groups matching `where` (SQL on alias `sg`, its parameters numbered from
   * $2), in creation order — an immutable key, so `startIndex` paging is stable under concurrent writes.
   */
  async list(
    organizationId: string,
    where: { sql: string; params: unknown[] } | null,
    startIndex: number,
    count: number,
  ): Promise<{ groups: ScimGroupEntity[]; total: number }> {
    assertScoped(organizationId);
    const condition = `sg.organization_id = $1${where ? ` AND (${where.sql})` : ''}`;
    const params = [organizationId, ...(where?.params ?? [])];
    const [{ total }] = await this.query<{ total: number }>(
      `SELECT count(*)::int AS total FROM scim_groups sg WHERE ${condition}`,
      params,
    );
    if (count === 0 || total < startIndex) return { groups: [], total };
    const rows = await this.query<GroupRow>(
      `SELECT sg.* FROM scim_groups sg WHERE ${condition}
        ORDER BY sg.created_at, sg.id OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
      [...params, startIndex - 1, count],
    );
    return { groups: rows.map(hydrate), total };
  }

  /**
   * Of these users, those SCIM deleted (hidden from SCIM: they cannot become members, and their memberships,
   * kept in case a POST brings them back, are not shown).
   */
  async scimDeleted(organizationId: string, userIds: string[]): Promise<Set<string>> {
    assertScoped(organizationId);
    if (userIds.length === 0) return new Set();
    const rows = await this.query<{ user_id: string }>(
      `SELECT su.user_id FROM scim_users su
        WHERE su.organization_id = $1 AND su.user_id = ANY($2::uuid[]) AND su.deleted_at IS NOT NULL`,
      [organizationId, userIds],
    );
    return new Set(rows.map((r) => r.user_id));
  }

  /** The members of these groups visible through SCIM, each list in the order they joined. */
  async membersOf(organizationId: string, groupIds: string[]): Promise<Map<string, StoredMember[]>> {
    assertScoped(organizationId);
    const byGroup = new Map<string, StoredMember[]>(groupIds.map((id) => [id, []]));
    if (groupIds.length === 0) return byGroup;
    const rows = await this.query<{ group_id: string; user_id: string; display: string | null }>(
      `SELECT m.group_id, m.user_id, m.display FROM scim_group_members m
         LEFT JOIN scim_users su ON su.user_id = m.user_id
        WHERE m.organization_id = $1 AND m.group_id = ANY($2::uuid[]) AND su.deleted_at IS NULL
        ORDER BY m.created_at, m.user_id`,
      [organizationId, groupIds],
    );
    for (const row of rows) byGroup.get(row.group_id)?.push({ userId: row.user_id, display: row.display });
    return byGroup;
  }

  /** The ids of all the group's members (SCIM-deleted ones included: this is what roles resolve from). */
  async memberIds(organizationId: string, groupId: string): Promise<string[]> {
    assertScoped(organizationId);
    const rows = await this.query<{ user_id: string }>(
      'SELECT m.user_id FROM scim_group_members m WHERE m.organization_id = $1 AND m.group_id = $2',
      [organizationId, groupId],
    );
    return rows.map((r) => r.user_id);
  }

  /** Adds members (existing ones keep their row); returns the users who were not members before. */
  async addMembers(organizationId: string, groupId: string, members: NewMember[]): Promise<string[]> {
    assertScoped(organizationId);
    if (members.length === 0) return [];
    const rows = await this.query<{ user_id: string }>(
      `INSERT INTO scim_group_members (group_id, user_id, organization_id, display)
       SELECT $2, v.user_id, $1, v.display FROM unnest($3::uuid[], $4::text[]) AS v(user_id, display)
       ON CONFLICT (group_id, user_id) DO NOTHING
       RETURNING user_id`,
      [organizationId, groupId, members.map((m) => m.userId), members.map((m) => m.display)],
    );
    return rows.map((r) => r.user_id);
  }

  /**
   * Removes members: those in `userIds`, those matching `where` (SQL on alias `m`, parameters from $3), or,
   * with neither, all of them. Returns the users who were removed.
   */
  async removeMembers(
    organizationId: string,
    groupId: string,
    which: { userIds: string[] } | { where: { sql: string; params: unknown[] } } | 'all',
  ): Promise<string[]> {
    assertScoped(organizationId);
    let condition = '';
    let params: unknown[] = [];
    if (which !== 'all' && 'userIds' in which) {
      if (which.userIds.length === 0) return [];
      condition = ' AND m.user_id::text = ANY($3::text[])';
      params = [which.userIds];
    } else if (which !== 'all') {
      condition = ` AND (${which.where.sql})`;
      params = which.where.params;
    }
    // TypeORM answers a DELETE … RETURNING with [rows, affected count].
    const [rows] = (await this.txHost.tx.query(
      `DELETE FROM scim_group_members m WHERE m.organization_id = $1 AND m.group_id = $2${condition}
       RETURNING m.user_id`,
      [organizationId, groupId, ...params],
    )) as [{ user_id: string }[], number];
    return rows.map((r) => r.user_id);
  }

  /** Each user's SCIM groups' externalIds (the Entra group ids) in the organization; users in none map to []. */
  async externalIdsOfUsers(organizationId: string, userIds: string[]): Promise<Map<string, string[]>> {
    assertScoped(organizationId);
    const byUser = new Map<string, string[]>(userIds.map((id) => [id, []]));
    if (userIds.length === 0) return byUser;
    const rows = await this.query<{ user_id: string; external_id: string }>(
      `SELECT m.user_id, sg.external_id FROM scim_group_members m
         JOIN scim_groups sg ON sg.id = m.group_id AND sg.organization_id = m.organization_id
        WHERE m.organization_id = $1 AND m.user_id = ANY($2::uuid[]) AND sg.external_id IS NOT NULL`,
      [organizationId, userIds],
    );
    for (const row of rows) byUser.get(row.user_id)?.push(row.external_id);
    return byUser;
  }

  /** The members (SCIM-deleted ones included) of the organization's SCIM groups naming these Entra groups. */
  async memberIdsOfEntraGroups(organizationId: string, entraGroupIds: string[]): Promise<string[]> {
    assertScoped(organizationId);
    if (entraGroupIds.length === 0) return [];
    const rows = await this.query<{ user_id: string }>(
      `SELECT DISTINCT m.user_id FROM scim_group_members m
         JOIN scim_groups sg ON sg.id = m.group_id AND sg.organization_id = m.organization_id
        WHERE m.organization_id = $1 AND lower(sg.external_id) = ANY($2::text[])`,
      [organizationId, entraGroupIds.map((id) => id.toLowerCase())],
    );
    return rows.map((r) => r.user_id);
  }

  /** How many SCIM groups the organization has (the management status shows it). */
  count(organizationId: string): Promise<number> {
    return this.groups.countBy(organizationId);
  }
}
