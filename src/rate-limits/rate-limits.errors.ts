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

/** An API key spent its requests of the minute; `retryAfterSeconds` says when its budget refills. */
export class ApiKeyRateLimitedError extends DomainError {
  static readonly definition = COMMON_ERRORS.RATE_LIMITED;
  readonly retryAfterSeconds: number;
  constructor(readonly state: { limit: number; remaining: number; resetSeconds: number }) {
    super(
      ApiKeyRateLimitedError.definition,
      `This API key made more than ${state.limit} requests in a minute; retry in ${state.resetSeconds} seconds.`,
      { retryAfterSeconds: state.resetSeconds },
    );
    this.retryAfterSeconds = state.resetSeconds;
  }
}
