import type { Role, RoleSource } from '../users/users.types.js';

export const MAPPABLE_ROLES = ['admin', 'manager', 'employee'] as const;
export type MappableRole = (typeof MAPPABLE_ROLES)[number];

const PRIVILEGE: Record<MappableRole, number> = { admin: 3, manager: 2, employee: 1 };

export interface Mapping {
  groupId: string;
  groupDisplayName: string;
  role: MappableRole;
}

export interface CurrentRole {
  role: Role;
  source: RoleSource;
  groupId: string | null;
}

export type ResolvedRole = {
  role: Role;
  source: RoleSource;
  groupId: string | null;
  groupDisplayName: string | null;
};

/**
 * The role a user should hold after a sign-in, given their Entra groups and the organization's mappings.
 * - Owners are never changed by a mapping.
 * - Any matching group decides, the most privileged role winning (admin > manager > employee); ties go to
 *   the lowest group id, so the answer never depends on claim order.
 * - No match: a role that came from a mapping or the default falls back to Employee; a role set by hand or
 *   by an invitation is kept.
 */
export function resolveRole(
  current: CurrentRole,
  userGroupIds: Iterable<string>,
  mappings: Mapping[],
): ResolvedRole {
  const unchanged: ResolvedRole = { ...current, groupDisplayName: null };
  if (current.role === 'owner') return unchanged;
  const groups = new Set([...userGroupIds].map((id) => id.toLowerCase()));
  const winner = mappings
    .filter((m) => groups.has(m.groupId.toLowerCase()))
    .sort((a, b) => PRIVILEGE[b.role] - PRIVILEGE[a.role] || a.groupId.localeCompare(b.groupId))[0];
  if (winner)
    return {
      role: winner.role,
      source: 'group_mapping',
      groupId: winner.groupId,
      groupDisplayName: winner.groupDisplayName,
    };
  if (current.source === 'group_mapping' || current.source === 'default') {
    return { role: 'employee', source: 'default', groupId: null, groupDisplayName: null };
  }
  return unchanged;
}
