/**
 * The part after the last `@`, lower-cased; null for anything that is not an address. Domain matching is
 * exact on this whole domain (domain claims compare it case-insensitively): subdomains never match
 * implicitly (`eu.acme.com` is not `acme.com`), and a subdomain that is itself claimed is listed on its own.
 */
export function domainOf(address: string | null | undefined): string | null {
  if (!address) return null;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  return address.slice(at + 1).toLowerCase();
}
