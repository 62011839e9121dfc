/** The part after the last `@`, lower-cased; null for anything that is not an address. */
export function domainOf(address: string | null | undefined): string | null {
  if (!address) return null;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  return address.slice(at + 1).toLowerCase();
}

/**
 * Whether an address is on one of the tenant's verified domains: an exact, case-insensitive match of the
 * whole domain. Subdomains never match implicitly (`eu.acme.com` is not `acme.com`); a subdomain that is
 * itself verified is listed on its own.
 */
export function isOnVerifiedDomain(
  address: string | null | undefined,
  verifiedDomains: { name: string }[],
): boolean {
  const domain = domainOf(address);
  return domain !== null && verifiedDomains.some((d) => d.name.toLowerCase() === domain);
}
