import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { type AuditActor, type AuditRecord, AuditService, SYSTEM_ACTOR } from '../audit/audit.service.js';
import { WriteBatch } from '../database/write-batch.js';
import { decodeCursor, toPage } from '../common/pagination.js';
import { type CallerProfileQuery, type Principal, sessionUser } from '../common/principal.js';
import { CallerProfile } from './caller-profile.js';
import type { EventSource, EventType } from '../events/event-types.js';
import { EventsService } from '../events/events.service.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import { toUserResponse } from './dto/user.dto.js';
import type { MicrosoftIdentityEntity } from './entities/microsoft-identity.entity.js';
import { type PendingReason, type Role, type RoleSource, UserEntity } from './entities/user.entity.js';
import { UserAlreadyExistsError } from './invitations.errors.js';
import {
  InvalidUserStateError,
  LastOwnerError,
  MIN_SEARCH_LENGTH,
  OwnerRoleReservedError,
  SearchTermTooShortError,
  UserNotFoundError,
} from './users.errors.js';
import {
  USER_DEACTIVATED,
  type UserDeactivatedEvent,
  USERS_DEACTIVATED,
  type UsersDeactivatedEvent,
} from './users.events.js';
import { type LinkedUser, type UserListFilter, UsersRepository } from './users.repository.js';

export type { LinkedUser };

/** Where a new user starts: with a seat, or pending for a reason (see the activation policy). */
export type Placement = { status: 'active' } | { status: 'pending'; reason: PendingReason };

export interface NewMicrosoftUser {
  organizationId: string;
  /** Active unless the activation policy placed the user in a pending state. */
  placement?: Placement;
  email: string;
  displayName: string;
  role: Role;
  roleSource: RoleSource;
  roleSourceGroup?: { id: string; displayName: string } | null;
  tenantId: string;
  objectId: string;
  userPrincipalName: string;
}

/** A user the directory provisions before any sign-in (SCIM): no Microsoft account linked yet. */
export interface NewProvisionedUser {
  /** The user's id, when the caller chose it (SCIM writes its own row under it before the organization lock). */
  id?: string;
  organizationId: string;
  placement: Placement;
  email: string;
  displayName: string;
  source: 'scim';
}

/** How a deactivation came about, beyond its reason: who caused it, and whether it may take the last owner. */
export interface DeactivationOptions {
  source?: EventSource;
  /**
   * The directory is the source of truth: it may deactivate the last active owner (a leaver must lose access).
   * The result then says so, and the caller says it loudly.
   */
  mayDeactivateLastOwner?: boolean;
}

const actorOf = (principal: Principal): AuditActor => principal.actor;

/** The organization row as its lock read it (seat limit and counts). */
type LockedOrganization = Awaited<ReturnType<OrganizationsService['lock']>>;

/**
 * What another module writes in the very statement that deactivates a user (the sessions module ends their
 * sessions there): it commits with the deactivation, or not at all, and costs no round trip of its own.
 */
export type DeactivationPart = (batch: WriteBatch, deactivated: { userId: string; reason: string }) => void;

/** Outbox events, as `EventsService.recordMany` takes them. */
type OutboxEvent = { type: EventType; data: Record<string, unknown> };
const snapshot = (user: UserEntity) => ({
  role: user.role,
  roleSource: user.roleSource,
  status: user.status,
  pendingReason: user.pendingReason,
  deactivationReason: user.deactivationReason,
});

@Injectable()
export class UsersService {
  private readonly deactivationParts: DeactivationPart[] = [];

  constructor(
    private readonly repository: UsersRepository,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly events: EventEmitter2,
    private readonly outbox: EventsService,
  ) {}

  /** Registers a write of another module that joins the statement of every deactivation of one user. */
  onDeactivating(part: DeactivationPart): void {
    this.deactivationParts.push(part);
  }

  /** A user of the caller's organization; another organization's user is reported as not found. */
  async get(organizationId: string, id: string): Promise<UserEntity> {
    const user = await this.repository.findInOrganization(organizationId, id);
    if (!user) throw new UserNotFoundError();
    return user;
  }

  /** A user with their place in the seat queue (null when not queued). */
  async getWithQueuePosition(
    organizationId: string,
    id: string,
  ): Promise<{ user: UserEntity; queuePosition: number | null }> {
    const user = await this.get(organizationId, id);
    const positions = await this.queuePositions(organizationId, [user]);
    return { user, queuePosition: positions.get(user.id) ?? null };
  }

