import { COMMON_ERRORS, DomainError } from '../common/domain-error.js';

/** An `after` the feed did not issue. */
export class InvalidEventCursorError extends DomainError {
  static readonly definition = COMMON_ERRORS.INVALID_CURSOR;
  constructor() {
    super(InvalidEventCursorError.definition);
  }
}
