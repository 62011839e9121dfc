export type TenantAssignmentStatus = 'disabled' | 'pending_verification' | 'enabled' | 'suspended';

/** The organization's tenant assignment as its admins see it. */
export interface TenantAssignmentView {
  status: TenantAssignmentStatus;
  tenantId: string | null;
  domains: string[];
  autoActivate: boolean;
  verifiedBy: { name: string | null; userPrincipalName: string | null; role: string | null } | null;
  verifiedAt: Date | null;
}
