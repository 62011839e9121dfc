import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { translateUniqueViolation } from '../common/database-errors.js';
import type { Cursor } from '../common/pagination.js';
import { isUuid } from '../common/uuid.js';
import type { Tx } from '../common/transaction.js';
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
  constructor(private readonly dataSource: DataSource) {}

  private users(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(UserEntity);
  }

  private identities(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(MicrosoftIdentityEntity);
  }

  findById(id: string, tx?: Tx): Promise<UserEntity | null> {
    return this.users(tx).findOneBy({ id });
  }

  async findInOrganization(organizationId: string, id: string, tx?: Tx): Promise<UserEntity | null> {
    // A malformed id names nobody; answering null keeps it a 404 rather than a database error.
    if (!isUuid(id)) return null;
    return this.users(tx).findOneBy({ id, organizationId });
  }

  /** Locks the row for the rest of `tx`. */
  async lockInOrganization(organizationId: string, id: string, tx: Tx): Promise<UserEntity | null> {
    if (!isUuid(id)) return null;
    return this.users(tx)
      .createQueryBuilder('u')
      .setLock('pessimistic_write')
      .where('u.id = :id AND u.organization_id = :organizationId', { id, organizationId })
      .getOne();
  }

  list(
    organizationId: string,
    filter: UserListFilter,
    cursor: Cursor | null,
    take: number,
  ): Promise<UserEntity[]> {
    const query = this.users()
      .createQueryBuilder('u')
      .where('u.organization_id = :organizationId', { organizationId })
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
    const [rows] = (await this.dataSource.query(
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
    tx: Tx,
  ): Promise<{ id: string; role: Role; reason: string }[]> {
    if (items.length === 0) return [];
    // For UPDATE, TypeORM answers [rows, rowCount].
    const [rows] = (await tx.query(
      `UPDATE users u SET status = 'deactivated', deactivation_reason = v.reason, deactivated_at = now(), updated_at = now()
         FROM unnest($2::uuid[], $3::text[]) AS v(id, reason)
        WHERE u.id = v.id AND u.organization_id = $1 AND u.status = 'active'
        RETURNING u.id, u.role, v.reason`,
      [organizationId, items.map((i) => i.userId), items.map((i) => i.reason)],
    )) as [{ id: string; role: Role; reason: string }[], number];
    return rows;
  }

  findByEmail(organizationId: string, email: string, tx?: Tx): Promise<UserEntity | null> {
    return this.users(tx).findOneBy({ organizationId, email: email.toLowerCase() });
  }

  countActive(organizationId: string, tx?: Tx): Promise<number> {
    return this.users(tx).countBy({ organizationId, status: 'active' });
  }

  countActiveOwners(organizationId: string, tx?: Tx): Promise<number> {
    return this.users(tx).countBy({ organizationId, status: 'active', role: 'owner' });
  }

  /** Refuses a second user with one address in an organization (`USER_ALREADY_EXISTS`), even under races. */
  create(values: Partial<UserEntity>, tx?: Tx): Promise<UserEntity> {
    const repo = this.users(tx);
    return translateUniqueViolation(repo.save(repo.create(values)), (constraint) =>
      constraint === 'users_organization_email_key' ? new UserAlreadyExistsError() : undefined,
    );
  }

  save(user: UserEntity, tx?: Tx): Promise<UserEntity> {
    return this.users(tx).save(user);
  }

  findIdentity(tenantId: string, objectId: string, tx?: Tx): Promise<MicrosoftIdentityEntity | null> {
    return this.identities(tx).findOneBy({ tenantId, objectId });
  }

  findIdentitiesOfUser(userId: string): Promise<MicrosoftIdentityEntity[]> {
    return this.identities().find({ where: { userId }, order: { createdAt: 'ASC' } });
  }

  /** Refuses to link one Microsoft account twice (`MICROSOFT_IDENTITY_ALREADY_LINKED`), even under races. */
  createIdentity(values: Partial<MicrosoftIdentityEntity>, tx?: Tx): Promise<MicrosoftIdentityEntity> {
    const repo = this.identities(tx);
    return translateUniqueViolation(repo.save(repo.create(values)), (constraint) =>
      constraint === 'microsoft_identities_tenant_object_key'
        ? new MicrosoftIdentityAlreadyLinkedError()
        : undefined,
    );
  }

  async recordSignIn(userId: string, identityId: string, userPrincipalName: string, tx?: Tx): Promise<void> {
    const now = new Date();
    await this.users(tx).update({ id: userId }, { lastSignInAt: now });
    await this.identities(tx).update({ id: identityId }, { lastSignInAt: now, userPrincipalName });
  }
}
