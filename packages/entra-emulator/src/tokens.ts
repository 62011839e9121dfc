import { createHash, randomBytes } from 'node:crypto';
import {
  ACCESS_TOKEN_LIFETIME_S,
  GRAPH_RESOURCE,
  GROUPS_OVERAGE_LIMIT,
  ID_TOKEN_LIFETIME_S,
  MSA_TENANT_ID,
  ROLE,
} from './constants.js';
import type { KeyRing } from './keys.js';
import type { EmulatorStore } from './store.js';
import type { EmulatorClient, User } from './types.js';

export interface TokenIssuer {
  baseUrl: string;
  store: EmulatorStore;
  keys: KeyRing;
}

/** A stable GUID derived from its inputs, for objects the fixture does not model (service principals). */
export function derivedGuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `sub` is pairwise: the same person gets a different subject in every app. */
export function pairwiseSubject(oid: string, clientId: string): string {
  return createHash('sha256').update(`${oid.toLowerCase()}|${clientId.toLowerCase()}`).digest('base64url');
}

export function servicePrincipalId(tenantId: string, clientId: string): string {
  return derivedGuid('sp', tenantId, clientId.toLowerCase());
}

export function clientInfo(user: User): string {
  return Buffer.from(JSON.stringify({ uid: user.id, utid: user.tenantId })).toString('base64url');
}

function opaqueClaim(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

function wids(user: User): string[] {
  const base = user.userType === 'Guest' ? ROLE.guestUser : ROLE.user;
  return [...new Set([...user.directoryRoles, base])];
}

function emailDomainVerified(issuer: TokenIssuer, user: User): boolean {
  const emailDomain = user.mail?.split('@')[1]?.toLowerCase();
  const tenant = issuer.store.findTenant(user.tenantId);
  return !!emailDomain && !!tenant?.verifiedDomains.some((d) => d.name.toLowerCase() === emailDomain);
}

/** Guests sign in with their home identity, so that is what `preferred_username` shows. */
function preferredUsername(user: User): string {
  return user.userType === 'Guest' && user.mail ? user.mail : user.userPrincipalName;
}

function groupClaims(issuer: TokenIssuer, user: User): Record<string, unknown> {
  const groups = issuer.store.transitiveGroupIds(user.id);
  if (groups.length <= GROUPS_OVERAGE_LIMIT) return { groups };
  return {
    _claim_names: { groups: 'src1' },
    _claim_sources: { src1: { endpoint: `${issuer.baseUrl}/v1.0/users/${user.id}/getMemberObjects` } },
  };
}

export function issueIdToken(
  issuer: TokenIssuer,
  args: { user: User; client: EmulatorClient; nonce: string | null; authTime: number },
): string {
  const { user, client } = args;
  const now = Math.floor(issuer.store.now() / 1000);
  const claims: Record<string, unknown> = {
    aud: client.clientId,
    iss: `${issuer.baseUrl}/${user.tenantId}/v2.0`,
    iat: now,
    nbf: now,
    exp: now + ID_TOKEN_LIFETIME_S,
    acct: user.userType === 'Guest' ? 1 : 0,
    auth_time: Math.floor(args.authTime / 1000),
    ...(user.mail ? { email: user.mail } : {}),
    ...groupClaims(issuer, user),
    ...(user.homeTenantId ? { idp: `https://sts.windows.net/${user.homeTenantId}/` } : {}),
    name: user.displayName,
    ...(args.nonce ? { nonce: args.nonce } : {}),
    oid: user.id,
    preferred_username: preferredUsername(user),
    rh: `1.${opaqueClaim(48)}.`,
    sub: pairwiseSubject(user.id, client.clientId),
    tid: user.tenantId,
    uti: opaqueClaim(16),
    ver: '2.0',
    ...(user.tenantId === MSA_TENANT_ID ? {} : { wids: wids(user) }),
    xms_edov: emailDomainVerified(issuer, user),
  };
  const override = issuer.store.takeIdTokenOverride();
  if (!override) return issuer.keys.signJwt(claims);
  const changed: Record<string, unknown> = { ...claims, ...override.claims };
  for (const name of override.removeClaims ?? []) delete changed[name];
  if (override.signature === 'tampered') {
    // The signature covers the honest claims; the overrides are what an attacker would edit in.
    const edited = override.claims || override.removeClaims ? changed : undefined;
    return issuer.keys.signJwt(claims, 'tampered', edited);
  }
  return issuer.keys.signJwt(changed, override.signature ?? 'valid');
}

/** Graph access tokens are v1 tokens issued by sts.windows.net, whatever endpoint issued them. */
export function issueAccessToken(
  issuer: TokenIssuer,
  args: { client: EmulatorClient; tenantId: string; user?: User; scopes?: string[]; roles?: string[] },
): string {
  const { client, user, tenantId } = args;
  const now = Math.floor(issuer.store.now() / 1000);
  const common = {
    aud: GRAPH_RESOURCE,
    iss: `https://sts.windows.net/${tenantId}/`,
    iat: now,
    nbf: now,
    exp: now + ACCESS_TOKEN_LIFETIME_S,
    app_displayname: client.displayName ?? client.clientId,
    appid: client.clientId,
    appidacr: '1',
  };
  if (!user) {
    const spId = servicePrincipalId(tenantId, client.clientId);
    return issuer.keys.signJwt({
      ...common,
      idp: `https://sts.windows.net/${tenantId}/`,
      idtyp: 'app',
      oid: spId,
      rh: `1.${opaqueClaim(48)}.`,
      ...(args.roles?.length ? { roles: args.roles } : {}),
      sub: spId,
      tid: tenantId,
      uti: opaqueClaim(16),
      ver: '1.0',
    });
  }
  return issuer.keys.signJwt({
    ...common,
    acct: user.userType === 'Guest' ? 1 : 0,
    ...(user.homeTenantId ? { idp: `https://sts.windows.net/${user.homeTenantId}/` } : {}),
    idtyp: 'user',
    ipaddr: '127.0.0.1',
    name: user.displayName,
    oid: user.id,
    rh: `1.${opaqueClaim(48)}.`,
    scp: (args.scopes ?? []).join(' '),
    sub: pairwiseSubject(user.id, GRAPH_RESOURCE),
    tid: tenantId,
    unique_name: preferredUsername(user),
    upn: user.userPrincipalName,
    uti: opaqueClaim(16),
    ver: '1.0',
    ...(user.tenantId === MSA_TENANT_ID ? {} : { wids: wids(user) }),
  });
}