  /** These users of the organization (any order; ids of other organizations are absent). */
  findMany(organizationId: string, ids: string[]): Promise<UserEntity[]> {
    return this.repository.findManyInOrganization(organizationId, ids);
  }

  /** A user by id alone, in whatever organization (a session names its user before its organization). */
  findById(id: string): Promise<UserEntity | null> {
    return this.repository.findByIdAcrossOrganizations(id);
  }

  /** A page of users, with each queued user's place in the seat queue. */
  async list(organizationId: string, query: UserListFilter & { limit?: number; cursor?: string }) {
    const limit = query.limit ?? 50;
    // An empty search box means no search; 1–2 characters have no trigram to look up, and answering them
    // would read the whole organization.
    const search = query.search === '' ? undefined : query.search;
    if (search !== undefined && [...search].length < MIN_SEARCH_LENGTH)
      throw new SearchTermTooShortError(search);
    const cursor = decodeCursor(query.cursor);
    const rows = await this.repository.list(organizationId, { ...query, search }, cursor, limit + 1);
    const page = toPage(rows, limit);
    return { ...page, queuePositions: await this.queuePositions(organizationId, page.items) };
  }

  /** Each of these users' place in the seat queue (1 = next to get a seat); users not queued are absent. */
  queuePositions(
    organizationId: string,
    users: Pick<UserEntity, 'id' | 'status' | 'pendingReason'>[],
  ): Promise<Map<string, number>> {
    const queued = users.filter((u) => u.status === 'pending' && u.pendingReason === 'awaiting_seat');
    return this.repository.queuePositions(
      organizationId,
      queued.map((u) => u.id),
    );
  }

  /**
   * The signed-in user with their linked accounts: as the session's lookup read them along on a
   * `@WithCallerProfile()` route (no second statement), else read now.
   */
  async getMe(principal: Principal): Promise<CallerProfile> {
    const { userId } = sessionUser(principal);
    if (principal.profile instanceof CallerProfile && principal.profile.user.id === userId)
      return principal.profile;
    const me = await this.repository.findWithIdentities(principal.organizationId, userId);
    if (!me) throw new UserNotFoundError();
    return new CallerProfile(me.user, me.identities);
  }

  /** Select-list items that read the caller's profile along with a credential's lookup (see `getMe`). */
  callerProfileQuery(): CallerProfileQuery {
    return this.repository.callerProfileQuery();
  }

  /** The user linked to a Microsoft account, if any. */
  async findByMicrosoftIdentity(tenantId: string, objectId: string) {
    const identity = await this.repository.findIdentityAcrossOrganizations(tenantId, objectId);
    if (!identity) return null;
    const user = await this.repository.findByIdAcrossOrganizations(identity.userId);
    return user ? { user, identity } : null;
  }

  recordSignIn(
    user: UserEntity,
    identity: MicrosoftIdentityEntity,
    userPrincipalName: string,
  ): Promise<void> {
    return this.repository.recordSignIn(user.organizationId, user.id, identity.id, userPrincipalName);
  }

  /**
   * Creates a user linked to a Microsoft identity, inside the caller's transaction: active, or pending as the
   * activation policy placed it (only the activation module decides that).
   */
  async createWithMicrosoftIdentity(input: NewMicrosoftUser): Promise<UserEntity> {
    const placement = input.placement ?? { status: 'active' };
    const pending = placement.status === 'pending';
    // One live holder per address for people who arrive by signing in (README, "Who is who"); a deactivated
    // holder (a leaver, a recycled address) blocks nobody. Callers hold the organization lock.
    if (await this.repository.findLiveByEmail(input.organizationId, input.email))
      throw new UserAlreadyExistsError();
    const user = await this.repository.create(input.organizationId, {
      email: input.email.toLowerCase(),
      displayName: input.displayName,
      role: input.role,
      roleSource: input.roleSource,
      roleSourceGroupId: input.roleSourceGroup?.id ?? null,
      roleSourceGroupName: input.roleSourceGroup?.displayName ?? null,
      status: placement.status,
      pendingReason: pending ? placement.reason : null,
      pendingSince: pending ? new Date() : null,
      // A pending user has not signed in to anything yet.
      lastSignInAt: pending ? null : new Date(),
    });
    await this.repository.createIdentity({
      userId: user.id,
      tenantId: input.tenantId,
      objectId: input.objectId,
      userPrincipalName: input.userPrincipalName,
      lastSignInAt: new Date(),
    });
    await this.announceArrival(user, placement, 'sign_in');
    return user;
  }

