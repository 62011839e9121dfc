import type { PendingReason } from '../users/users.types.js';
import type { SignInRefusal } from './sign-in-decision.js';

/**
 * A sign-in the decision refused. Never an HTTP answer: the sign-in callback renders `reason` (one of the
 * sign-in catalog's codes) into its redirect, so this is a plain error, not a problem.
 */
export class SignInRefusedError extends Error {
  constructor(
    readonly reason: SignInRefusal,
    /** For an account created or kept pending: why (`awaiting_approval`, `awaiting_seat`). */
    readonly pendingReason: PendingReason | null = null,
  ) {
    super(`Sign-in refused: ${reason.replace(/_/g, ' ')}.`);
    this.name = 'SignInRefusedError';
  }
}
