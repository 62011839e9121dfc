import type { Plan } from './entities/organization.entity.js';

/** Emitted after a plan or seat-limit change commits; a raised limit or another plan may free seats. */
export const ORGANIZATION_SUBSCRIPTION_CHANGED = 'organization.subscription_changed';

export interface OrganizationSubscriptionChangedEvent {
  organizationId: string;
  before: { plan: Plan; seatLimit: number };
  after: { plan: Plan; seatLimit: number };
}