  /**
   * Creates a user the directory provisions (SCIM) before any sign-in, inside the caller's transaction, as the
   * activation policy placed it: an Employee with no Microsoft account linked until their first sign-in. The
   * address is not checked against other users: the directory's `userName` says who is who.
   */
  async createProvisioned(input: NewProvisionedUser): Promise<UserEntity> {
    const { placement } = input;
    const pending = placement.status === 'pending';
    const now = new Date();
    const user = Object.assign(new UserEntity(), {
      id: input.id ?? randomUUID(),
      organizationId: input.organizationId,
      email: input.email.toLowerCase(),
      displayName: input.displayName,
      role: 'employee',
      roleSource: 'default',
      roleSourceGroupId: null,
      roleSourceGroupName: null,
      status: placement.status,
      pendingReason: pending ? placement.reason : null,
      pendingSince: pending ? now : null,
      deactivationReason: null,
      deactivatedAt: null,
      lastSignInAt: null,
      createdAt: now,
      updatedAt: now,
    } satisfies Omit<UserEntity, 'organization'>);
    // The user, its audit event and its outbox events: one statement (a SCIM POST runs it under the organization
    // lock).
    const batch = new WriteBatch();
    this.repository.addInsert(batch, user);
    this.audit.addToBatch(batch, [
      {
        organizationId: user.organizationId,
        actor: SYSTEM_ACTOR,
        action: 'user.created',
        target: { type: 'user', id: user.id },
        after: { ...snapshot(user), email: user.email, source: input.source },
      },
    ]);
    const publish = this.outbox.addToBatch(
      batch,
      user.organizationId,
      this.arrivalEvents(user, placement, input.source),
    );
    await this.txHost.withTransaction(async () => publish(await batch.run(this.txHost.tx)));
    return user;
  }

  /**
   * `user.created` for a new user, and `user.pending` when the activation policy placed them pending, so
   * integrators learn that the user waits for an approval or a seat.
   */
  private async announceArrival(user: UserEntity, placement: Placement, source: EventSource): Promise<void> {
    await this.outbox.recordMany(user.organizationId, this.arrivalEvents(user, placement, source));
  }

  private arrivalEvents(user: UserEntity, placement: Placement, source: EventSource): OutboxEvent[] {
    const events: OutboxEvent[] = [{ type: 'user.created', data: { user: toUserResponse(user), source } }];
    if (placement.status === 'pending')
      events.push({
        type: 'user.pending',
        data: { user: toUserResponse(user), reason: placement.reason, source },
      });
    return events;
  }

  /**
   * Writes a change of a user locked by the caller, its audit event and its outbox events in one statement
   * (status changes run under the organization lock: one round trip there), then hands the events to their
   * consumers, in the caller's transaction. `audit` and `events` describe the user as the change leaves it.
   */
  private async writeChange(
    user: UserEntity,
    changes: Partial<UserEntity>,
    audit: (after: UserEntity) => AuditRecord,
    events: (after: UserEntity) => OutboxEvent[],
    along: (batch: WriteBatch) => void = () => undefined,
  ): Promise<UserEntity> {
    const after = Object.assign(new UserEntity(), user, changes);
    const batch = new WriteBatch();
    const applied = this.repository.addUpdate(batch, user, changes);
    along(batch);
    this.audit.addToBatch(batch, [audit(after)]);
    const publish = this.outbox.addToBatch(batch, user.organizationId, events(after));
    return this.txHost.withTransaction(async () => {
      const result = await batch.run(this.txHost.tx);
      const saved = applied(result);
      await publish(result);
      return saved;
    });
  }

