import { DomainError } from '../common/domain-error.js';

/** Some domains already belong to another organization of the tenant; which one is never said. */
export class DomainsClaimedError extends DomainError {
  constructor(readonly domains: string[]) {
    super(
      'DOMAINS_CLAIMED',
      'conflict',
      `Domains already claimed by another organization: ${domains.join(', ')}.`,
      { domains },
    );
  }
}
