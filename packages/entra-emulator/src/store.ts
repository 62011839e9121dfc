import { AppAssignments } from './app-assignments.js';
import { ConsentRegistry } from './consent-registry.js';
import { EmulatorInputError } from './errors.js';
import { makeGroup } from './fixture.js';
import { GraphControls, DEFAULT_GRAPH_SETTINGS, type GraphSettings } from './graph-controls.js';
import { GroupDirectory } from './group-directory.js';
import { isGuid } from './guid.js';
import { IssuedCredentials, type IssuedCredentialsState } from './issued-credentials.js';
import { ProvisioningJobs, type ProvisioningJobState } from './provisioning-jobs.js';
import { TenantRegistry, type NewTenant } from './tenant-registry.js';
import { UserAccounts, type GenerateUsersOptions, type NewUser, type UserPatch } from './user-accounts.js';
import { UserDirectory, type Tombstone, type UserDirectoryState } from './user-directory.js';
import type {
  AppAssignment,
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
} from './types.js';

export { DEFAULT_GRAPH_SETTINGS, EmulatorInputError, isGuid };
export type { GenerateUsersOptions, GraphSettings, NewTenant, NewUser, UserPatch };

export interface NewGroup {
  id?: string;
  tenantId: string;
  displayName: string;
  securityEnabled?: boolean;
  mailEnabled?: boolean;
}

/**
 * What outlives a restart of the emulator process (written to disk by `persistence.ts`): the directory with its
 * change log, app registrations, consent, codes and refresh tokens, the clock and the delta-token generation,
 * so links and tokens issued before the restart keep working. Faults, Graph latency and paging settings and
 * the pending ID token override are test knobs and start afresh.
 */
export interface EmulatorStoreState {
  clockOffsetMs: number;
  clients: EmulatorClient[];
  tenants: Tenant[];
  directory: UserDirectoryState;
  groups: Group[];
  memberships: Membership[];
  grants: ConsentGrant[];
  consentDecision: ConsentDecision;
  credentials: IssuedCredentialsState;
  deltaTokenGeneration: number;
  /** Absent in files saved before assignments existed: the fixture's are taken then. */
  assignments?: AppAssignment[];
  provisioningJobs?: ProvisioningJobState[];
}

/** What `reset()` rebuilds from the fixture; everything else survives a reset. */
interface DirectoryState {
  tenants: TenantRegistry;
  users: UserAccounts;
  groups: GroupDirectory;
  consent: ConsentRegistry;
  credentials: IssuedCredentials;
  assignments: AppAssignments;
  provisioning: ProvisioningJobs;
}

/**
 * The emulator's directory and protocol state, behind one facade: tests, the control API and the protocol
 * handlers change it only through these methods, which keep the parts consistent (deleting a user revokes
 * its refresh tokens, purging one drops its memberships). Everything lives in memory; `reset()` goes back to
 * the fixture so test files can share one emulator.
 */
export class EmulatorStore {
  private readonly fixture: EmulatorFixture;
  private clientList: EmulatorClient[];
  private readonly graph = new GraphControls();
  private state: DirectoryState;
  private clockOffsetMs = 0;

  constructor(fixture: EmulatorFixture, clients?: EmulatorClient[]) {
    this.fixture = structuredClone(fixture);
    this.clientList = structuredClone(clients ?? fixture.clients);
    this.state = this.fromFixture();
    this.graph.reset();
  }

  reset(): void {
    this.state = this.fromFixture();
    this.clockOffsetMs = 0;
    this.graph.reset();
  }

  /** Plain data sharing the live objects: serialise it at once (as `persistence.ts` does). */
  exportState(): EmulatorStoreState {
    return {
      clockOffsetMs: this.clockOffsetMs,
      clients: this.clientList,
      tenants: [...this.state.tenants.all],
      directory: this.state.users.index.exportState(),
      groups: [...this.state.groups.all],
      memberships: [...this.state.groups.memberships],
      grants: [...this.state.consent.allGrants],
      consentDecision: this.state.consent.consentDecision,
      credentials: this.state.credentials.exportState(),
      deltaTokenGeneration: this.graph.deltaTokenGeneration,
      assignments: this.state.assignments.all,
      provisioningJobs: this.state.provisioning.all,
    };
  }

