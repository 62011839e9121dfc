import { COMMON_ERRORS, DomainError } from '../common/domain-error.js';

/** A sign-in budget of this client is spent; `retryAfterSeconds` says when the earliest one refills. */
export class RateLimitedError extends DomainError {
  static readonly definition = COMMON_ERRORS.RATE_LIMITED;
  constructor(readonly retryAfterSeconds: number) {
    super(
      RateLimitedError.definition,
      `Too many sign-in attempts from this network; retry in ${retryAfterSeconds} seconds.`,
      { retryAfterSeconds },
    );
  }
}
