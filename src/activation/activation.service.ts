import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { SYSTEM_ACTOR } from '../audit/audit.service.js';
import type { Principal } from '../common/principal.js';
import type { EventSource } from '../events/event-types.js';
import {
  ORGANIZATION_SUBSCRIPTION_CHANGED,
  type OrganizationSubscriptionChangedEvent,
} from '../organizations/organizations.events.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import type { User } from '../users/user-records.js';
import {
  InvalidUserStateError,
  OwnerRoleReservedError,
  SeatLimitReachedError,
} from '../users/users.errors.js';
import {
  USER_DEACTIVATED,
  type UserDeactivatedEvent,
  USERS_DEACTIVATED,
  type UsersDeactivatedEvent,
} from '../users/users.events.js';
import { UsersService } from '../users/users.service.js';
import { type ArrivalFacts, type Placement, placeArrival, seatsToRelease } from './activation-policy.js';

/** The seat facts of a locked organization row: its limit and the counts the `users_seat_counts` trigger keeps. */
type SeatsOfOrganization = { seatLimit: number; seatsUsed: number; seatQueueLength: number };
const seatsOf = (organization: SeatsOfOrganization) => ({
  seatLimit: organization.seatLimit,
  seatsUsed: organization.seatsUsed,
  queued: organization.seatQueueLength,
});

/** How a user arrives, as far as the activation policy cares (see `placeArrival`). */
export type Arrival = Pick<ArrivalFacts, 'route' | 'requiresApproval'>;

/** Why the seat queue moved (recorded on each activation's audit event). */
export type SeatFreedCause = 'user_deactivated' | 'subscription_changed';

/**
 * The one activation policy for every user who arrives from the directory (auto-provisioned and
 * tenant-assigned sign-ins, SCIM-created users) and the seat queue behind it. Every decision is taken under
 * the organization's row lock, so concurrent arrivals, deactivations and limit changes run one after another
 * and the active users never exceed the seat limit. The decision reads the seat counts kept on that row (no
 * count of the organization's users); callers do everything else first, so the lock is held only for the
 * status change itself and its audit and event rows.
 */
@Injectable()
export class ActivationService {
  private readonly logger = new Logger(ActivationService.name);

  constructor(
    private readonly users: UsersService,
    private readonly organizations: OrganizationsService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
  ) {}

  /**
   * The entry point for every new user of an existing organization (sign-in auto-provisioning, tenant
   * assignment, invitations, SCIM): decides active or pending (`awaiting_approval`, `awaiting_seat`) under
   * the organization lock, then lets `create` write the user with that placement in the same transaction
   * (joining the caller's, if any). An invitation with no free seat throws SEAT_LIMIT_REACHED.
   */
  admit(
    organizationId: string,
    arrival: Arrival,
    create: (placement: Placement) => Promise<User>,
  ): Promise<{ user: User; placement: Placement }> {
    return this.txHost.withTransaction(async () => {
      const organization = await this.organizations.lock(organizationId);
      const placement = placeArrival({
        ...arrival,
        ...seatsOf(organization),
      });
      if (placement.status === 'refused') throw new SeatLimitReachedError(organization.seatLimit);
      return { user: await create(placement), placement };
    });
  }

  /**
   * Gives free seats to the oldest users of the seat queue, first in first out, as many as there are seats;
   * each activation is audited. Returns the activated users' ids.
   */
  drainSeatQueue(organizationId: string, cause: SeatFreedCause): Promise<string[]> {
    return this.txHost.withTransaction(async () => {
      const organization = await this.organizations.lock(organizationId);
      const release = seatsToRelease(seatsOf(organization));
      if (release === 0) return [];
      const next = await this.users.takeSeatQueue(organizationId, release);
      for (const user of next)
        await this.users.activatePending(user, SYSTEM_ACTOR, `seat_freed:${cause}`, 'system');
      return next.map((user) => user.id);
    });
  }

  /**
   * An Owner or Admin activates a pending user (awaiting approval, or ahead of the seat queue): the user
   * takes a seat, so SEAT_LIMIT_REACHED when none is free.
   */
  activateByHand(principal: Principal, userId: string): Promise<User> {
    return this.txHost.withTransaction(async () => {
      const { organization, user } = await this.users.lockWithOrganization(principal.organizationId, userId);
      if (user.status !== 'pending') throw new InvalidUserStateError('Only a pending user can be activated.');
      this.assertSeatFree(organization);
      return this.users.activatePending(user, principal.actor, 'manual', 'manual');
    });
  }

  /** An Owner or Admin reactivates a deactivated user, who takes a seat again (SEAT_LIMIT_REACHED without one). */
  reactivate(principal: Principal, userId: string): Promise<User> {
    return this.txHost.withTransaction(async () => {
      const { organization, user } = await this.users.lockWithOrganization(principal.organizationId, userId);
      if (user.status !== 'deactivated')
        throw new InvalidUserStateError('Only a deactivated user can be reactivated.');
      if (user.role === 'owner' && principal.role !== 'owner') throw new OwnerRoleReservedError();
      this.assertSeatFree(organization);
      return this.users.markReactivated(user, principal.actor);
    });
  }

  /**
   * The directory wants a deactivated user back (SCIM `active: true`): through the policy as a new arrival of
   * that route, under the organization lock — active on a free seat with nobody queued, else pending at the
   * end of the seat queue. Returns the user as it now is (unchanged unless it was deactivated).
   */
  readmit(organizationId: string, userId: string, arrival: Arrival, source: EventSource): Promise<User> {
    return this.txHost.withTransaction(async () => {
      const { organization, user } = await this.users.lockWithOrganization(organizationId, userId);
      if (user.status !== 'deactivated') return user;
      const placement = placeArrival({
        ...arrival,
        ...seatsOf(organization),
      });
      if (placement.status === 'refused') throw new SeatLimitReachedError(organization.seatLimit);
      if (placement.status === 'active') return this.users.markReactivated(user, SYSTEM_ACTOR, source);
      return this.users.markPendingAgain(user, placement.reason, SYSTEM_ACTOR, source);
    });
  }

  /** The seat check of a person's explicit choice (activation, reactivation), under the organization lock. */
  private assertSeatFree(organization: SeatsOfOrganization): void {
    if (organization.seatsUsed >= organization.seatLimit)
      throw new SeatLimitReachedError(organization.seatLimit);
  }

  @OnEvent(USER_DEACTIVATED, { promisify: true })
  async onUserDeactivated(event: UserDeactivatedEvent): Promise<void> {
    // Nobody was waiting when the deactivation held the lock: any later arrival saw the freed seat itself.
    if (event.seatQueueLength === 0) return;
    await this.drainQuietly(event.organizationId, 'user_deactivated');
  }

  @OnEvent(USERS_DEACTIVATED, { promisify: true })
  async onUsersDeactivated(event: UsersDeactivatedEvent): Promise<void> {
    await this.drainQuietly(event.organizationId, 'user_deactivated');
  }

  @OnEvent(ORGANIZATION_SUBSCRIPTION_CHANGED, { promisify: true })
  async onSubscriptionChanged(event: OrganizationSubscriptionChangedEvent): Promise<void> {
    await this.drainQuietly(event.organizationId, 'subscription_changed');
  }

  /**
   * The change that freed the seat has committed; a failure to move the queue must not undo or fail it.
   * The next freed seat (or change of limit) moves the queue again.
   */
  private async drainQuietly(organizationId: string, cause: SeatFreedCause): Promise<void> {
    try {
      await this.drainSeatQueue(organizationId, cause);
    } catch (error) {
      this.logger.error(
        `seat queue of ${organizationId} not drained: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
