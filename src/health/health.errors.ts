import { DomainError, defineErrors } from '../common/domain-error.js';

export const HEALTH_ERRORS = defineErrors({
  NOT_READY: {
    kind: 'unavailable',
    description:
      'The service cannot serve requests yet: a dependency did not answer (`checks` says which). Take it out of ' +
      'rotation and probe again.',
  },
});

/** A readiness probe failed: expected while the database restarts, so it is an answer, not a crash. */
export class NotReadyError extends DomainError {
  static readonly definition = HEALTH_ERRORS.NOT_READY;
  constructor(checks: Record<string, 'up' | 'down'>) {
    const down = Object.keys(checks).filter((name) => checks[name] === 'down');
    super(NotReadyError.definition, `Not ready: ${down.join(', ')} did not answer.`, { checks });
  }
}
