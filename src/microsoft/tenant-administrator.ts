import type { VerifiedIdToken } from './microsoft-identity.client.js';

/**
 * The directory roles that may grant tenant-wide consent (Microsoft Learn: "who can consent"), by role
 * template id as they appear in the ID token's `wids` claim. Global and Privileged Role Administrators may
 * consent to anything; Application and Cloud Application Administrators to delegated permissions, which is
 * all this product asks for.
 */
export const TENANT_ADMINISTRATOR_ROLES = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3': 'Application Administrator',
  '158c047a-c907-4556-b7ef-446551a6b5f7': 'Cloud Application Administrator',
} as const;

export type TenantAdministratorRole =
  (typeof TENANT_ADMINISTRATOR_ROLES)[keyof typeof TENANT_ADMINISTRATOR_ROLES];

export type TenantAdministratorCheck =
  | { isAdministrator: true; role: TenantAdministratorRole }
  /** `rolesClaimPresent: false`: the token has no `wids` at all, so nothing can be concluded from it. */
  | { isAdministrator: false; role: null; rolesClaimPresent: boolean };

/**
 * Whether the account behind a validated ID token holds a role that may bind its tenant to an organization
 * here. Consent, once granted, is tenant-wide and Microsoft no longer asks; this check is what keeps an
 * ordinary member from completing an admin-only flow.
 */
export function tenantAdministratorRole(
  claims: Pick<VerifiedIdToken, 'directoryRoleTemplateIds'>,
): TenantAdministratorCheck {
  const wids = claims.directoryRoleTemplateIds;
  if (wids === null) return { isAdministrator: false, role: null, rolesClaimPresent: false };
  for (const [templateId, role] of Object.entries(TENANT_ADMINISTRATOR_ROLES)) {
    if (wids.some((id) => id.toLowerCase() === templateId)) return { isAdministrator: true, role };
  }
  return { isAdministrator: false, role: null, rolesClaimPresent: true };
}