  /** Changes the address and display name the directory keeps for a user (SCIM), audited; no-op when equal. */
  async updateProfile(
    organizationId: string,
    id: string,
    profile: { email: string; displayName: string },
    source: 'scim',
  ): Promise<UserEntity> {
    return this.txHost.withTransaction(async () => {
      const user = await this.lockUser(organizationId, id);
      const email = profile.email.toLowerCase();
      if (user.email === email && user.displayName === profile.displayName) return user;
      const before = { email: user.email, displayName: user.displayName };
      const saved = await this.repository.update(user, { email, displayName: profile.displayName });
      await this.audit.record({
        organizationId,
        actor: SYSTEM_ACTOR,
        action: 'user.profile_changed',
        target: { type: 'user', id },
        before,
        after: { email: saved.email, displayName: saved.displayName, source },
      });
      return saved;
    });
  }

  /** Whether the user has a Microsoft account linked (signed in at least once). */
  async hasMicrosoftIdentity(userId: string): Promise<boolean> {
    return (await this.repository.findIdentitiesOfUser(userId)).length > 0;
  }

  /**
   * Links a Microsoft account to a user created before their first sign-in (SCIM), in one transaction with the
   * user row locked: only a user with no account linked yet, so one person never gets a second account and a
   * second account never takes over the first. MICROSOFT_IDENTITY_ALREADY_LINKED when the account is linked
   * elsewhere (a race of two first sign-ins), USER_ALREADY_EXISTS when the user got another account meanwhile.
   */
  async linkFirstMicrosoftIdentity(
    organizationId: string,
    userId: string,
    identity: { tenantId: string; objectId: string; userPrincipalName: string },
  ): Promise<{ user: UserEntity; identity: MicrosoftIdentityEntity }> {
    return this.txHost.withTransaction(async () => {
      const user = await this.lockUser(organizationId, userId);
      if ((await this.repository.findIdentitiesOfUser(userId)).length > 0) throw new UserAlreadyExistsError();
      const linked = await this.repository.createIdentity({
        userId,
        tenantId: identity.tenantId,
        objectId: identity.objectId,
        userPrincipalName: identity.userPrincipalName,
        lastSignInAt: null,
      });
      await this.audit.record({
        organizationId,
        actor: SYSTEM_ACTOR,
        action: 'user.microsoft_account_linked',
        target: { type: 'user', id: userId },
        after: {
          tenantId: identity.tenantId,
          objectId: identity.objectId,
          userPrincipalName: identity.userPrincipalName,
          source: 'scim',
        },
      });
      return { user, identity: linked };
    });
  }

  /** Users of the organization, not deactivated, holding this address (sign-in, invitations, SCIM adoption). */
  findLiveByEmail(organizationId: string, email: string): Promise<UserEntity | null> {
    return this.repository.findLiveByEmail(organizationId, email);
  }

  /**
   * The user row `u` as select-list items, and their reader: for SCIM to read a product user along with its own
   * row, in one statement (the users module keeps the mapping).
   */
  userColumnsQuery(): { columns: string; read(row: Record<string, unknown>): UserEntity } {
    return this.repository.userColumnsQuery();
  }

  /**
   * The SQL of "the organization's users holding this address as their email or a linked account's UPN" over
   * the given placeholders (the organization, the lower-cased address), for SCIM's create to test in its own
   * statement; `findByEmailOrUpn` is the same rule as a read.
   */
  holdersOfAddressQuery(organization: string, address: string): string {
    return this.repository.holdersOfAddressQuery(organization, address);
  }

  /** Users of the organization holding this address as their email or as a linked account's UPN. */
  findByEmailOrUpn(organizationId: string, address: string): Promise<UserEntity[]> {
    return this.repository.findByEmailOrUpn(organizationId, address);
  }

