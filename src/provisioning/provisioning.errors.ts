import { DomainError } from '../common/domain-error.js';
import type { SignInRefusal } from './sign-in-decision.js';

export class SignInRefusedError extends DomainError {
  constructor(readonly reason: SignInRefusal) {
    super(reason.toUpperCase(), 'forbidden', `Sign-in refused: ${reason.replace(/_/g, ' ')}.`);
  }
}
