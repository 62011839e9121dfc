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

/** Who a user is, as another module may show it. */
export interface UserIdentity {
  id: string;
  displayName: string;
  email: string;
}
