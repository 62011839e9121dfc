import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Cursor } from '../common/pagination.js';
import { isUuid } from '../common/uuid.js';
import type { Tx } from '../common/transaction.js';
import { MicrosoftIdentityEntity } from './entities/microsoft-identity.entity.js';
import { type Role, UserEntity, type UserStatus } from './entities/user.entity.js';

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

  countActive(organizationId: string, tx?: Tx): Promise<number> {
    return this.users(tx).countBy({ organizationId, status: 'active' });
  }

  countActiveOwners(organizationId: string, tx?: Tx): Promise<number> {
    return this.users(tx).countBy({ organizationId, status: 'active', role: 'owner' });
  }

  create(values: Partial<UserEntity>, tx?: Tx): Promise<UserEntity> {
    const repo = this.users(tx);
    return repo.save(repo.create(values));
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

  createIdentity(values: Partial<MicrosoftIdentityEntity>, tx?: Tx): Promise<MicrosoftIdentityEntity> {
    const repo = this.identities(tx);
    return repo.save(repo.create(values));
  }

  async recordSignIn(userId: string, identityId: string, userPrincipalName: string, tx?: Tx): Promise<void> {
    const now = new Date();
    await this.users(tx).update({ id: userId }, { lastSignInAt: now });
    await this.identities(tx).update({ id: identityId }, { lastSignInAt: now, userPrincipalName });
  }
}
