import { DomainError, defineErrors } from '../common/domain-error.js';

export const DOMAIN_CLAIMS_ERRORS = defineErrors({
  DOMAINS_CLAIMED: {
    kind: 'conflict',
    description:
      'Domains already claimed by another organization of the tenant (`domains` lists them; which organization ' +
      'is never said). Nothing was changed.',
  },
});

/** Some domains already belong to another organization of the tenant; which one is never said. */
export class DomainsClaimedError extends DomainError {
  static readonly definition = DOMAIN_CLAIMS_ERRORS.DOMAINS_CLAIMED;
  constructor(readonly domains: string[]) {
    super(
      DomainsClaimedError.definition,
      `Domains already claimed by another organization: ${domains.join(', ')}.`,
      { domains },
    );
  }
}