  /**
   * Takes over a saved state. The app registrations this store was created with win over saved ones with the
   * same client id (their redirect URIs follow the current configuration); other saved registrations stay.
   */
  restoreState(saved: EmulatorStoreState): void {
    const configured = this.clientList;
    const isConfigured = (c: EmulatorClient) =>
      configured.some((k) => k.clientId.toLowerCase() === c.clientId.toLowerCase());
    this.clientList = [...saved.clients.filter((c) => !isConfigured(c)), ...configured];
    const tenants = new TenantRegistry(saved.tenants);
    const consent = new ConsentRegistry(this.clientList, saved.grants);
    consent.consentDecision = saved.consentDecision;
    this.state = {
      tenants,
      users: new UserAccounts(UserDirectory.fromState(saved.directory), tenants),
      groups: new GroupDirectory(saved.groups, saved.memberships),
      consent,
      credentials: new IssuedCredentials(() => this.now(), saved.credentials),
      assignments: new AppAssignments(saved.assignments ?? structuredClone(this.fixture.assignments ?? [])),
      provisioning: new ProvisioningJobs(saved.provisioningJobs),
    };
    this.clockOffsetMs = saved.clockOffsetMs;
    this.graph.reset();
    this.graph.restoreDeltaTokenGeneration(saved.deltaTokenGeneration);
  }

  private fromFixture(): DirectoryState {
    const copy = structuredClone(this.fixture);
    const tenants = new TenantRegistry(copy.tenants);
    return {
      tenants,
      users: new UserAccounts(copy.users, tenants),
      groups: new GroupDirectory(copy.groups, copy.memberships),
      consent: new ConsentRegistry(this.clientList, copy.grants),
      credentials: new IssuedCredentials(() => this.now()),
      assignments: new AppAssignments(copy.assignments ?? []),
      provisioning: new ProvisioningJobs(),
    };
  }

  // --- read access ---------------------------------------------------------------------------------

  get tenants(): readonly Tenant[] {
    return this.state.tenants.all;
  }

  /** Every user not purged, soft-deleted ones included. Change users through the methods below only. */
  get users(): readonly User[] {
    return this.state.users.all;
  }

  /** Indexed, paged read access for the Graph handlers. */
  get directory(): UserDirectory {
    return this.state.users.index;
  }

  get groups(): readonly Group[] {
    return this.state.groups.all;
  }

  get memberships(): readonly Membership[] {
    return this.state.groups.memberships;
  }

  get clients(): readonly EmulatorClient[] {
    return this.state.consent.allClients;
  }

  get grants(): readonly ConsentGrant[] {
    return this.state.consent.allGrants;
  }

  get consentDecision(): ConsentDecision {
    return this.state.consent.consentDecision;
  }

  /** Change it with `updateGraphSettings`. */
  get graphSettings(): Readonly<GraphSettings> {
    return this.graph.graphSettings;
  }

  get faults(): readonly FaultRule[] {
    return this.graph.activeFaults;
  }

  // --- clock ---------------------------------------------------------------------------------------

  /** The emulator's notion of "now" in ms; tests move it forward to expire codes and tokens. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  // --- tenants -------------------------------------------------------------------------------------

  addTenant(input: NewTenant): Tenant {
    return this.state.tenants.add(input);
  }

  findTenant(id: string): Tenant | undefined {
    return this.state.tenants.find(id);
  }

  findTenantByDomain(name: string): Tenant | undefined {
    return this.state.tenants.findByDomain(name);
  }

  /** A tenant GUID or any of its verified domains (case-insensitive), as used in authority paths. */
  resolveTenant(idOrDomain: string): Tenant | undefined {
    return this.state.tenants.resolve(idOrDomain);
  }

  // --- users ---------------------------------------------------------------------------------------

  addUser(input: NewUser): User {
    return this.state.users.add(input);
  }

  updateUser(id: string, patch: UserPatch): User {
    return this.state.users.update(id, patch);
  }

  /** One patch for many users, e.g. to disable a hundred at once; returns how many were changed. */
  updateUsers(ids: readonly string[], patch: UserPatch): number {
    return this.state.users.updateMany(ids, patch);
  }

  /** Soft delete, like Entra's recycle bin: the object stays findable by id for restores and delta. */
  deleteUser(id: string): User {
    const user = this.state.users.softDelete(id, new Date(this.now()));
    this.revokeRefreshTokens({ userId: user.id });
    return user;
  }

  deleteUsers(ids: readonly string[]): number {
    const users = ids.map((id) => this.state.users.require(id));
    for (const user of users) this.deleteUser(user.id);
    return users.length;
  }

  restoreUser(id: string): User {
    return this.state.users.restore(id);
  }

  /**
   * Permanent deletion (soft-deleted or not): the user and its memberships are gone for good and only a
   * tombstone remains for delta's `@removed: deleted`.
   */
  purgeUser(id: string): Tombstone {
    const user = this.state.users.require(id);
    this.revokeRefreshTokens({ userId: user.id });
    this.state.assignments.removePrincipal(user.id);
    for (const groupId of this.state.groups.directGroupIds(user.id)) this.removeMember(groupId, user.id);
    return this.state.users.purge(user.id, new Date(this.now()));
  }

