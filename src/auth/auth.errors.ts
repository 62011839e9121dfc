import { DomainError, defineCodes, defineErrors } from '../common/domain-error.js';
import type { SignInRefusal } from '../provisioning/sign-in-decision.js';

/**
 * Stable codes sent to the UI as `APP_UI_URL/sign-in?error=<code>` when "Continue with Microsoft" fails.
 * Documented in the OpenAPI description of the callback route.
 */
export const SIGN_IN_ERRORS = defineCodes('sign_in_redirect', {
  invalid_state:
    'The sign-in link expired, was already used, or was started in another browser. Start again.',
  sign_in_cancelled: 'The sign-in was cancelled at Microsoft.',
  microsoft_error: 'Microsoft could not complete the sign-in (or refused the authorization code). Try again.',
  invalid_id_token: 'The identity token from Microsoft failed validation; nobody was signed in.',
  personal_account_not_supported: 'Personal Microsoft accounts cannot sign in; use a work or school account.',
  account_deactivated: 'This account has been deactivated by an administrator of its organization.',
  account_pending:
    'This account is not active yet: please wait for activation. `reason` says why: `awaiting_approval` (an ' +
    'administrator of the organization must activate it) or `awaiting_seat` (it is queued for the next free seat).',
  invitation_required:
    'Your company’s organization requires an invitation to join: ask one of its administrators to invite you.',
  invitation_no_longer_pending:
    'The invitation was revoked, expired or already accepted meanwhile: ask for a new one, or sign in again.',
  seat_limit_reached:
    'Your organization has no free seat left. When you came from its directory, you are queued (`reason=awaiting_seat`) ' +
    'and activated when a seat frees; otherwise ask one of its administrators.',
  rate_limited:
    'Too many failed or refused sign-ins of this account or from this network: wait a few minutes (`retryAfter`, when present, gives the seconds) and try again.',
  server_error: 'Something went wrong on our side. Try again later.',
});

export type SignInErrorCode = keyof typeof SIGN_IN_ERRORS;

export const AUTH_ERRORS = defineErrors({
  INVITATION_CHOICE_INVALID: {
    kind: 'unauthenticated',
    description:
      'No pending organization choice in this browser (no or another browser’s cookie, expired, or already used). Sign in again.',
  },
  SIGN_IN_REFUSED: {
    kind: 'forbidden',
    description:
      'The sign-in was refused; `reason` is its sign-in code (e.g. `seat_limit_reached`). The choice is spent: sign in again.',
  },
});

/**
 * No organization choice for this browser: no or another browser's cookie, expired, or already used. One
 * answer for all of them, so a caller learns nothing about other people's choices.
 */
export class InvitationChoiceInvalidError extends DomainError {
  static readonly definition = AUTH_ERRORS.INVITATION_CHOICE_INVALID;
  constructor() {
    super(InvitationChoiceInvalidError.definition);
  }
}

/** A refusal of the sign-in an accepted choice completes, as a problem (the choice routes answer JSON). */
export class SignInRefusedProblem extends DomainError {
  static readonly definition = AUTH_ERRORS.SIGN_IN_REFUSED;
  constructor(reason: SignInRefusal) {
    super(SignInRefusedProblem.definition, `Sign-in refused: ${reason.replace(/_/g, ' ')}.`, { reason });
  }
}
