import { randomBytes } from 'node:crypto';
import { REFRESH_TOKEN_INACTIVITY_MS } from './constants.js';
import { EmulatorInputError } from './errors.js';
import { definedOnly, domain, makeGroup, makeUser } from './fixture.js';
import { GroupDirectory } from './group-directory.js';
import { UserDirectory, type Tombstone } from './user-directory.js';
import type {
  AuthorizationCode,
  ConsentDecision,
  ConsentGrant,
  EmulatorClient,
  EmulatorFixture,
  FaultRule,
  Group,
  IdTokenOverride,
  Membership,
  RefreshToken,
  Tenant,
  User,
  UserType,
  VerifiedDomain,
} from './types.js';

export { EmulatorInputError };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

export interface NewTenant {
  id?: string;
  displayName: string;
  verifiedDomains?: (string | (Partial<VerifiedDomain> & { name: string }))[];
}

export interface NewUser {
  id?: string;
  tenantId: string;
  userPrincipalName: string;
  displayName?: string;
  givenName?: string | null;
  surname?: string | null;
  mail?: string | null;
  accountEnabled?: boolean;
  userType?: UserType;
  homeTenantId?: string | null;
  directoryRoles?: string[];
}

export type UserPatch = Partial<Omit<NewUser, 'id' | 'tenantId'>>;

export interface NewGroup {
  id?: string;
  tenantId: string;
  displayName: string;
  securityEnabled?: boolean;
  mailEnabled?: boolean;
}

export interface GraphSettings {
  /** Added to every HTTP request to /v1.0 (a batch counts once). */
  latencyMs: number;
  /** Users per /users/delta page when the client sends no `Prefer: odata.maxpagesize`. */
  deltaPageSize: number;
}

export const DEFAULT_GRAPH_SETTINGS: GraphSettings = { latencyMs: 0, deltaPageSize: 100 };

export interface GenerateUsersOptions {
  /** Every n-th generated user is disabled. */
  disabledEvery?: number;
  /** Share of generated users (0..1) that is disabled, spread evenly. */
  disabledRatio?: number;
}

/** Opaque, long, URL-safe values shaped like Entra's (which are not JWTs either). */
function opaqueToken(bytes: number): string {
  return `1.${randomBytes(bytes).toString('base64url')}`;
}

/**
 * The emulator's directory and protocol state. Everything lives in memory; `reset()` goes back to the
 * fixture so test files can share one emulator.
 */
export class EmulatorStore {
  tenants: Tenant[] = [];
  graphSettings: GraphSettings = { ...DEFAULT_GRAPH_SETTINGS };
  grants: ConsentGrant[] = [];
  readonly clients: EmulatorClient[];
  consentDecision: ConsentDecision = 'accept';
  faults: FaultRule[] = [];
  private codes = new Map<string, AuthorizationCode>();
  private refreshTokens = new Map<string, RefreshToken>();
  private idTokenOverride: IdTokenOverride | null = null;
  private clockOffsetMs = 0;
  private userDirectory = new UserDirectory();
  private groupDirectory = new GroupDirectory();
  private graphRequests = 0;
  private deltaGeneration = 0;

  private readonly fixture: EmulatorFixture;

  constructor(fixture: EmulatorFixture, clients?: EmulatorClient[]) {
    this.fixture = structuredClone(fixture);
    this.clients = structuredClone(clients ?? fixture.clients);
    this.reset();
  }

  reset(): void {
    const copy = structuredClone(this.fixture);
    this.tenants = copy.tenants;
    this.userDirectory = new UserDirectory(copy.users);
    this.groupDirectory = new GroupDirectory(copy.groups, copy.memberships);
    this.grants = copy.grants;
    this.codes.clear();
    this.refreshTokens.clear();
    this.consentDecision = 'accept';
    this.idTokenOverride = null;
    this.faults = [];
    this.clockOffsetMs = 0;
    this.graphSettings = { ...DEFAULT_GRAPH_SETTINGS };
    this.graphRequests = 0;
    // The change counter starts over with the fixture, so tokens from before cannot be honoured.
    this.deltaGeneration++;
  }

