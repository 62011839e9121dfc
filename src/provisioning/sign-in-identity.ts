import type { VerifiedIdToken } from '../microsoft/microsoft-identity.client.js';
import { domainOf } from './domain-match.js';

/** A member of the token's tenant, not a guest (B2B guests carry `acct`=1, a foreign `idp`, or `#EXT#`). */
export function isTenantMember(token: VerifiedIdToken): boolean {
  return !token.isGuest && !(token.preferredUsername ?? '').toUpperCase().includes('#EXT#');
}

/**
 * Addresses we may trust as the user's own: the `email` claim only when the domain owner verified it
 * (`xms_edov`), and the UPN of a member account (a tenant can only use UPN suffixes it has verified).
 */
export function verifiedAddresses(token: VerifiedIdToken): string[] {
  const addresses = new Set<string>();
  if (token.email && token.emailDomainVerified) addresses.add(token.email.toLowerCase());
  if (isTenantMember(token) && token.preferredUsername?.includes('@'))
    addresses.add(token.preferredUsername.toLowerCase());
  return [...addresses];
}

/** The domains of the sign-in name (UPN, or a verified `email`), lower-case, each once. */
export function signInDomains(token: VerifiedIdToken): string[] {
  const names = [token.preferredUsername, token.emailDomainVerified ? token.email : null];
  return [...new Set(names.map(domainOf).filter((d): d is string => d !== null))];
}

/** The address recorded on a new user: a verified one, else the UPN, else a stable placeholder. */
export function primaryAddress(token: VerifiedIdToken): string {
  return (
    verifiedAddresses(token)[0] ??
    token.preferredUsername?.toLowerCase() ??
    `${token.objectId}@${token.tenantId}`
  );
}
