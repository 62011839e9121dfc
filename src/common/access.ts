/**
 * The vocabulary of access control that the guards check: roles within an organization and plans. The users and
 * organizations modules store them; common/ defines them so that its guards need no feature module.
 */
export const ROLES = ['owner', 'admin', 'manager', 'employee'] as const;
export type Role = (typeof ROLES)[number];

export const PLANS = ['free', 'team', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/** Plans in ascending order: a route that requires a plan admits every plan above it too. */
export function planIncludes(current: Plan, required: Plan): boolean {
  return PLANS.indexOf(current) >= PLANS.indexOf(required);
}
