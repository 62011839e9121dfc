import { DomainError, defineErrors } from '../../common/domain-error.js';

export const SCIM_ACCESS_ERRORS = defineErrors({
  SCIM_TOKEN_NOT_FOUND: { kind: 'not_found', description: 'No such live SCIM token in your organization.' },
  SCIM_TOKEN_LIMIT_REACHED: {
    kind: 'conflict',
    description:
      'An organization has at most two live SCIM tokens (enough to rotate without downtime): revoke the old ' +
      'one once Entra uses the new one, then create another.',
  },
  SCIM_TOKEN_EXPIRY_IN_PAST: { kind: 'bad_request', description: '`expiresAt` must be in the future.' },
});

export class ScimTokenNotFoundError extends DomainError {
  static readonly definition = SCIM_ACCESS_ERRORS.SCIM_TOKEN_NOT_FOUND;
  constructor() {
    super(ScimTokenNotFoundError.definition);
  }
}

export class ScimTokenLimitReachedError extends DomainError {
  static readonly definition = SCIM_ACCESS_ERRORS.SCIM_TOKEN_LIMIT_REACHED;
  constructor() {
    super(ScimTokenLimitReachedError.definition);
  }
}

export class ScimTokenExpiryInPastError extends DomainError {
  static readonly definition = SCIM_ACCESS_ERRORS.SCIM_TOKEN_EXPIRY_IN_PAST;
  constructor() {
    super(ScimTokenExpiryInPastError.definition);
  }
}
