import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { type AuditActor, AuditService } from '../audit/audit.service.js';
import { ValidationFailedError } from '../common/domain-error.js';
import { type OrganizationEntity, type Plan, PLANS } from './entities/organization.entity.js';
import { OrganizationNotFoundError } from './organizations.errors.js';
import {
  ORGANIZATION_SUBSCRIPTION_CHANGED,
  type OrganizationSubscriptionChangedEvent,
} from './organizations.events.js';
import { OrganizationsRepository } from './organizations.repository.js';

@Injectable()
export class OrganizationsService {
  constructor(
    private readonly repository: OrganizationsRepository,
    private readonly audit: AuditService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly events: EventEmitter2,
  ) {}

  async get(id: string): Promise<OrganizationEntity> {
    const organization = await this.repository.findById(id);
    if (!organization) throw new OrganizationNotFoundError();
    return organization;
  }

  /** The organization with the number of seats its active users take (its kept count: no scan of its users). */
  async getWithSeats(id: string): Promise<{ organization: OrganizationEntity; seatsUsed: number }> {
    const organization = await this.get(id);
    return { organization, seatsUsed: organization.seatsUsed };
  }

  /**
   * Locks the organization row for the rest of the current transaction (serialises seat and last-owner
   * checks). Its `seatsUsed` and `seatQueueLength` are then exact for this transaction; take it as late as the
   * change allows, since every other status change of the organization waits for the commit.
   */
  async lock(id: string): Promise<OrganizationEntity> {
    const organization = await this.repository.lock(id);
    if (!organization) throw new OrganizationNotFoundError();
    return organization;
  }

  /**
   * `lock`, taking in the same statement the lock of one row of another module's table that references the
   * organization, right after the organization's (see `OrganizationsRepository.lockAlong`): one round trip
   * where a status change takes both. Null when that row is not there (then nothing is locked).
   */
  lockAlong<T>(
    id: string,
    along: { from: string; on: string; columns: string; lock: string; read(row: Record<string, unknown>): T },
    values: unknown[],
  ): Promise<{ organization: OrganizationEntity; row: T } | null> {
    return this.repository.lockAlong(id, along, values);
  }

  create(name: string): Promise<OrganizationEntity> {
    return this.repository.create({ name: name.slice(0, 200), plan: 'free' });
  }

  listAll(): Promise<OrganizationEntity[]> {
    return this.repository.listAll();
  }

  /** Operator action (billing lives elsewhere): change the plan and/or the seat limit. */
  async updateSubscription(
    id: string,
    change: { plan?: string; seatLimit?: number },
    actor: AuditActor,
  ): Promise<OrganizationEntity> {
    if (change.plan !== undefined && !(PLANS as readonly string[]).includes(change.plan)) {
      throw new ValidationFailedError([
        { field: 'plan', message: `plan must be one of ${PLANS.join(', ')}` },
      ]);
    }
    if (change.seatLimit !== undefined && (!Number.isInteger(change.seatLimit) || change.seatLimit < 1)) {
      throw new ValidationFailedError([
        { field: 'seatLimit', message: 'seatLimit must be a positive integer' },
      ]);
    }
    const { saved, before } = await this.txHost.withTransaction(async () => {
      const organization = await this.lock(id);
      const before = { plan: organization.plan, seatLimit: organization.seatLimit };
      if (change.plan !== undefined) organization.plan = change.plan as Plan;
      if (change.seatLimit !== undefined) organization.seatLimit = change.seatLimit;
      const saved = await this.repository.save(organization);
      await this.audit.record({
        organizationId: id,
        actor,
        action: 'organization.subscription_changed',
        target: { type: 'organization', id },
        before,
        after: { plan: saved.plan, seatLimit: saved.seatLimit },
      });
      return { saved, before };
    });
    // After the commit: listeners (the seat queue) see the new limit in their own transaction.
    const event: OrganizationSubscriptionChangedEvent = {
      organizationId: id,
      before,
      after: { plan: saved.plan, seatLimit: saved.seatLimit },
    };
    await this.events.emitAsync(ORGANIZATION_SUBSCRIPTION_CHANGED, event);
    return saved;
  }
}
