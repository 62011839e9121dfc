import { NotFoundError } from '../common/domain-error.js';

export class OrganizationNotFoundError extends NotFoundError {
  constructor() {
    super('Organization');
  }
}
