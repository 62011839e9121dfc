/**
 * What went wrong, in terms a client can act on. Services throw these (never HTTP exceptions) so that the
 * HTTP layer, the CLI and background jobs share one code path; the problem-details filter maps `kind` to a
 * status code exactly once.
 */
export type ErrorKind =
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'rate_limited'
  | 'unavailable';

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    /** Extra, safe-to-show members of the problem document (e.g. `requiredPlan`). */
    readonly extensions: Record<string, unknown> = {},
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class NotFoundError extends DomainError {
  constructor(resource: string) {
    // Deliberately the same answer whether the resource is missing or belongs to another organization.
    super(`${resource.toUpperCase().replace(/\s+/g, '_')}_NOT_FOUND`, 'not_found', `${resource} not found.`);
  }
}

export class ValidationFailedError extends DomainError {
  constructor(errors: FieldError[], message = 'The request is not valid.') {
    super('VALIDATION_FAILED', 'bad_request', message, {}, errors);
  }
}
