import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { translateUniqueViolation } from '../common/database-errors.js';
import type { Cursor } from '../common/pagination.js';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import { MicrosoftIdentityEntity } from './entities/microsoft-identity.entity.js';
import { type Role, UserEntity, type UserStatus } from './entities/user.entity.js';
import { UserAlreadyExistsError } from './invitations.errors.js';
import { MicrosoftIdentityAlreadyLinkedError } from './users.errors.js';

export interface LinkedUser {
  userId: string;
  objectId: string;
  status: UserStatus;
  role: Role;
}

export interface UserListFilter {
  status?: UserStatus;
  role?: Role;
  search?: string;
}

@Injectable()
export class UsersRepository {
  private readonly users: OrganizationScopedRepository<UserEntity>;

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

  findInOrganization(organizationId: string, id: string): Promise<UserEntity | null> {
    return this.users.findOneBy(organizationId, { id });
  }

  /** Locks the row for the rest of the current transaction. */
  lockInOrganization(organizationId: string, id: string): Promise<UserEntity | null> {
    return this.users.lockOneBy(organizationId, { id });
  }

  list(
    organizationId: string,
    filter: UserListFilter,
    cursor: Cursor | null,
    take: number,
  ): Promise<UserEntity[]> {
    const query = this.users
      .queryBuilder(organizationId, 'u')
      .orderBy('u.created_at', 'ASC')
      .addOrderBy('u.id', 'ASC')
      .take(take);
    if (filter.status) query.andWhere('u.status = :status', { status: filter.status });
    if (filter.role) query.andWhere('u.role = :role', { role: filter.role });
    if (filter.search) {
      const pattern = `%${filter.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query.andWhere('(u.email LIKE :pattern OR lower(u.display_name) LIKE :pattern)', { pattern });
    }
    if (cursor) query.andWhere('(u.created_at, u.id) > (:createdAt, :id)', cursor);
    return query.getMany();
  }

  /** Users of the organization linked to these directory objects of the tenant. */
  findLinkedByObjectIds(
    organizationId: string,
    tenantId: string,
    objectIds: string[],
  ): Promise<LinkedUser[]> {
    if (objectIds.length === 0) return Promise.resolve([]);
    return this.linkedQuery(organizationId, tenantId)
      .andWhere('i.object_id = ANY(:objectIds)', { objectIds })
      .getRawMany();
  }

  /**
   * Records that a full directory round saw these accounts, and returns the organization's users linked to
   * them — one indexed statement per page.
   */
  async markSeenInDirectory(
    organizationId: string,
    tenantId: string,
    objectIds: string[],
    runId: string,
  ): Promise<LinkedUser[]> {
    if (objectIds.length === 0) return [];
    const [rows] = (await this.txHost.tx.query(
      `UPDATE microsoft_identities i SET directory_seen_run_id = $4
         FROM users u
        WHERE u.id = i.user_id AND u.organization_id = $1 AND i.tenant_id = $2 AND i.object_id = ANY($3::uuid[])
        RETURNING u.id AS "userId", i.object_id AS "objectId", u.status, u.role`,
      [organizationId, tenantId, objectIds, runId],
    )) as [LinkedUser[], number];
    return rows;
  }

  /** Linked users a full round did not see (keyset-paged by object id). */
  linkedNotSeen(
    organizationId: string,
    tenantId: string,
    runId: string,
    afterObjectId: string | null,
    limit: number,
  ) {
    const query = this.linkedQuery(organizationId, tenantId)
      .andWhere('i.directory_seen_run_id IS DISTINCT FROM :runId', { runId })
      .orderBy('i.object_id', 'ASC')
      .limit(limit);
    if (afterObjectId) query.andWhere('i.object_id > :afterObjectId', { afterObjectId });
    return query.getRawMany<LinkedUser>();
  }

  /** Active linked users changed (e.g. reactivated by hand) since `since`. */
  linkedActiveChangedSince(organizationId: string, tenantId: string, since: Date): Promise<LinkedUser[]> {
    return this.linkedQuery(organizationId, tenantId)
      .andWhere("u.status = 'active' AND u.updated_at > :since", { since })
      .getRawMany();
  }

  async countLinkedActive(organizationId: string, tenantId: string): Promise<number> {
    const row = await this.linkedQuery(organizationId, tenantId)
      .andWhere("u.status = 'active'")
      .select('count(*)::int', 'count')
      .getRawOne<{ count: number }>();
    return row?.count ?? 0;
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

  findByEmail(organizationId: string, email: string): Promise<UserEntity | null> {
    return this.users.findOneBy(organizationId, { email: email.toLowerCase() });
  }

  countActive(organizationId: string): Promise<number> {
    return this.users.countBy(organizationId, { status: 'active' });
  }

  /** Users waiting in the organization's seat queue. */
  countAwaitingSeat(organizationId: string): Promise<number> {
    return this.users.countBy(organizationId, { status: 'pending', pendingReason: 'awaiting_seat' });
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

  /** Refuses a second user with one address in an organization (`USER_ALREADY_EXISTS`), even under races. */
  create(organizationId: string, values: Partial<UserEntity>): Promise<UserEntity> {
    return translateUniqueViolation(this.users.create(organizationId, values), (constraint) =>
      constraint === 'users_organization_email_key' ? new UserAlreadyExistsError() : undefined,
    );
  }

  save(user: UserEntity): Promise<UserEntity> {
    return this.users.save(user.organizationId, user);
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
