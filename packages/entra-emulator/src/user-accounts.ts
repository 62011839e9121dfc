import { EmulatorInputError } from './errors.js';
import { definedOnly, makeUser } from './fixture.js';
import { isGuid } from './guid.js';
import type { TenantRegistry } from './tenant-registry.js';
import type { User, UserType } from './types.js';
import { UserDirectory, type Tombstone } from './user-directory.js';

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

export interface GenerateUsersOptions {
  /** Every n-th generated user is disabled. */
  disabledEvery?: number;
  /** Share of generated users (0..1) that is disabled, spread evenly. */
  disabledRatio?: number;
}

/**
 * The users' rules (unique UPNs, known tenants, soft and permanent deletion) over the indexed
 * `UserDirectory`. What a change means for tokens and group memberships is the store's business.
 */
export class UserAccounts {
  private readonly directory: UserDirectory;

  /** A directory restored from disk is taken as it is. */
  constructor(
    users: User[] | UserDirectory,
    private readonly tenants: TenantRegistry,
  ) {
    this.directory = users instanceof UserDirectory ? users : new UserDirectory(users);
  }

  /** Every user not purged, soft-deleted ones included. */
  get all(): readonly User[] {
    return this.directory.all;
  }

  /** Indexed, paged read access for the Graph handlers. */
  get index(): UserDirectory {
    return this.directory;
  }

  add(input: NewUser): User {
    this.tenants.require(input.tenantId);
    if (!input.userPrincipalName?.includes('@')) throw new EmulatorInputError('userPrincipalName is invalid');
    if (input.id !== undefined && !isGuid(input.id)) throw new EmulatorInputError('id must be a GUID');
    if (input.id && this.directory.find(input.id)) {
      throw new EmulatorInputError(`user ${input.id} already exists`);
    }
    this.assertUpnFree(input.userPrincipalName);
    const user = makeUser(input);
    this.directory.add(user);
    return user;
  }

  update(id: string, patch: UserPatch): User {
    const user = this.require(id);
    const previousUpn = user.userPrincipalName;
    if (patch.userPrincipalName !== undefined && patch.userPrincipalName !== user.userPrincipalName) {
      this.assertUpnFree(patch.userPrincipalName, user.id);
    }
    Object.assign(user, definedOnly(patch));
    this.directory.changed(user, previousUpn);
    return user;
  }

  updateMany(ids: readonly string[], patch: UserPatch): number {
    if (patch.userPrincipalName !== undefined && ids.length > 1) {
      throw new EmulatorInputError('userPrincipalName must be unique; patch one user at a time');
    }
    const users = ids.map((id) => this.require(id));
    for (const user of users) this.update(user.id, patch);
    return users.length;
  }

  softDelete(id: string, at: Date): User {
    const user = this.require(id);
    if (!user.deletedAt) {
      user.deletedAt = at;
      this.directory.changed(user);
    }
    return user;
  }

  restore(id: string): User {
    const user = this.require(id);
    if (user.deletedAt) {
      user.deletedAt = null;
      this.directory.changed(user);
    }
    return user;
  }

  purge(id: string, at: Date): Tombstone {
    return this.directory.purge(this.require(id), at);
  }

  generate(tenantId: string, count: number, options: GenerateUsersOptions): string[] {
    const tenant = this.tenants.require(tenantId);
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

    return this.directory.generate(tenant.id, domainName, count, (i) => {
      if (disabledEvery !== undefined && (i + 1) % disabledEvery === 0) return true;
      return (
        disabledRatio !== undefined && Math.floor((i + 1) * disabledRatio) > Math.floor(i * disabledRatio)
      );
    });
  }

  find(id: string): User | undefined {
    return this.directory.find(id);
  }

  require(id: string): User {
    const user = this.find(id);
    if (!user) throw new EmulatorInputError(`unknown user '${id}'`);
    return user;
  }

  active(tenantId?: string): User[] {
    return this.all.filter((u) => !u.deletedAt && (!tenantId || u.tenantId === tenantId));
  }

  findByLoginHint(hint: string, preferTenantId?: string): User | undefined {
    const wanted = hint.trim().toLowerCase();
    const byUpn = this.directory.findByUpn(wanted);
    if (byUpn && !byUpn.deletedAt) return byUpn;
    const candidates = this.active().filter((u) => u.mail?.toLowerCase() === wanted);
    return candidates.find((u) => u.tenantId === preferTenantId) ?? candidates[0];
  }

  private assertUpnFree(upn: string, exceptId?: string): void {
    const clash = this.directory.findByUpn(upn);
    if (clash && clash.id !== exceptId) {
      throw new EmulatorInputError(`userPrincipalName ${upn} is already in use`);
    }
  }
}