  async changeRole(principal: Principal, id: string, role: Role): Promise<UserEntity> {
    return this.txHost.withTransaction(async () => {
      await this.organizations.lock(principal.organizationId);
      const user = await this.lockUser(principal.organizationId, id);
      if ((user.role === 'owner' || role === 'owner') && principal.role !== 'owner') {
        throw new OwnerRoleReservedError();
      }
      if (user.role === role && user.roleSource === 'manual') return user;
      if (user.role === 'owner' && role !== 'owner' && user.status === 'active') {
        await this.assertAnotherActiveOwner(principal.organizationId);
      }
      const before = snapshot(user);
      // A role set by hand is kept when no group mapping matches (see role-mapping/resolve-role.ts).
      user.role = role;
      user.roleSource = 'manual';
      user.roleSourceGroupId = null;
      user.roleSourceGroupName = null;
      const saved = await this.repository.save(user);
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: actorOf(principal),
        action: 'user.role_changed',
        target: { type: 'user', id },
        before,
        after: snapshot(saved),
      });
      if (before.role !== saved.role) await this.recordRoleChanged(saved, before.role, 'manual');
      return saved;
    });
  }

  /**
   * Applies the role a group mapping resolved (system actor) at sign-in, or when a SCIM membership change
   * affected the user (`scim`), with an audit event naming the deciding group. No-op when nothing changes.
   */
  async applyMappedRole(
    user: UserEntity,
    resolved: { role: Role; source: RoleSource; groupId: string | null; groupDisplayName: string | null },
    source: 'sign_in' | 'scim' = 'sign_in',
  ): Promise<UserEntity> {
    const unchanged =
      user.role === resolved.role &&
      user.roleSource === resolved.source &&
      user.roleSourceGroupId === resolved.groupId;
    if (unchanged) return user;
    return this.txHost.withTransaction(async () => {
      const locked = await this.lockUser(user.organizationId, user.id);
      // Owners are never changed by a mapping, even if one became Owner since the decision was made.
      if (locked.role === 'owner') return locked;
      const before = { ...snapshot(locked), group: locked.roleSourceGroupName };
      locked.role = resolved.role;
      locked.roleSource = resolved.source;
      locked.roleSourceGroupId = resolved.groupId;
      locked.roleSourceGroupName = resolved.groupId ? resolved.groupDisplayName : null;
      const saved = await this.repository.save(locked);
      if (before.role !== saved.role) {
        await this.audit.record({
          organizationId: saved.organizationId,
          actor: { type: 'system', id: null },
          action: 'user.role_changed_by_group_mapping',
          target: { type: 'user', id: saved.id },
          before,
          after: {
            ...snapshot(saved),
            group: resolved.groupId ? { id: resolved.groupId, displayName: resolved.groupDisplayName } : null,
            source,
          },
        });
        await this.recordRoleChanged(saved, before.role, source);
      }
      return saved;
    });
  }

  /** Users of the organization linked to these objects of the tenant (at most one page's worth). */
  findLinkedByObjectIds(
    organizationId: string,
    tenantId: string,
    objectIds: string[],
  ): Promise<LinkedUser[]> {
    return this.repository.findLinkedByObjectIds(organizationId, tenantId, objectIds);
  }

  /**
   * Marks accounts (object ids, comma-separated) as listed by the full directory round `roundId` (in its seen
   * set, off the identity rows).
   */
  markSeenInDirectory(roundId: string, objectIds: string): Promise<void> {
    return this.repository.markSeenInDirectory(roundId, objectIds);
  }

  /** A keyset page of linked users the full round `roundId` did not list. */
  linkedNotSeen(
    organizationId: string,
    tenantId: string,
    roundId: string,
    afterObjectId: string | null,
    limit: number,
  ): Promise<LinkedUser[]> {
    return this.repository.linkedNotSeen(organizationId, tenantId, roundId, afterObjectId, limit);
  }

  /** Forgets the seen set of a full round that is over (or starts again). */
  forgetDirectoryRound(roundId: string): Promise<void> {
    return this.repository.forgetSeen(roundId);
  }

  /** Forgets the seen sets of every round but `activeRoundIds` (those of a crashed worker). */
  forgetDirectoryRoundsExcept(activeRoundIds: string[]): Promise<void> {
    return this.repository.forgetSeenExcept(activeRoundIds);
  }

  linkedActiveChangedSince(organizationId: string, tenantId: string, since: Date): Promise<LinkedUser[]> {
    return this.repository.linkedActiveChangedSince(organizationId, tenantId, since);
  }

  /** How many of the organization's users are linked to accounts of the tenant, and how many are active. */
  countLinked(organizationId: string, tenantId: string): Promise<{ linked: number; active: number }> {
    return this.repository.countLinked(organizationId, tenantId);
  }

  /**
   * The directory sync's deactivation: many users in one transaction, each with an audit event, sessions
   * revoked at once. Unlike a person, the directory may deactivate the last active owner (it is the source
   * of truth); the caller is told so it can say it loudly.
   */
  async deactivateForDirectory(
    organizationId: string,
    items: { userId: string; reason: string }[],
    context: { runId: string },
  ): Promise<{ deactivated: string[]; lastOwnerDeactivated: boolean }> {
    if (items.length === 0) return { deactivated: [], lastOwnerDeactivated: false };
    const result = await this.txHost.withTransaction(async () => {
      await this.organizations.lock(organizationId);
      const changed = await this.repository.deactivateMany(organizationId, items);
      await this.audit.recordMany(
        changed.map((user) => ({
          organizationId,
          actor: { type: 'system' as const, id: null },
          action: 'user.deactivated',
          target: { type: 'user', id: user.id },
          before: { status: 'active' },
          after: { status: 'deactivated', deactivationReason: user.reason, syncRunId: context.runId },
        })),
      );
      await this.outbox.recordMany(
        organizationId,
        (
          await this.repository.findManyInOrganization(
            organizationId,
            changed.map((u) => u.id),
          )
        ).map((user) => ({
          type: 'user.deactivated' as const,
          data: { user: toUserResponse(user), reason: user.deactivationReason, source: 'sync' },
        })),
      );
      const ownerHit = changed.some((user) => user.role === 'owner');
      const lastOwnerDeactivated =
        ownerHit && (await this.repository.countActiveOwners(organizationId)) === 0;
      return { deactivated: changed.map((u) => u.id), lastOwnerDeactivated };
    });
    if (result.deactivated.length > 0) {
      const event: UsersDeactivatedEvent = {
        userIds: result.deactivated,
        organizationId,
        reason: 'directory_sync',
      };
      await this.events.emitAsync(USERS_DEACTIVATED, event);
    }
    return result;
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
    options: DeactivationOptions = {},
  ): Promise<UserEntity> {
    return (await this.deactivateAndTell(organizationId, id, reason, actor, options)).user;
  }

  /**
   * `deactivateUser`, telling whether it took the organization's last active owner (only possible with
   * `mayDeactivateLastOwner`).
   */
  async deactivateAndTell(
    organizationId: string,
    id: string,
    reason: string,
    actor: AuditActor,
    options: DeactivationOptions = {},
  ): Promise<{ user: UserEntity; lastOwnerDeactivated: boolean }> {
    let lastOwnerDeactivated = false;
    let seatQueueLength: number | undefined;
    const saved = await this.txHost.withTransaction(async () => {
      const { organization, user } = await this.lockWithOrganization(organizationId, id);
      seatQueueLength = organization.seatQueueLength;
      if (user.status === 'deactivated') throw new InvalidUserStateError('The user is already deactivated.');
      if (user.role === 'owner' && user.status === 'active') {
        if (!options.mayDeactivateLastOwner) await this.assertAnotherActiveOwner(organizationId);
        else lastOwnerDeactivated = (await this.repository.countActiveOwners(organizationId)) <= 1;
      }
      const before = snapshot(user);
      return this.writeChange(
        user,
        {
          status: 'deactivated',
          pendingReason: null,
          pendingSince: null,
          deactivationReason: reason,
          deactivatedAt: new Date(),
        },
        (after) => ({
          organizationId,
          actor,
          action: 'user.deactivated',
          target: { type: 'user', id },
          before,
          after: snapshot(after),
        }),
        (after) => [
          {
            type: 'user.deactivated',
            data: {
              user: toUserResponse(after),
              reason,
              source: options.source ?? (actor.type === 'system' ? 'sync' : 'manual'),
            },
          },
        ],
        // Their sessions end in the same statement: at once, and never without the deactivation.
        (batch) => {
          for (const part of this.deactivationParts) part(batch, { userId: id, reason });
        },
      );
    });
    const event: UserDeactivatedEvent = { userId: id, organizationId, reason, seatQueueLength };
    await this.events.emitAsync(USER_DEACTIVATED, event);
    return { user: saved, lastOwnerDeactivated };
  }

  /**
   * Makes a deactivated user active again, inside the caller's transaction (the activation module's, which
   * checked the seat and the owner rule under the organization lock), audited.
   */
  async markReactivated(user: UserEntity, actor: AuditActor, source?: EventSource): Promise<UserEntity> {
    if (user.status !== 'deactivated')
      throw new InvalidUserStateError('Only a deactivated user can be reactivated.');
    const before = snapshot(user);
    return this.writeChange(
      user,
      { status: 'active', deactivationReason: null, deactivatedAt: null },
      (after) => ({
        organizationId: user.organizationId,
        actor,
        action: 'user.reactivated',
        target: { type: 'user', id: user.id },
        before,
        after: snapshot(after),
      }),
      (after) => [
        {
          type: 'user.reactivated',
          data: {
            user: toUserResponse(after),
            source: source ?? (actor.type === 'system' ? 'sync' : 'manual'),
          },
        },
      ],
    );
  }

  /**
   * A deactivated user the directory wants back when no seat is free: pending again, at the end of the seat
   * queue, inside the caller's transaction (the activation module's, under the organization lock), audited.
   */
  async markPendingAgain(
    user: UserEntity,
    reason: PendingReason,
    actor: AuditActor,
    source: EventSource,
  ): Promise<UserEntity> {
    if (user.status !== 'deactivated')
      throw new InvalidUserStateError('Only a deactivated user can be placed pending again.');
    const before = snapshot(user);
    return this.writeChange(
      user,
      {
        status: 'pending',
        pendingReason: reason,
        pendingSince: new Date(),
        deactivationReason: null,
        deactivatedAt: null,
      },
      (after) => ({
        organizationId: user.organizationId,
        actor,
        action: 'user.pending',
        target: { type: 'user', id: user.id },
        before,
        after: { ...snapshot(after), source },
      }),
      (after) => [{ type: 'user.pending', data: { user: toUserResponse(after), reason, source } }],
    );
  }

  /**
   * The oldest `limit` users of the seat queue, row-locked. Only for the activation module, which holds the
   * organization lock and decides how many seats are free.
   */
  takeSeatQueue(organizationId: string, limit: number): Promise<UserEntity[]> {
    return this.repository.takeSeatQueue(organizationId, limit);
  }

  /**
   * The organization's lock, then the user's, in one statement (the order of every status change): what a
   * status change starts from. USER_NOT_FOUND in another organization.
   */
  async lockWithOrganization(
    organizationId: string,
    id: string,
  ): Promise<{ organization: LockedOrganization; user: UserEntity }> {
    const locked = await this.organizations.lockAlong(organizationId, this.repository.lockedUserAlong(), [
      id,
    ]);
    if (locked) return { organization: locked.organization, user: locked.row };
    await this.organizations.lock(organizationId); // ORGANIZATION_NOT_FOUND before USER_NOT_FOUND, as ever
    throw new UserNotFoundError();
  }

  /** The user, row-locked for the rest of the caller's transaction; USER_NOT_FOUND in another organization. */
  lockForUpdate(organizationId: string, id: string): Promise<UserEntity> {
    return this.lockUser(organizationId, id);
  }

  /**
   * Makes a pending user active, inside the caller's transaction (the activation module's, which checked
   * the seat under the organization lock), with an audit event saying who and why. `source` is what made it:
   * `manual` (an Owner or Admin), `system` (the seat queue moving when a seat was freed).
   */
  async activatePending(
    user: UserEntity,
    actor: AuditActor,
    cause: string,
    source: EventSource,
  ): Promise<UserEntity> {
    if (user.status !== 'pending') throw new InvalidUserStateError('Only a pending user can be activated.');
    const before = { ...snapshot(user), pendingSince: user.pendingSince?.toISOString() ?? null };
    return this.writeChange(
      user,
      { status: 'active', pendingReason: null, pendingSince: null },
      (after) => ({
        organizationId: user.organizationId,
        actor,
        action: 'user.activated',
        target: { type: 'user', id: user.id },
        before,
        after: { ...snapshot(after), cause },
      }),
      (after) => [{ type: 'user.activated', data: { user: toUserResponse(after), reason: cause, source } }],
    );
  }

  private recordRoleChanged(
    user: UserEntity,
    previousRole: Role,
    source: 'manual' | 'sign_in' | 'scim',
  ): Promise<void> {
    return this.outbox.record(user.organizationId, 'user.role_changed', {
      user: toUserResponse(user),
      previousRole,
      source,
    });
  }

  private async lockUser(organizationId: string, id: string): Promise<UserEntity> {
    const user = await this.repository.lockInOrganization(organizationId, id);
    if (!user) throw new UserNotFoundError();
    return user;
  }

  private async assertAnotherActiveOwner(organizationId: string): Promise<void> {
    if ((await this.repository.countActiveOwners(organizationId)) <= 1) throw new LastOwnerError();
  }
}
