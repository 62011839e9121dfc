import { DomainError } from '../common/domain-error.js';
import type { SignInRefusal } from './sign-in-decision.js';

export class SignInRefusedError extends DomainError {
  constructor(readonly reason: SignInRefusal) {
    // A choice overtaken by a revocation is a conflict with the current state, not a lack of permission.
    super(
      reason.toUpperCase(),
      reason === 'invitation_no_longer_pending' ? 'conflict' : 'forbidden',
      `Sign-in refused: ${reason.replace(/_/g, ' ')}.`,
    );
  }
}
