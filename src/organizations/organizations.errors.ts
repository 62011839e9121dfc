import { DomainError, defineErrors } from '../common/domain-error.js';

export const ORGANIZATIONS_ERRORS = defineErrors({
  ORGANIZATION_NOT_FOUND: { kind: 'not_found', description: 'No such organization.' },
});

export class OrganizationNotFoundError extends DomainError {
  static readonly definition = ORGANIZATIONS_ERRORS.ORGANIZATION_NOT_FOUND;
  constructor() {
    super(OrganizationNotFoundError.definition, 'Organization not found.');
  }
}