  /** Every user not purged, soft-deleted ones included. Change users through the methods below only. */
  get users(): readonly User[] {
    return this.userDirectory.all;
  }

  /** Indexed, paged read access for the Graph handlers. */
  get directory(): UserDirectory {
    return this.userDirectory;
  }

  get groups(): readonly Group[] {
    return this.groupDirectory.all;
  }

  get memberships(): readonly Membership[] {
    return this.groupDirectory.memberships;
  }

  /** The emulator's notion of "now" in ms; tests move it forward to expire codes and tokens. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  // --- tenants -------------------------------------------------------------------------------------

  addTenant(input: NewTenant): Tenant {
    const id = input.id ?? crypto.randomUUID();
    if (!isGuid(id)) throw new EmulatorInputError(`tenant id '${id}' is not a GUID`);
    if (this.findTenant(id)) throw new EmulatorInputError(`tenant ${id} already exists`);
    if (!input.displayName) throw new EmulatorInputError('displayName is required');
    const domains = (input.verifiedDomains ?? []).map((d, i) =>
      typeof d === 'string' ? domain(d, { isDefault: i === 0 }) : { ...domain(d.name), ...definedOnly(d) },
    );
    for (const d of domains) {
      if (this.findTenantByDomain(d.name)) {
        throw new EmulatorInputError(`domain ${d.name} is already verified`);
      }
    }
    const tenant: Tenant = { id, displayName: input.displayName, verifiedDomains: domains };
    this.tenants.push(tenant);
    return tenant;
  }

  findTenant(id: string): Tenant | undefined {
    return this.tenants.find((t) => t.id.toLowerCase() === id.toLowerCase());
  }

  findTenantByDomain(name: string): Tenant | undefined {
    const wanted = name.toLowerCase();
    return this.tenants.find((t) => t.verifiedDomains.some((d) => d.name.toLowerCase() === wanted));
  }

  /** A tenant GUID or any of its verified domains (case-insensitive), as used in authority paths. */
  resolveTenant(idOrDomain: string): Tenant | undefined {
    return isGuid(idOrDomain) ? this.findTenant(idOrDomain) : this.findTenantByDomain(idOrDomain);
  }

  // --- users ---------------------------------------------------------------------------------------

  addUser(input: NewUser): User {
    if (!input.tenantId || !this.findTenant(input.tenantId)) {
      throw new EmulatorInputError(`unknown tenant '${input.tenantId}'`);
    }
    if (!input.userPrincipalName?.includes('@')) throw new EmulatorInputError('userPrincipalName is invalid');
    if (input.id !== undefined && !isGuid(input.id)) throw new EmulatorInputError('id must be a GUID');
    if (input.id && this.userDirectory.find(input.id)) {
      throw new EmulatorInputError(`user ${input.id} already exists`);
    }
    this.assertUpnFree(input.userPrincipalName);
    const user = makeUser(input);
    this.userDirectory.add(user);
    return user;
  }

  updateUser(id: string, patch: UserPatch): User {
    const user = this.requireUser(id);
    const previousUpn = user.userPrincipalName;
    if (patch.userPrincipalName !== undefined && patch.userPrincipalName !== user.userPrincipalName) {
      this.assertUpnFree(patch.userPrincipalName, user.id);
    }
    Object.assign(user, definedOnly(patch));
    this.userDirectory.changed(user, previousUpn);
    return user;
  }

  /** One patch for many users, e.g. to disable a hundred at once; returns how many were changed. */
  updateUsers(ids: readonly string[], patch: UserPatch): number {
    if (patch.userPrincipalName !== undefined && ids.length > 1) {
      throw new EmulatorInputError('userPrincipalName must be unique; patch one user at a time');
    }
    const users = ids.map((id) => this.requireUser(id));
    for (const user of users) this.updateUser(user.id, patch);
    return users.length;
  }

  /** Soft delete, like Entra's recycle bin: the object stays findable by id for restores and delta. */
  deleteUser(id: string): User {
    const user = this.requireUser(id);
    if (!user.deletedAt) {
      user.deletedAt = new Date(this.now());
      this.userDirectory.changed(user);
    }
    this.revokeRefreshTokens({ userId: user.id });
    return user;
  }

