import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { type AuditActor, AuditService } from '../audit/audit.service.js';
import { decodeCursor, toPage } from '../common/pagination.js';
import type { Principal } from '../common/principal.js';
import { TransactionRunner, type Tx } from '../common/transaction.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import type { MicrosoftIdentityEntity } from './entities/microsoft-identity.entity.js';
import type { Role, UserEntity } from './entities/user.entity.js';
import {
  InvalidUserStateError,
  LastOwnerError,
  OwnerRoleReservedError,
  SeatLimitReachedError,
  UserNotFoundError,
} from './users.errors.js';
import { USER_DEACTIVATED, type UserDeactivatedEvent } from './users.events.js';
import { type UserListFilter, UsersRepository } from './users.repository.js';

export interface NewMicrosoftUser {
  organizationId: string;
  email: string;
  displayName: string;
  role: Role;
  tenantId: string;
  objectId: string;
  userPrincipalName: string;
}

const actorOf = (principal: Principal): AuditActor => ({ type: 'user', id: principal.userId });
const snapshot = (user: UserEntity) => ({
  role: user.role,
  status: user.status,
  deactivationReason: user.deactivationReason,
});

@Injectable()
export class UsersService {
  constructor(
    private readonly repository: UsersRepository,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditService,
    private readonly transactions: TransactionRunner,
    private readonly events: EventEmitter2,
  ) {}

  /** A user of the caller's organization; another organization's user is reported as not found. */
  async get(organizationId: string, id: string): Promise<UserEntity> {
    const user = await this.repository.findInOrganization(organizationId, id);
    if (!user) throw new UserNotFoundError();
    return user;
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.repository.findById(id);
  }

  async list(organizationId: string, query: UserListFilter & { limit?: number; cursor?: string }) {
    const limit = query.limit ?? 50;
    const rows = await this.repository.list(organizationId, query, decodeCursor(query.cursor), limit + 1);
    return toPage(rows, limit);
  }

  async getMe(principal: Principal) {
    const user = await this.get(principal.organizationId, principal.userId);
    return { user, identities: await this.repository.findIdentitiesOfUser(user.id) };
  }

  async getOrganizationOf(principal: Principal) {
    const organization = await this.organizations.get(principal.organizationId);
    return { organization, seatsUsed: await this.repository.countActive(organization.id) };
  }

  /** The user linked to a Microsoft account, if any. */
  async findByMicrosoftIdentity(tenantId: string, objectId: string) {
    const identity = await this.repository.findIdentity(tenantId, objectId);
    if (!identity) return null;
    const user = await this.repository.findById(identity.userId);
    return user ? { user, identity } : null;
  }

  recordSignIn(
    user: UserEntity,
    identity: MicrosoftIdentityEntity,
    userPrincipalName: string,
  ): Promise<void> {
    return this.repository.recordSignIn(user.id, identity.id, userPrincipalName);
  }

  /** Creates an active user linked to a Microsoft identity, inside the caller's transaction. */
  async createWithMicrosoftIdentity(input: NewMicrosoftUser, tx: Tx): Promise<UserEntity> {
    const user = await this.repository.create(
      {
        organizationId: input.organizationId,
        email: input.email.toLowerCase(),
        displayName: input.displayName,
        role: input.role,
        status: 'active',
        lastSignInAt: new Date(),
      },
      tx,
    );
    await this.repository.createIdentity(
      {
        userId: user.id,
        tenantId: input.tenantId,
        objectId: input.objectId,
        userPrincipalName: input.userPrincipalName,
        lastSignInAt: new Date(),
      },
      tx,
    );
    return user;
  }

  async changeRole(principal: Principal, id: string, role: Role): Promise<UserEntity> {
    return this.transactions.run(async (tx) => {
      await this.organizations.lock(principal.organizationId, tx);
      const user = await this.lockUser(principal.organizationId, id, tx);
      if (user.role === role) return user;
      if ((user.role === 'owner' || role === 'owner') && principal.role !== 'owner')
        throw new OwnerRoleReservedError();
      if (user.role === 'owner' && user.status === 'active')
        await this.assertAnotherActiveOwner(principal.organizationId, tx);
      const before = snapshot(user);
      user.role = role;
      const saved = await this.repository.save(user, tx);
      await this.audit.record(
        {
          organizationId: principal.organizationId,
          actor: actorOf(principal),
          action: 'user.role_changed',
          target: { type: 'user', id },
          before,
          after: snapshot(saved),
        },
        tx,
      );
      return saved;
    });
  }

  /** Deactivates (never deletes) a user: their data stays, their sessions end, they can be reactivated. */
  async deactivate(principal: Principal, id: string): Promise<UserEntity> {
    if (principal.role !== 'owner') {
      const target = await this.get(principal.organizationId, id);
      if (target.role === 'owner') throw new OwnerRoleReservedError();
    }
    return this.deactivateUser(principal.organizationId, id, 'manual', actorOf(principal));
  }

  /** Shared by the API and the directory sync; `reason` is recorded on the user and in the audit trail. */
  async deactivateUser(
    organizationId: string,
    id: string,
    reason: string,
    actor: AuditActor,
  ): Promise<UserEntity> {
    const saved = await this.transactions.run(async (tx) => {
      await this.organizations.lock(organizationId, tx);
      const user = await this.lockUser(organizationId, id, tx);
      if (user.status === 'deactivated') throw new InvalidUserStateError('The user is already deactivated.');
      if (user.role === 'owner' && user.status === 'active')
        await this.assertAnotherActiveOwner(organizationId, tx);
      const before = snapshot(user);
      user.status = 'deactivated';
      user.deactivationReason = reason;
      user.deactivatedAt = new Date();
      const result = await this.repository.save(user, tx);
      await this.audit.record(
        {
          organizationId,
          actor,
          action: 'user.deactivated',
          target: { type: 'user', id },
          before,
          after: snapshot(result),
        },
        tx,
      );
      return result;
    });
    const event: UserDeactivatedEvent = { userId: id, organizationId, reason };
    await this.events.emitAsync(USER_DEACTIVATED, event);
    return saved;
  }

  async reactivate(principal: Principal, id: string): Promise<UserEntity> {
    return this.transactions.run(async (tx) => {
      const organization = await this.organizations.lock(principal.organizationId, tx);
      const user = await this.lockUser(principal.organizationId, id, tx);
      if (user.status !== 'deactivated')
        throw new InvalidUserStateError('Only a deactivated user can be reactivated.');
      if (user.role === 'owner' && principal.role !== 'owner') throw new OwnerRoleReservedError();
      const active = await this.repository.countActive(principal.organizationId, tx);
      if (active >= organization.seatLimit) throw new SeatLimitReachedError(organization.seatLimit);
      const before = snapshot(user);
      user.status = 'active';
      user.deactivationReason = null;
      user.deactivatedAt = null;
      const saved = await this.repository.save(user, tx);
      await this.audit.record(
        {
          organizationId: principal.organizationId,
          actor: actorOf(principal),
          action: 'user.reactivated',
          target: { type: 'user', id },
          before,
          after: snapshot(saved),
        },
        tx,
      );
      return saved;
    });
  }

  private async lockUser(organizationId: string, id: string, tx: Tx): Promise<UserEntity> {
    const user = await this.repository.lockInOrganization(organizationId, id, tx);
    if (!user) throw new UserNotFoundError();
    return user;
  }

  private async assertAnotherActiveOwner(organizationId: string, tx: Tx): Promise<void> {
    if ((await this.repository.countActiveOwners(organizationId, tx)) <= 1) throw new LastOwnerError();
  }
}
