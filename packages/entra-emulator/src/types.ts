export interface VerifiedDomain {
  name: string;
  isDefault: boolean;
  isInitial: boolean;
  type: 'Managed';
  capabilities: string;
}

export interface Tenant {
  id: string;
  displayName: string;
  verifiedDomains: VerifiedDomain[];
}

export type UserType = 'Member' | 'Guest';

export interface User {
  id: string;
  tenantId: string;
  userPrincipalName: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  mail: string | null;
  accountEnabled: boolean;
  userType: UserType;
  /** For guests: the tenant the person really belongs to. */
  homeTenantId: string | null;
  /** Directory role template ids, emitted as `wids`. */
  directoryRoles: string[];
  deletedAt: Date | null;
}

export interface Group {
  id: string;
  tenantId: string;
  displayName: string;
  securityEnabled: boolean;
  mailEnabled: boolean;
  deletedAt: Date | null;
}

/** A member is a user or a (nested) group. */
export interface Membership {
  groupId: string;
  memberId: string;
}

export interface EmulatorClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  displayName?: string;
}

/** Tenant-wide admin consent: delegated `scopes` and application permissions (`roles`). */
export interface ConsentGrant {
  tenantId: string;
  clientId: string;
  scopes: string[];
  roles: string[];
  grantedAt: Date;
}

export interface AuthorizationCode {
  code: string;
  clientId: string;
  redirectUri: string;
  tenantId: string;
  userId: string;
  /** Path segment the authorize request used (organizations, common, GUID, domain). */
  authorityTenant: string;
  scopes: string[];
  nonce: string | null;
  codeChallenge: string;
  authTime: number;
  createdAt: number;
  redeemedAt: number | null;
}

export interface RefreshToken {
  token: string;
  clientId: string;
  tenantId: string;
  userId: string;
  scopes: string[];
  authTime: number;
  createdAt: number;
  usedAt: number | null;
  revokedAt: number | null;
}

export type SignatureMode = 'valid' | 'foreign-key' | 'tampered';

export interface IdTokenOverride {
  claims?: Record<string, unknown>;
  removeClaims?: string[];
  signature?: SignatureMode;
}

export type ConsentDecision = 'accept' | 'decline';

/**
 * One injected failure. `times` counts down per matching request (default 1); `Infinity` keeps it
 * until `clearFaults()`.
 */
export interface FaultRule {
  method?: string;
  /** Matched against the request path (no query string). A string matches as a prefix. */
  path: string | RegExp;
  kind: 'latency' | 'status' | 'timeout';
  /** latency: delay before normal handling. */
  delayMs?: number;
  /** status: HTTP status to answer with (e.g. 429, 500, 503). */
  status?: number;
  /** status: value of the Retry-After header (seconds, fractions allowed). */
  retryAfter?: number;
  times?: number;
}

/**
 * A user or group assigned to an enterprise application (its "Users and groups" pane): the scope of that
 * application's provisioning job. A group brings its direct user members into scope, as in Entra (nested
 * groups do not).
 */
export interface AppAssignment {
  tenantId: string;
  clientId: string;
  principalId: string;
  principalType: 'User' | 'Group';
}

export interface EmulatorFixture {
  tenants: Tenant[];
  users: User[];
  groups: Group[];
  memberships: Membership[];
  clients: EmulatorClient[];
  grants: ConsentGrant[];
  /** Users and groups assigned to applications; none when omitted. */
  assignments?: AppAssignment[];
}
