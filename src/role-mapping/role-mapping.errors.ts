import { DomainError, NotFoundError } from '../common/domain-error.js';

export class MappingNotFoundError extends NotFoundError {
  constructor() {
    super('Group role mapping');
  }
}

export class UnknownGroupError extends DomainError {
  constructor(groupId: string) {
    super('UNKNOWN_GROUP', 'unprocessable', `The connected tenant has no group with id ${groupId}.`, {
      groupId,
    });
  }
}

export class MappingExistsError extends DomainError {
  constructor() {
    super('MAPPING_EXISTS', 'conflict', 'This group already has a mapping; change its role instead.');
  }
}
