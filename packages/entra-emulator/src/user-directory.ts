import { createHash } from 'node:crypto';
import { EmulatorInputError } from './errors.js';
import type { User } from './types.js';

/** What remains of a permanently deleted user: enough for delta to report the removal. */
export interface Tombstone {
  id: string;
  tenantId: string;
  purgedAt: Date;
}

export type DirectoryEntry = User | Tombstone;

export function isTombstone(entry: DirectoryEntry): entry is Tombstone {
  return !('userPrincipalName' in entry);
}

/**
 * One tenant's users in insertion order. Slots never move (a purge leaves a tombstone in place), so a
 * position is a stable paging cursor, and a page is a slice however large the tenant is.
 */
class TenantUsers {
  readonly slots: DirectoryEntry[] = [];
  /** Per slot: the sequence number of its latest change. */
  readonly slotSeq: number[] = [];
  /** Change log in ascending sequence order; an entry is stale once its slot changed again. */
  readonly logSeq: number[] = [];
  readonly logSlot: number[] = [];
  readonly slotOf = new Map<string, number>();
  generated = 0;
}

/** A tenant's slots and change log as saved to disk; users in place, so a restored directory pages alike. */
export interface TenantUsersState {
  tenantId: string;
  slots: DirectoryEntry[];
  slotSeq: number[];
  logSeq: number[];
  logSlot: number[];
  generated: number;
}

/** Everything a restart needs for delta tokens issued before it to keep working. */
export interface UserDirectoryState {
  seq: number;
  /** Ids of `all` in order (users of different tenants interleave there). */
  order: string[];
  tenants: TenantUsersState[];
}

export interface Page<T> {
  items: T[];
  /** Cursor of the next item to return, or null when nothing follows. */
  next: number | null;
}

/**
 * Users indexed for the Graph handlers. Every change gets a number from one counter, so a delta token
 * only has to remember a watermark instead of a copy of the tenant.
 */
export class UserDirectory {
  /** Every live user (soft-deleted included) in insertion order, for the snapshot and sign-in pages. */
  readonly all: User[] = [];
  private seq = 0;
  private readonly tenants = new Map<string, TenantUsers>();
  private readonly byId = new Map<string, User>();
  private readonly byUpn = new Map<string, User>();

  constructor(users: User[] = []) {
    for (const user of users) this.add(user);
  }

  /** The number of the latest change in any tenant. */
  get watermark(): number {
    return this.seq;
  }

  find(id: string): User | undefined {
    return this.byId.get(id.toLowerCase());
  }

  findByUpn(upn: string): User | undefined {
    return this.byUpn.get(upn.toLowerCase());
  }

  add(user: User): void {
    const tenant = this.tenant(user.tenantId);
    const slot = tenant.slots.length;
    tenant.slots.push(user);
    tenant.slotSeq.push(0);
    tenant.slotOf.set(user.id.toLowerCase(), slot);
    this.byId.set(user.id.toLowerCase(), user);
    this.byUpn.set(user.userPrincipalName.toLowerCase(), user);
    this.all.push(user);
    this.record(tenant, slot);
  }

  /** Call after editing a user in place; `previousUpn` keeps the UPN index right after a rename. */
  changed(user: User, previousUpn?: string): void {
    if (previousUpn !== undefined && previousUpn.toLowerCase() !== user.userPrincipalName.toLowerCase()) {
      this.byUpn.delete(previousUpn.toLowerCase());
      this.byUpn.set(user.userPrincipalName.toLowerCase(), user);
    }
    const tenant = this.tenant(user.tenantId);
    this.record(tenant, tenant.slotOf.get(user.id.toLowerCase())!);
  }

  purge(user: User, at: Date): Tombstone {
    const tenant = this.tenant(user.tenantId);
    const slot = tenant.slotOf.get(user.id.toLowerCase())!;
    const tombstone: Tombstone = { id: user.id, tenantId: user.tenantId, purgedAt: at };
    tenant.slots[slot] = tombstone;
    this.byId.delete(user.id.toLowerCase());
    this.byUpn.delete(user.userPrincipalName.toLowerCase());
    this.all.splice(this.all.indexOf(user), 1);
    this.record(tenant, slot);
    return tombstone;
  }

  /**
   * Adds `count` plain users; ids derive from tenant and index, so they repeat across runs and resets.
   * Numbering continues where the previous call for the tenant stopped. Returns the new ids in order.
   */
  generate(tenantId: string, domain: string, count: number, disabled: (i: number) => boolean): string[] {
    const tenant = this.tenant(tenantId);
    const first = tenant.generated;
    const idPrefix = generatedIdPrefix(tenantId);
    const ids: string[] = [];
    const upns: string[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(idPrefix + (first + i).toString(16).padStart(12, '0'));
      upns.push(`user${first + i + 1}@${domain}`);
      if (this.find(ids[i]) || this.findByUpn(upns[i])) {
        throw new EmulatorInputError(`generated user ${upns[i]} (${ids[i]}) already exists`);
      }
    }
    tenant.generated += count;
    for (let i = 0; i < count; i++) {
      this.add({
        id: ids[i],
        tenantId,
        userPrincipalName: upns[i],
        displayName: `User ${first + i + 1}`,
        givenName: 'User',
        surname: String(first + i + 1),
        mail: upns[i],
        accountEnabled: !disabled(i),
        userType: 'Member',
        homeTenantId: null,
        directoryRoles: [],
        deletedAt: null,
      });
    }
    return ids;
  }

