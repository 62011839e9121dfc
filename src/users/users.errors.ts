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

export class InvalidUserStateError extends DomainError {
  static readonly definition = USERS_ERRORS.INVALID_USER_STATE;
  constructor(message: string) {
    super(InvalidUserStateError.definition, message);
  }
}
