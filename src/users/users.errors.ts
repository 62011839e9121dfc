import { DomainError, defineErrors } from '../common/domain-error.js';

export const USERS_ERRORS = defineErrors({
  USER_NOT_FOUND: { kind: 'not_found', description: 'No such user in your organization.' },
  LAST_OWNER: { kind: 'conflict', description: 'The organization must keep at least one active owner.' },
  SEAT_LIMIT_REACHED: {
    kind: 'conflict',
    description: 'All seats of the organization are taken (`seatLimit`): free one or raise the limit.',
  },
  OWNER_ROLE_RESERVED: {
    kind: 'forbidden',
    description: 'Only an owner can grant or remove the owner role.',
  },
  INVALID_USER_STATE: {
    kind: 'conflict',
    description: 'The user is not in a state that allows this change (e.g. already active).',
  },
  SEARCH_TERM_TOO_SHORT: {
    kind: 'bad_request',
    description: 'A search term needs at least 3 characters (surrounding spaces are not counted).',
  },
});

export class UserNotFoundError extends DomainError {
  static readonly definition = USERS_ERRORS.USER_NOT_FOUND;
  constructor() {
    super(UserNotFoundError.definition, 'User not found.');
  }
}

export class LastOwnerError extends DomainError {
  static readonly definition = USERS_ERRORS.LAST_OWNER;
  constructor() {
    super(LastOwnerError.definition);
  }
}

export class SeatLimitReachedError extends DomainError {
  static readonly definition = USERS_ERRORS.SEAT_LIMIT_REACHED;
  constructor(seatLimit: number) {
    super(SeatLimitReachedError.definition, `All ${seatLimit} seats of this organization are taken.`, {
      seatLimit,
    });
  }
}

export class OwnerRoleReservedError extends DomainError {
  static readonly definition = USERS_ERRORS.OWNER_ROLE_RESERVED;
  constructor() {
    super(OwnerRoleReservedError.definition);
  }
}

/** Shortest `search` term of the users list: trigram indexes cannot find a shorter one without a full scan. */
export const MIN_SEARCH_LENGTH = 3;

export class SearchTermTooShortError extends DomainError {
  static readonly definition = USERS_ERRORS.SEARCH_TERM_TOO_SHORT;
  constructor(term: string) {
    super(
      SearchTermTooShortError.definition,
      `Search for at least ${MIN_SEARCH_LENGTH} characters; "${term}" has ${[...term].length}.`,
    );
  }
}

export class InvalidUserStateError extends DomainError {
  static readonly definition = USERS_ERRORS.INVALID_USER_STATE;
  constructor(message: string) {
    super(InvalidUserStateError.definition, message);
  }
}

/**
 * The Microsoft account is already linked to a user: two first sign-ins of one account raced. Not a catalog
 * code: provisioning catches it and signs in as the user the other sign-in created.
 */
export class MicrosoftIdentityAlreadyLinkedError extends Error {
  constructor() {
    super('This Microsoft account is already linked to a user.');
    this.name = 'MicrosoftIdentityAlreadyLinkedError';
  }
}
