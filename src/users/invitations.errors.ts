import { DomainError, defineErrors } from '../common/domain-error.js';

export const INVITATIONS_ERRORS = defineErrors({
  INVITATION_NOT_FOUND: { kind: 'not_found', description: 'No such invitation in your organization.' },
  INVITATION_ALREADY_PENDING: {
    kind: 'conflict',
    description: 'A pending invitation for this address already exists: revoke it first to send another.',
  },
  USER_ALREADY_EXISTS: {
    kind: 'conflict',
    description: 'A user with this address already belongs to the organization.',
  },
  INVITATION_NO_LONGER_PENDING: {
    kind: 'conflict',
    description:
      'The invitation was revoked, expired or accepted meanwhile; choose another organization, or sign in again.',
  },
  INVITATION_NOT_PENDING: {
    kind: 'conflict',
    description:
      'The invitation was already accepted, revoked or has expired; only a pending one can be revoked.',
  },
});

export class InvitationNotFoundError extends DomainError {
  static readonly definition = INVITATIONS_ERRORS.INVITATION_NOT_FOUND;
  constructor() {
    super(InvitationNotFoundError.definition, 'Invitation not found.');
  }
}

export class InvitationAlreadyPendingError extends DomainError {
  static readonly definition = INVITATIONS_ERRORS.INVITATION_ALREADY_PENDING;
  constructor() {
    super(InvitationAlreadyPendingError.definition, 'A pending invitation for this address already exists.');
  }
}

export class UserAlreadyExistsError extends DomainError {
  static readonly definition = INVITATIONS_ERRORS.USER_ALREADY_EXISTS;
  constructor() {
    super(UserAlreadyExistsError.definition);
  }
}

export class InvitationNotPendingError extends DomainError {
  static readonly definition = INVITATIONS_ERRORS.INVITATION_NOT_PENDING;
  constructor(status: string) {
    super(
      InvitationNotPendingError.definition,
      `The invitation is ${status}; only a pending invitation can be revoked.`,
    );
  }
}

/** The invitation a sign-in was about to accept was revoked, expired or accepted meanwhile. */
export class InvitationNoLongerPendingError extends DomainError {
  static readonly definition = INVITATIONS_ERRORS.INVITATION_NO_LONGER_PENDING;
  constructor() {
    super(InvitationNoLongerPendingError.definition);
  }
}
