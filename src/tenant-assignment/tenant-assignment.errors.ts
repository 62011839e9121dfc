import { DomainError, defineCodes, defineErrors } from '../common/domain-error.js';

export const TENANT_ASSIGNMENT_ERRORS = defineErrors({
  MICROSOFT_SIGN_IN_REQUIRED: {
    kind: 'conflict',
    description:
      'Tenant user assignment is set up by an Owner or Admin who signed in with Microsoft: the organization’s ' +
      'tenant is its connected Entra tenant, else the tenant of that person’s Microsoft account.',
  },
  TENANT_ASSIGNMENT_NOT_ENABLED: {
    kind: 'conflict',
    description: 'Tenant user assignment is not enabled for this organization: Save & Verify it first.',
  },
  DOMAINS_REQUIRE_VERIFICATION: {
    kind: 'bad_request',
    description:
      'Only removals are accepted without a new verification: adding a domain (`domains` lists them) needs ' +
      'Save & Verify by a tenant administrator. Nothing was changed.',
  },
});

export class MicrosoftSignInRequiredError extends DomainError {
  static readonly definition = TENANT_ASSIGNMENT_ERRORS.MICROSOFT_SIGN_IN_REQUIRED;
  constructor() {
    super(MicrosoftSignInRequiredError.definition);
  }
}

export class TenantAssignmentNotEnabledError extends DomainError {
  static readonly definition = TENANT_ASSIGNMENT_ERRORS.TENANT_ASSIGNMENT_NOT_ENABLED;
  constructor() {
    super(TenantAssignmentNotEnabledError.definition);
  }
}

export class DomainsRequireVerificationError extends DomainError {
  static readonly definition = TENANT_ASSIGNMENT_ERRORS.DOMAINS_REQUIRE_VERIFICATION;
  constructor(readonly domains: string[]) {
    super(
      DomainsRequireVerificationError.definition,
      `Adding domains needs Save & Verify: ${domains.join(', ')}.`,
      { domains },
    );
  }
}

/**
 * Why a verification did not enable tenant assignment, sent to the UI as
 * `APP_UI_URL/settings/tenant-assignment?status=error&code=<code>`; each value is the message the UI shows.
 */
export const ASSIGNMENT_VERIFICATION_ERRORS = defineCodes('assignment_redirect', {
  stale_sign_in:
    'The Microsoft sign-in was not fresh: verification needs a sign-in within the last 10 minutes. Try again and sign in when Microsoft asks.',
  tenant_mismatch: 'Microsoft account does not belong to this organization’s tenant',
  not_tenant_admin: 'You must be a Tenant Administrator',
  roles_claim_missing:
    'Microsoft’s ID token carried no directory roles (`wids`), so the administrator role cannot be checked. In the ' +
    'app registration’s Token configuration, keep the default claims (or add the optional `wids` claim).',
  domains_claimed: 'Domains already claimed by another organization',
  invalid_state:
    'The verification link expired, was already used, or was opened by another user. Start Save & Verify again.',
  verification_cancelled: 'The Microsoft sign-in was cancelled.',
  verification_failed:
    'Microsoft could not complete the sign-in, or its answer failed validation. Try again.',
});

export type AssignmentVerificationErrorCode = keyof typeof ASSIGNMENT_VERIFICATION_ERRORS;

export class VerificationFailure extends Error {
  constructor(
    readonly code: AssignmentVerificationErrorCode,
    /** For `domains_claimed`: the conflicting domains (never the other organization). */
    readonly domains: string[] = [],
  ) {
    super(code);
  }
}