  /** Users that are neither soft-deleted nor purged, from cursor `from` on. */
  scan(tenantId: string, from: number, limit: number, accept: (user: User) => boolean): Page<User> {
    const tenant = this.tenants.get(tenantId.toLowerCase());
    const items: User[] = [];
    if (!tenant) return { items, next: null };
    const matches = (entry: DirectoryEntry): entry is User =>
      !isTombstone(entry) && !entry.deletedAt && accept(entry);
    let i = Math.max(0, from);
    for (; i < tenant.slots.length && items.length < limit; i++) {
      const entry = tenant.slots[i];
      if (matches(entry)) items.push(entry);
    }
    // Look ahead so the last page carries no nextLink, as Graph's does.
    while (i < tenant.slots.length && !matches(tenant.slots[i])) i++;
    return { items, next: i < tenant.slots.length ? i : null };
  }

  /** Log cursor of the first change after `watermark`. */
  logCursorAfter(tenantId: string, watermark: number): number {
    const log = this.tenants.get(tenantId.toLowerCase())?.logSeq ?? [];
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (log[mid] <= watermark) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Entries changed up to `upTo`, from log cursor `from` on, each at its latest change only. An entry
   * that changed again after `upTo` is left for the next round, so nothing is lost while a round pages.
   */
  changes(tenantId: string, from: number, upTo: number, limit: number): Page<DirectoryEntry> {
    const tenant = this.tenants.get(tenantId.toLowerCase());
    const items: DirectoryEntry[] = [];
    if (!tenant) return { items, next: null };
    const { logSeq, logSlot, slotSeq, slots } = tenant;
    const current = (i: number) => slotSeq[logSlot[i]] === logSeq[i];
    let i = Math.max(0, from);
    for (; i < logSeq.length && logSeq[i] <= upTo && items.length < limit; i++) {
      if (current(i)) items.push(slots[logSlot[i]]);
    }
    while (i < logSeq.length && logSeq[i] <= upTo && !current(i)) i++;
    return { items, next: i < logSeq.length && logSeq[i] <= upTo ? i : null };
  }

  /** Plain data (dates stay `Date`s); the caller serialises it. */
  exportState(): UserDirectoryState {
    return {
      seq: this.seq,
      order: this.all.map((u) => u.id),
      tenants: [...this.tenants.entries()].map(([tenantId, t]) => ({
        tenantId,
        slots: t.slots,
        slotSeq: t.slotSeq,
        logSeq: t.logSeq,
        logSlot: t.logSlot,
        generated: t.generated,
      })),
    };
  }

  /** The directory as `exportState()` left it: same slots, change numbers and log, so old cursors resume. */
  static fromState(state: UserDirectoryState): UserDirectory {
    const directory = new UserDirectory();
    directory.seq = state.seq;
    const byId = new Map<string, User>();
    for (const saved of state.tenants) {
      const tenant = directory.tenant(saved.tenantId);
      // Element by element: a spread of 100,000 arguments would overflow the stack.
      for (const entry of saved.slots) tenant.slots.push(entry);
      for (const seq of saved.slotSeq) tenant.slotSeq.push(seq);
      for (let i = 0; i < saved.logSeq.length; i++) {
        tenant.logSeq.push(saved.logSeq[i]);
        tenant.logSlot.push(saved.logSlot[i]);
      }
      tenant.generated = saved.generated;
      saved.slots.forEach((entry, slot) => {
        tenant.slotOf.set(entry.id.toLowerCase(), slot);
        if (isTombstone(entry)) return;
        byId.set(entry.id.toLowerCase(), entry);
        directory.byId.set(entry.id.toLowerCase(), entry);
        directory.byUpn.set(entry.userPrincipalName.toLowerCase(), entry);
      });
    }
    for (const id of state.order) {
      const user = byId.get(id.toLowerCase());
      if (user) directory.all.push(user);
    }
    return directory;
  }

  private tenant(tenantId: string): TenantUsers {
    const key = tenantId.toLowerCase();
    let tenant = this.tenants.get(key);
    if (!tenant) {
      tenant = new TenantUsers();
      this.tenants.set(key, tenant);
    }
    return tenant;
  }

  private record(tenant: TenantUsers, slot: number): void {
    const seq = ++this.seq;
    tenant.slotSeq[slot] = seq;
    tenant.logSeq.push(seq);
    tenant.logSlot.push(slot);
  }
}

/** The first 20 hex digits of a generated user id, fixed per tenant. */
function generatedIdPrefix(tenantId: string): string {
  const h = createHash('sha256').update(`generated-users|${tenantId.toLowerCase()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-`;
}
