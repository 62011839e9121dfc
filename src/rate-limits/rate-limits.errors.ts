import { DomainError } from '../common/domain-error.js';

/** A sign-in budget of this client is spent; `retryAfterSeconds` says when the earliest one refills. */
export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      'RATE_LIMITED',
      'rate_limited',
      `Too many sign-in attempts from this network; retry in ${retryAfterSeconds} seconds.`,
      { retryAfterSeconds },
    );
  }
}