  deleteUsers(ids: readonly string[]): number {
    const users = ids.map((id) => this.requireUser(id));
    for (const user of users) this.deleteUser(user.id);
    return users.length;
  }

  restoreUser(id: string): User {
    const user = this.requireUser(id);
    if (user.deletedAt) {
      user.deletedAt = null;
      this.userDirectory.changed(user);
    }
    return user;
  }

  /**
   * Permanent deletion (soft-deleted or not): the user and its memberships are gone for good and only a
   * tombstone remains for delta's `@removed: deleted`.
   */
  purgeUser(id: string): Tombstone {
    const user = this.requireUser(id);
    this.revokeRefreshTokens({ userId: user.id });
    for (const groupId of this.groupDirectory.directGroupIds(user.id)) this.removeMember(groupId, user.id);
    return this.userDirectory.purge(user, new Date(this.now()));
  }

  /**
   * Bulk users for load tests: ids derive from tenant and index (the same on every run), UPNs are
   * `user{n}@<default domain>`. Returns the new ids in order.
   */
  generateUsers(tenantId: string, count: number, options: GenerateUsersOptions = {}): string[] {
    const tenant = this.findTenant(tenantId);
    if (!tenant) throw new EmulatorInputError(`unknown tenant '${tenantId}'`);
    if (!Number.isInteger(count) || count < 0) throw new EmulatorInputError('count must be a whole number');
    const { disabledEvery, disabledRatio } = options;
    if (disabledEvery !== undefined && (!Number.isInteger(disabledEvery) || disabledEvery < 1)) {
      throw new EmulatorInputError('disabledEvery must be a positive whole number');
    }
    if (disabledRatio !== undefined && !(disabledRatio >= 0 && disabledRatio <= 1)) {
      throw new EmulatorInputError('disabledRatio must be between 0 and 1');
    }
    const domainName = (tenant.verifiedDomains.find((d) => d.isDefault) ?? tenant.verifiedDomains[0])?.name;
    if (!domainName) throw new EmulatorInputError(`tenant ${tenant.id} has no verified domain`);

    return this.userDirectory.generate(tenant.id, domainName, count, (i) => {
      if (disabledEvery !== undefined && (i + 1) % disabledEvery === 0) return true;
      return (
        disabledRatio !== undefined && Math.floor((i + 1) * disabledRatio) > Math.floor(i * disabledRatio)
      );
    });
  }

  /** Includes soft-deleted users; callers decide what a deleted user means for them. */
  findUser(id: string): User | undefined {
    return this.userDirectory.find(id);
  }

  activeUsers(tenantId?: string): User[] {
    return this.users.filter((u) => !u.deletedAt && (!tenantId || u.tenantId === tenantId));
  }

  /** Entra accepts a UPN or an email address as login hint; a hint in the requested tenant wins. */
  findUserByLoginHint(hint: string, preferTenantId?: string): User | undefined {
    const wanted = hint.trim().toLowerCase();
    const byUpn = this.userDirectory.findByUpn(wanted);
    if (byUpn && !byUpn.deletedAt) return byUpn;
    const candidates = this.activeUsers().filter((u) => u.mail?.toLowerCase() === wanted);
    return candidates.find((u) => u.tenantId === preferTenantId) ?? candidates[0];
  }

  private requireUser(id: string): User {
    const user = this.findUser(id);
    if (!user) throw new EmulatorInputError(`unknown user '${id}'`);
    return user;
  }

  private assertUpnFree(upn: string, exceptId?: string): void {
    const clash = this.userDirectory.findByUpn(upn);
    if (clash && clash.id !== exceptId) {
      throw new EmulatorInputError(`userPrincipalName ${upn} is already in use`);
    }
  }

  // --- groups --------------------------------------------------------------------------------------

  addGroup(input: NewGroup): Group {
    if (!this.findTenant(input.tenantId)) throw new EmulatorInputError(`unknown tenant '${input.tenantId}'`);
    if (!input.displayName) throw new EmulatorInputError('displayName is required');
    if (input.id !== undefined && (!isGuid(input.id) || this.findGroup(input.id))) {
      throw new EmulatorInputError('id must be a new GUID');
    }
    const group = makeGroup(input);
    this.groupDirectory.add(group);
    return group;
  }

