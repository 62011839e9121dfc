import { DomainError, NotFoundError } from '../common/domain-error.js';

export class UserNotFoundError extends NotFoundError {
  constructor() {
    super('User');
  }
}

export class LastOwnerError extends DomainError {
  constructor() {
    super('LAST_OWNER', 'conflict', 'The organization must keep at least one active owner.');
  }
}

export class SeatLimitReachedError extends DomainError {
  constructor(seatLimit: number) {
    super('SEAT_LIMIT_REACHED', 'conflict', `All ${seatLimit} seats of this organization are taken.`, {
      seatLimit,
    });
  }
}

export class OwnerRoleReservedError extends DomainError {
  constructor() {
    super('OWNER_ROLE_RESERVED', 'forbidden', 'Only an owner can grant or remove the owner role.');
  }
}

export class InvalidUserStateError extends DomainError {
  constructor(message: string) {
    super('INVALID_USER_STATE', 'conflict', message);
  }
}

/** The Microsoft account is already linked to a user (two first sign-ins of one account raced). */
export class MicrosoftIdentityAlreadyLinkedError extends DomainError {
  constructor() {
    super(
      'MICROSOFT_IDENTITY_ALREADY_LINKED',
      'conflict',
      'This Microsoft account is already linked to a user.',
    );
  }
}
