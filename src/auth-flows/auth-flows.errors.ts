/**
 * Why a redirect to Microsoft did not finish. Each caller maps these onto its own catalog and redirect
 * (sign-in: `?error=`, connect: `?status=error&code=`).
 */
export const FLOW_FAILURES = {
  /** Unknown, used, expired, of another purpose, or presented by another browser or user. */
  invalid_state: 'The link expired, was already used, or was opened elsewhere.',
  /** The user cancelled or declined at Microsoft (`access_denied`). */
  cancelled: 'Cancelled or declined at Microsoft.',
  /** Microsoft wants an administrator's consent first (`consent_required`, AADSTS90094/65001). */
  consent_required: 'An administrator must consent to the app first.',
  /** Microsoft needs the user to interact (`login_required`, `interaction_required`). */
  interaction_required: 'Microsoft needs the user to sign in interactively.',
  /** Any other error from Microsoft, a missing code, or a code the token endpoint refused. */
  microsoft_error: 'Microsoft could not complete the request.',
  /** The ID token failed validation (signature, issuer, audience, lifetime, nonce). */
  invalid_id_token: 'The ID token failed validation.',
} as const;

export type FlowFailureCode = keyof typeof FLOW_FAILURES;

/** Maps Microsoft's authorize `error` / `error_description` onto a flow failure. */
export function authorizeErrorCode(error: string, description: string): FlowFailureCode {
  // AADSTS90094 / 90095 / 65001: admin-only permissions the user cannot grant.
  if (error === 'consent_required' || /AADSTS(90094|90095|65001)\b/.test(description))
    return 'consent_required';
  if (error === 'access_denied') return 'cancelled';
  if (error === 'login_required' || error === 'interaction_required') return 'interaction_required';
  return 'microsoft_error';
}
