import { DomainError, defineErrors } from '../common/domain-error.js';

export const API_KEY_ERRORS = defineErrors({
  API_KEY_NOT_FOUND: { kind: 'not_found', description: 'No such API key in your organization.' },
  API_KEY_EXPIRY_IN_PAST: {
    kind: 'bad_request',
    description: '`expiresAt` must be in the future.',
  },
});

export class ApiKeyNotFoundError extends DomainError {
  static readonly definition = API_KEY_ERRORS.API_KEY_NOT_FOUND;
  constructor() {
    super(ApiKeyNotFoundError.definition);
  }
}

export class ApiKeyExpiryInPastError extends DomainError {
  static readonly definition = API_KEY_ERRORS.API_KEY_EXPIRY_IN_PAST;
  constructor() {
    super(ApiKeyExpiryInPastError.definition);
  }
}