  /**
   * Bulk users for load tests: ids derive from tenant and index (the same on every run), UPNs are
   * `user{n}@<default domain>`. Returns the new ids in order.
   */
  generateUsers(tenantId: string, count: number, options: GenerateUsersOptions = {}): string[] {
    return this.state.users.generate(tenantId, count, options);
  }

  /** Includes soft-deleted users; callers decide what a deleted user means for them. */
  findUser(id: string): User | undefined {
    return this.state.users.find(id);
  }

  activeUsers(tenantId?: string): User[] {
    return this.state.users.active(tenantId);
  }

  /** Entra accepts a UPN or an email address as login hint; a hint in the requested tenant wins. */
  findUserByLoginHint(hint: string, preferTenantId?: string): User | undefined {
    return this.state.users.findByLoginHint(hint, preferTenantId);
  }

  // --- groups --------------------------------------------------------------------------------------

  addGroup(input: NewGroup): Group {
    this.state.tenants.require(input.tenantId);
    if (!input.displayName) throw new EmulatorInputError('displayName is required');
    if (input.id !== undefined && (!isGuid(input.id) || this.findGroup(input.id))) {
      throw new EmulatorInputError('id must be a new GUID');
    }
    const group = makeGroup(input);
    this.state.groups.add(group);
    return group;
  }

  findGroup(id: string): Group | undefined {
    return this.state.groups.find(id);
  }

  /** A tenant's groups ordered by lower-cased displayName, then id. */
  sortedGroups(tenantId: string): readonly Group[] {
    return this.state.groups.sorted(tenantId);
  }

  addMember(groupId: string, memberId: string): void {
    const group = this.findGroup(groupId);
    if (!group) throw new EmulatorInputError(`unknown group '${groupId}'`);
    const member = this.findUser(memberId) ?? this.findGroup(memberId);
    if (!member) throw new EmulatorInputError(`unknown member '${memberId}'`);
    if (member.tenantId !== group.tenantId) throw new EmulatorInputError('member belongs to another tenant');
    if (member.id === group.id) throw new EmulatorInputError('a group cannot contain itself');
    this.state.groups.addMember(group.id, member.id);
  }

  removeMember(groupId: string, memberId: string): boolean {
    return this.state.groups.removeMember(groupId, memberId);
  }

  /** Groups the object belongs to directly or through nested groups; cycles are tolerated. */
  transitiveGroupIds(memberId: string): string[] {
    return this.state.groups.transitiveGroupIds(memberId);
  }

  // --- application assignments and provisioning jobs ---------------------------------------------

  get assignments(): readonly AppAssignment[] {
    return this.state.assignments.all;
  }

  assignmentsOf(tenantId: string, clientId: string): AppAssignment[] {
    return this.state.assignments.of(tenantId, clientId);
  }

  /** Assigns a user or group of the tenant to an application (Users and groups → Add assignment). */
  assignToApp(input: { tenantId: string; clientId: string; principalId: string }): AppAssignment {
    const tenant = this.state.tenants.require(input.tenantId);
    if (!this.findClient(input.clientId)) throw new EmulatorInputError(`unknown client '${input.clientId}'`);
    const user = this.findUser(input.principalId);
    const group = user ? undefined : this.findGroup(input.principalId);
    const principal = user ?? group;
    if (!principal) throw new EmulatorInputError(`unknown user or group '${input.principalId}'`);
    if (principal.tenantId !== tenant.id)
      throw new EmulatorInputError('the principal belongs to another tenant');
    return this.state.assignments.add({
      tenantId: tenant.id,
      clientId: input.clientId,
      principalId: principal.id,
      principalType: user ? 'User' : 'Group',
    });
  }

  unassignFromApp(tenantId: string, clientId: string, principalId: string): boolean {
    return this.state.assignments.remove(tenantId, clientId, principalId);
  }

  /** The simulated provisioning service's jobs; `EntraEmulator.provisioning` runs them. */
  get provisioningJobs(): ProvisioningJobs {
    return this.state.provisioning;
  }

  // --- apps and consent ----------------------------------------------------------------------------

  findClient(clientId: string): EmulatorClient | undefined {
    return this.state.consent.findClient(clientId);
  }

  findGrant(tenantId: string, clientId: string): ConsentGrant | undefined {
    return this.state.consent.findGrant(tenantId, clientId);
  }

