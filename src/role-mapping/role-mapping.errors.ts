import { DomainError, defineErrors } from '../common/domain-error.js';

export const ROLE_MAPPING_ERRORS = defineErrors({
  GROUP_ROLE_MAPPING_NOT_FOUND: {
    kind: 'not_found',
    description: 'No such group role mapping in your organization.',
  },
  UNKNOWN_GROUP: {
    kind: 'unprocessable',
    description: 'The connected tenant has no group with this id (`groupId`).',
  },
  MAPPING_EXISTS: {
    kind: 'conflict',
    description: 'This group already has a mapping; change its role instead.',
  },
});

export class MappingNotFoundError extends DomainError {
  static readonly definition = ROLE_MAPPING_ERRORS.GROUP_ROLE_MAPPING_NOT_FOUND;
  constructor() {
    super(MappingNotFoundError.definition, 'Group role mapping not found.');
  }
}

export class UnknownGroupError extends DomainError {
  static readonly definition = ROLE_MAPPING_ERRORS.UNKNOWN_GROUP;
  constructor(groupId: string) {
    super(UnknownGroupError.definition, `The connected tenant has no group with id ${groupId}.`, { groupId });
  }
}

export class MappingExistsError extends DomainError {
  static readonly definition = ROLE_MAPPING_ERRORS.MAPPING_EXISTS;
  constructor() {
    super(MappingExistsError.definition);
  }
}