  findGroup(id: string): Group | undefined {
    return this.groupDirectory.find(id);
  }

  /** A tenant's groups ordered by lower-cased displayName, then id. */
  sortedGroups(tenantId: string): readonly Group[] {
    return this.groupDirectory.sorted(tenantId);
  }

  addMember(groupId: string, memberId: string): void {
    const group = this.findGroup(groupId);
    if (!group) throw new EmulatorInputError(`unknown group '${groupId}'`);
    const member = this.findUser(memberId) ?? this.findGroup(memberId);
    if (!member) throw new EmulatorInputError(`unknown member '${memberId}'`);
    if (member.tenantId !== group.tenantId) throw new EmulatorInputError('member belongs to another tenant');
    if (member.id === group.id) throw new EmulatorInputError('a group cannot contain itself');
    this.groupDirectory.addMember(group.id, member.id);
  }

  removeMember(groupId: string, memberId: string): boolean {
    return this.groupDirectory.removeMember(groupId, memberId);
  }

  /** Groups the object belongs to directly or through nested groups; cycles are tolerated. */
  transitiveGroupIds(memberId: string): string[] {
    return this.groupDirectory.transitiveGroupIds(memberId);
  }

  // --- apps and consent ----------------------------------------------------------------------------

  findClient(clientId: string): EmulatorClient | undefined {
    return this.clients.find((c) => c.clientId.toLowerCase() === clientId.toLowerCase());
  }

  findGrant(tenantId: string, clientId: string): ConsentGrant | undefined {
    return this.grants.find(
      (g) => g.tenantId === tenantId && g.clientId.toLowerCase() === clientId.toLowerCase(),
    );
  }

  /** Tenant-wide consent; merges with what was granted before, as Entra does. */
  grantConsent(
    tenantId: string,
    clientId: string,
    add: { scopes?: string[]; roles?: string[] },
  ): ConsentGrant {
    if (!this.findTenant(tenantId)) throw new EmulatorInputError(`unknown tenant '${tenantId}'`);
    if (!this.findClient(clientId)) throw new EmulatorInputError(`unknown client '${clientId}'`);
    let grant = this.findGrant(tenantId, clientId);
    if (!grant) {
      grant = { tenantId, clientId, scopes: [], roles: [], grantedAt: new Date(this.now()) };
      this.grants.push(grant);
    }
    grant.scopes = mergeCaseInsensitive(grant.scopes, add.scopes ?? []);
    grant.roles = mergeCaseInsensitive(grant.roles, add.roles ?? []);
    return grant;
  }

  revokeConsent(tenantId: string, clientId: string): void {
    this.grants = this.grants.filter((g) => g !== this.findGrant(tenantId, clientId));
  }

  setConsentDecision(decision: ConsentDecision): void {
    this.consentDecision = decision;
  }

  // --- codes and refresh tokens --------------------------------------------------------------------

  createCode(fields: Omit<AuthorizationCode, 'code' | 'createdAt' | 'redeemedAt'>): AuthorizationCode {
    const code: AuthorizationCode = {
      ...fields,
      code: opaqueToken(96),
      createdAt: this.now(),
      redeemedAt: null,
    };
    this.codes.set(code.code, code);
    return code;
  }

  findCode(code: string): AuthorizationCode | undefined {
    return this.codes.get(code);
  }

  createRefreshToken(from: Pick<RefreshToken, 'clientId' | 'tenantId' | 'userId' | 'scopes' | 'authTime'>) {
    const token: RefreshToken = {
      clientId: from.clientId,
      tenantId: from.tenantId,
      userId: from.userId,
      scopes: [...from.scopes],
      authTime: from.authTime,
      token: opaqueToken(180),
      createdAt: this.now(),
      usedAt: null,
      revokedAt: null,
    };
    this.refreshTokens.set(token.token, token);
    return token;
  }

  findRefreshToken(token: string): RefreshToken | undefined {
    return this.refreshTokens.get(token);
  }

  isRefreshTokenInactive(token: RefreshToken): boolean {
    return this.now() - token.createdAt > REFRESH_TOKEN_INACTIVITY_MS;
  }