  /** Tenant-wide consent; merges with what was granted before, as Entra does. */
  grantConsent(
    tenantId: string,
    clientId: string,
    add: { scopes?: string[]; roles?: string[] },
  ): ConsentGrant {
    this.state.tenants.require(tenantId);
    if (!this.findClient(clientId)) throw new EmulatorInputError(`unknown client '${clientId}'`);
    return this.state.consent.grant(tenantId, clientId, add, new Date(this.now()));
  }

  revokeConsent(tenantId: string, clientId: string): void {
    this.state.consent.revoke(tenantId, clientId);
  }

  setConsentDecision(decision: ConsentDecision): void {
    this.state.consent.consentDecision = decision;
  }

  // --- codes and refresh tokens --------------------------------------------------------------------

  createCode(fields: Omit<AuthorizationCode, 'code' | 'createdAt' | 'redeemedAt'>): AuthorizationCode {
    return this.state.credentials.createCode(fields);
  }

  findCode(code: string): AuthorizationCode | undefined {
    return this.state.credentials.findCode(code);
  }

  createRefreshToken(
    from: Pick<RefreshToken, 'clientId' | 'tenantId' | 'userId' | 'scopes' | 'authTime'>,
  ): RefreshToken {
    return this.state.credentials.createRefreshToken(from);
  }

  findRefreshToken(token: string): RefreshToken | undefined {
    return this.state.credentials.findRefreshToken(token);
  }

  isRefreshTokenInactive(token: RefreshToken): boolean {
    return this.state.credentials.isRefreshTokenInactive(token);
  }

  /** Like "revoke sessions" in the portal; returns how many live tokens were revoked. */
  revokeRefreshTokens(filter: { tenantId?: string; userId?: string } = {}): number {
    return this.state.credentials.revokeRefreshTokens(filter);
  }

  liveRefreshTokenCount(): number {
    return this.state.credentials.liveRefreshTokenCount();
  }

  // --- single sign-on sessions ----------------------------------------------------------------------

  /** When the user last authenticated interactively (their sign-on session), if ever. */
  lastAuthentication(userId: string): number | undefined {
    return this.state.credentials.lastAuthentication(userId);
  }

  /**
   * Records an interactive authentication; later sign-ins without `prompt=login` (and within `max_age`)
   * reuse it, so their `auth_time` stays this moment. Tests set one in the past to model an old session.
   */
  recordAuthentication(userId: string, at: number = this.now()): void {
    this.state.credentials.recordAuthentication(userId, at);
  }

  // --- test hooks ----------------------------------------------------------------------------------

  /** Applies to the next ID token issued (by any grant) and is then forgotten. */
  setNextIdTokenOverride(override: IdTokenOverride | null): void {
    this.state.credentials.setNextIdTokenOverride(override);
  }

  takeIdTokenOverride(): IdTokenOverride | null {
    return this.state.credentials.takeIdTokenOverride();
  }

  addFault(rule: FaultRule): void {
    this.graph.addFault(rule);
  }

  clearFaults(): void {
    this.graph.clearFaults();
  }

  /** Finds the first fault matching the request and counts it down. */
  takeFault(method: string, path: string): FaultRule | undefined {
    return this.graph.takeFault(method, path);
  }

  // --- Graph measurements and delta tokens -------------------------------------------------------

  countGraphRequest(): void {
    this.graph.countGraphRequest();
  }

  /** HTTP requests that reached /v1.0 since the last reset; a batch counts as one. */
  graphRequestCount(): number {
    return this.graph.graphRequestCount;
  }

  resetGraphRequestCount(): void {
    this.graph.resetGraphRequestCount();
  }

  updateGraphSettings(patch: Partial<GraphSettings>): GraphSettings {
    return this.graph.updateGraphSettings(patch);
  }

  /** Delta and delta-paging tokens carry this; older ones answer 410 syncStateNotFound. */
  get deltaTokenGeneration(): number {
    return this.graph.deltaTokenGeneration;
  }

  /** Like Entra forgetting sync state after about 7 days: every outstanding delta token stops working. */
  expireDeltaTokens(): void {
    this.graph.expireDeltaTokens();
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
      pendingIdTokenOverride: this.state.credentials.hasIdTokenOverride,
      faults: this.faults.map((f) => ({ ...f, path: String(f.path) })),
      graphSettings: this.graphSettings,
      graphRequests: this.graphRequestCount(),
      assignments: this.assignments,
      provisioningJobs: this.state.provisioning.all.map((job) => ({
        id: job.id,
        status: job.status,
        tenantUrl: job.config.tenantUrl,
        cycles: job.cycles,
        escrowed: job.escrow.length,
      })),
    };
  }
}
