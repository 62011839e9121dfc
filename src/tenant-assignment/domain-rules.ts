import type { FieldError } from '../common/domain-error.js';

/**
 * Mail domains anyone can get an address on: publishing one would hand its users to one organization.
 * Lower-case, exact (a subdomain of one is a different name and judged on its own).
 */
export const PUBLIC_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  '126.com',
  '163.com',
  'aol.com',
  'fastmail.com',
  'gmail.com',
  'gmx.com',
  'gmx.de',
  'gmx.net',
  'googlemail.com',
  'hey.com',
  'hotmail.co.uk',
  'hotmail.com',
  'hotmail.de',
  'hotmail.fr',
  'icloud.com',
  'live.co.uk',
  'live.com',
  'live.de',
  'live.fr',
  'mac.com',
  'mail.com',
  'mail.ru',
  'me.com',
  'msn.com',
  'onmicrosoft.com',
  'outlook.com',
  'outlook.de',
  'outlook.fr',
  'pm.me',
  'proton.me',
  'protonmail.com',
  'qq.com',
  'tutanota.com',
  'web.de',
  'yahoo.co.jp',
  'yahoo.co.uk',
  'yahoo.com',
  'yahoo.de',
  'yahoo.fr',
  'yandex.com',
  'yandex.ru',
  'ymail.com',
  'zoho.com',
]);

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** A top-level label: letters, or an IDNA `xn--` label (never all digits, so no IP addresses). */
const TOP_LEVEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** Why a name cannot be published, or null when it can (the name already trimmed and lower-cased). */
export function domainProblem(name: string): string | null {
  if (name.includes('*')) return 'wildcards are not allowed: list each domain exactly';
  if (name.length === 0 || name.length > 253) return 'is not a domain name';
  const labels = name.split('.');
  if (labels.length < 2) return 'is not a domain name (it needs at least two labels, e.g. acme.com)';
  if (!labels.every((label) => LABEL.test(label)) || !TOP_LEVEL.test(labels[labels.length - 1]))
    return 'is not a domain name';
  if (PUBLIC_MAIL_DOMAINS.has(name)) return 'is a public mail domain';
  return null;
}

/**
 * Domains as an administrator listed them, made exact: trimmed, lower-case, each once, in the given order.
 * Every entry that cannot be published is reported (field `domains[i]`), so a 400 names them all at once.
 */
export function normalizeAssignmentDomains(entries: string[]): { domains: string[]; errors: FieldError[] } {
  const domains: string[] = [];
  const errors: FieldError[] = [];
  entries.forEach((entry, index) => {
    const name = entry.trim().toLowerCase();
    const problem = domainProblem(name);
    if (problem) errors.push({ field: `domains[${index}]`, message: `"${entry.slice(0, 100)}" ${problem}` });
    else if (!domains.includes(name)) domains.push(name);
  });
  return { domains, errors };
}

/** The user's sign-in was interactive within `maxAgeMs` (`auth_time`, or `iat` when Microsoft omits it). */
export function isFreshSignIn(
  claims: { authTime: Date | null; issuedAt?: Date | null },
  now: Date,
  maxAgeMs: number,
): boolean {
  const at = claims.authTime ?? claims.issuedAt ?? null;
  if (!at) return false;
  const age = now.getTime() - at.getTime();
  // A little clock skew into the future is tolerated, as for the token's own lifetime.
  return age <= maxAgeMs && age >= -120_000;
}
