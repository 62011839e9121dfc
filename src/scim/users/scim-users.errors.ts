import { DomainError, defineErrors } from '../../common/domain-error.js';

export const SCIM_USERS_ERRORS = defineErrors({
  SCIM_USER_NAME_TAKEN: {
    kind: 'conflict',
    description: 'Another SCIM user of the organization has this userName.',
  },
});

/** Raised by the repository on the userName unique index; the service answers it as SCIM `uniqueness`. */
export class ScimUserNameTakenError extends DomainError {
  static readonly definition = SCIM_USERS_ERRORS.SCIM_USER_NAME_TAKEN;
  constructor() {
    super(ScimUserNameTakenError.definition, 'A user with this userName already exists.');
  }
}
