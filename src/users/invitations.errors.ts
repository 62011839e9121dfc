import { DomainError, NotFoundError } from '../common/domain-error.js';

export class InvitationNotFoundError extends NotFoundError {
  constructor() {
    super('Invitation');
  }
}

export class InvitationAlreadyPendingError extends DomainError {
  constructor() {
    super('INVITATION_ALREADY_PENDING', 'conflict', 'A pending invitation for this address already exists.');
  }
}

export class UserAlreadyExistsError extends DomainError {
  constructor() {
    super('USER_ALREADY_EXISTS', 'conflict', 'A user with this address already belongs to the organization.');
  }
}

export class InvitationNotPendingError extends DomainError {
  constructor(status: string) {
    super(
      'INVITATION_NOT_PENDING',
      'conflict',
      `The invitation is ${status}; only a pending invitation can be revoked.`,
    );
  }
}

/** The invitation a sign-in was about to accept was revoked, expired or accepted meanwhile. */
export class InvitationNoLongerPendingError extends DomainError {
  constructor() {
    super(
      'INVITATION_NO_LONGER_PENDING',
      'conflict',
      'The invitation was revoked, expired or already accepted meanwhile.',
    );
  }
}