  /** Like "revoke sessions" in the portal; returns how many live tokens were revoked. */
  revokeRefreshTokens(filter: { tenantId?: string; userId?: string } = {}): number {
    let count = 0;
    for (const token of this.refreshTokens.values()) {
      if (token.revokedAt !== null || token.usedAt !== null) continue;
      if (filter.tenantId && token.tenantId !== filter.tenantId) continue;
      if (filter.userId && token.userId.toLowerCase() !== filter.userId.toLowerCase()) continue;
      token.revokedAt = this.now();
      count++;
    }
    return count;
  }

  liveRefreshTokenCount(): number {
    return [...this.refreshTokens.values()].filter((t) => t.usedAt === null && t.revokedAt === null).length;
  }

  // --- test hooks ----------------------------------------------------------------------------------

  /** Applies to the next ID token issued (by any grant) and is then forgotten. */
  setNextIdTokenOverride(override: IdTokenOverride | null): void {
    this.idTokenOverride = override;
  }

  takeIdTokenOverride(): IdTokenOverride | null {
    const override = this.idTokenOverride;
    this.idTokenOverride = null;
    return override;
  }

  addFault(rule: FaultRule): void {
    this.faults.push({ times: 1, ...rule });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Finds the first fault matching the request and counts it down. */
  takeFault(method: string, path: string): FaultRule | undefined {
    const rule = this.faults.find(
      (f) =>
        (!f.method || f.method.toUpperCase() === method.toUpperCase()) &&
        (typeof f.path === 'string' ? path.startsWith(f.path) : f.path.test(path)),
    );
    if (!rule) return undefined;
    rule.times = (rule.times ?? 1) - 1;
    if (rule.times <= 0) this.faults = this.faults.filter((f) => f !== rule);
    return rule;
  }

  // --- Graph measurements and delta tokens -------------------------------------------------------

  countGraphRequest(): void {
    this.graphRequests++;
  }

  /** HTTP requests that reached /v1.0 since the last reset; a batch counts as one. */
  graphRequestCount(): number {
    return this.graphRequests;
  }

  resetGraphRequestCount(): void {
    this.graphRequests = 0;
  }

  updateGraphSettings(patch: Partial<GraphSettings>): GraphSettings {
    const next = { ...this.graphSettings, ...definedOnly(patch) };
    if (!Number.isFinite(next.latencyMs) || next.latencyMs < 0) {
      throw new EmulatorInputError('latencyMs must be a non-negative number');
    }
    if (!Number.isInteger(next.deltaPageSize) || next.deltaPageSize < 1 || next.deltaPageSize > 999) {
      throw new EmulatorInputError('deltaPageSize must be a whole number from 1 to 999');
    }
    this.graphSettings = next;
    return next;
  }

  /** Delta and delta-paging tokens carry this; older ones answer 410 syncStateNotFound. */
  get deltaTokenGeneration(): number {
    return this.deltaGeneration;
  }

  /** Like Entra forgetting sync state after about 7 days: every outstanding delta token stops working. */
  expireDeltaTokens(): void {
    this.deltaGeneration++;
  }

  /** What the control API shows; never includes secrets, codes or tokens. */
  snapshot() {
    return {
      now: new Date(this.now()).toISOString(),
      tenants: this.tenants,
      users: this.users,
      groups: this.groups,
      memberships: this.memberships,
      grants: this.grants,
      clients: this.clients.map(({ clientId, displayName, redirectUris }) => ({
        clientId,
        displayName,
        redirectUris,
      })),
      consentDecision: this.consentDecision,
      liveRefreshTokens: this.liveRefreshTokenCount(),
      pendingIdTokenOverride: this.idTokenOverride !== null,
      faults: this.faults.map((f) => ({ ...f, path: String(f.path) })),
      graphSettings: this.graphSettings,
      graphRequests: this.graphRequests,
    };
  }
}

function mergeCaseInsensitive(existing: string[], extra: string[]): string[] {
  const out = [...existing];
  for (const value of extra) {
    if (!out.some((v) => v.toLowerCase() === value.toLowerCase())) out.push(value);
  }
  return out;
}
