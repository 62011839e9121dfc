/**
 * The vocabulary of access control that the guards check: roles within an organization and plans. The users and
 * organizations modules store them; common/ defines them so that its guards need no feature module.
 */
export const ROLES = ['owner', 'admin', 'manager', 'employee'] as const;
export type Role = (typeof ROLES)[number];

export const PLANS = ['free', 'team', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];
