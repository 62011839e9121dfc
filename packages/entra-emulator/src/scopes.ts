import {
  ADMIN_CONSENT_SCOPES,
  DELEGATED_CONSENT_ROLES,
  FULL_CONSENT_ROLES,
  GRAPH_APP_ID,
  GRAPH_RESOURCE,
  OIDC_SCOPES,
} from './constants.js';
import type { ConsentGrant, User } from './types.js';

export interface ParsedScopes {
  /** openid/profile/email/offline_access as requested. */
  oidc: string[];
  /** Graph permission names without the resource prefix; `.default` kept as is. */
  graph: string[];
  /** Scopes of resources this emulator does not host. */
  foreign: string[];
}

const GRAPH_PREFIXES = [`${GRAPH_RESOURCE}/`, `${GRAPH_APP_ID}/`];

export function parseScopes(raw: string | undefined): ParsedScopes {
  const parsed: ParsedScopes = { oidc: [], graph: [], foreign: [] };
  for (const scope of new Set((raw ?? '').split(/\s+/).filter(Boolean))) {
    const lower = scope.toLowerCase();
    const prefix = GRAPH_PREFIXES.find((p) => lower.startsWith(p));
    if (OIDC_SCOPES.includes(lower)) parsed.oidc.push(lower);
    else if (prefix) parsed.graph.push(scope.slice(prefix.length));
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(scope) || scope.includes('/')) parsed.foreign.push(scope);
    else parsed.graph.push(scope);
  }
  return parsed;
}

export function hasScope(list: string[], scope: string): boolean {
  return list.some((s) => s.toLowerCase() === scope.toLowerCase());
}

export function needsAdminConsent(graphScope: string): boolean {
  return ADMIN_CONSENT_SCOPES.has(graphScope.toLowerCase());
}

/**
 * Graph permissions a delegated token will carry. `.default` means "whatever was consented", and asking
 * for no Graph permission at all still yields a Graph token with User.Read, as sign-in-only requests do.
 */
export function effectiveGraphScopes(requested: string[], grant: ConsentGrant | undefined): string[] {
  if (requested.length === 0) return ['User.Read'];
  const result = requested.includes('.default') ? ['User.Read', ...(grant?.scopes ?? [])] : requested;
  return result.filter((s, i) => result.findIndex((o) => o.toLowerCase() === s.toLowerCase()) === i);
}

export function missingAdminConsent(graphScopes: string[], grant: ConsentGrant | undefined): string[] {
  return graphScopes.filter((s) => needsAdminConsent(s) && !hasScope(grant?.scopes ?? [], s));
}

export function canConsentForTenant(user: User, kind: 'delegated' | 'application'): boolean {
  const roles: readonly string[] =
    kind === 'application' ? FULL_CONSENT_ROLES : [...FULL_CONSENT_ROLES, ...DELEGATED_CONSENT_ROLES];
  return user.userType === 'Member' && user.directoryRoles.some((r) => roles.includes(r));
}
