import { ROLES, type Role } from '../common/access.js';

/**
 * The users module's public vocabulary: what other modules may name without reaching into its entities (the
 * entities import these, not the other way round).
 */
export { ROLES, type Role };

/** Why a user holds their role: the Employee default, an Entra group mapping, an invitation, or a person. */
export const ROLE_SOURCES = ['default', 'group_mapping', 'invitation', 'manual'] as const;
export type RoleSource = (typeof ROLE_SOURCES)[number];

export const USER_STATUSES = ['active', 'pending', 'deactivated'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/**
 * Why a pending user is not active yet: an administrator must approve them (tenant assignment with
 * auto-activate off), or they wait in the organization's seat queue for a free seat.
 */
export const PENDING_REASONS = ['awaiting_approval', 'awaiting_seat'] as const;
export type PendingReason = (typeof PENDING_REASONS)[number];

/** Who a user is, as another module may show it. */
export interface UserIdentity {
  id: string;
  displayName: string;
  email: string;
}
