import type { Group, Membership } from './types.js';

function compareGroups(a: Group, b: Group): number {
  const an = a.displayName.toLowerCase();
  const bn = b.displayName.toLowerCase();
  if (an !== bn) return an < bn ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Groups and memberships with the indexes Graph needs: id lookups, member → groups for transitive
 * membership, and a per-tenant name order for `startswith` filters and paging. No validation here; the
 * store checks input first.
 */
export class GroupDirectory {
  readonly all: Group[] = [];
  private memberList: Membership[] = [];
  private readonly byId = new Map<string, Group>();
  /** Lower-cased member id → ids of the groups it belongs to directly. */
  private readonly memberOf = new Map<string, Set<string>>();
  private readonly sortedByTenant = new Map<string, Group[]>();

  constructor(groups: Group[] = [], memberships: Membership[] = []) {
    for (const group of groups) this.add(group);
    for (const m of memberships) this.addMember(m.groupId, m.memberId);
  }

  get memberships(): readonly Membership[] {
    return this.memberList;
  }

  add(group: Group): void {
    this.all.push(group);
    this.byId.set(group.id.toLowerCase(), group);
    this.sortedByTenant.delete(group.tenantId.toLowerCase());
  }

  find(id: string): Group | undefined {
    return this.byId.get(id.toLowerCase());
  }

  /** A tenant's groups ordered by lower-cased displayName, then id; cached until a group is added. */
  sorted(tenantId: string): readonly Group[] {
    const key = tenantId.toLowerCase();
    let sorted = this.sortedByTenant.get(key);
    if (!sorted) {
      sorted = this.all.filter((g) => g.tenantId.toLowerCase() === key).sort(compareGroups);
      this.sortedByTenant.set(key, sorted);
    }
    return sorted;
  }

  /** Ids of the groups `memberId` belongs to directly. */
  directGroupIds(memberId: string): string[] {
    return [...(this.memberOf.get(memberId.toLowerCase()) ?? [])];
  }

  /** Adds the membership unless it exists; ids as stored on the objects. */
  addMember(groupId: string, memberId: string): void {
    const key = memberId.toLowerCase();
    let direct = this.memberOf.get(key);
    if (!direct) {
      direct = new Set();
      this.memberOf.set(key, direct);
    }
    if (direct.has(groupId)) return;
    direct.add(groupId);
    this.memberList.push({ groupId, memberId });
  }

  removeMember(groupId: string, memberId: string): boolean {
    const group = this.find(groupId);
    if (!group || !this.memberOf.get(memberId.toLowerCase())?.delete(group.id)) return false;
    this.memberList = this.memberList.filter(
      (m) => !(m.groupId === group.id && m.memberId.toLowerCase() === memberId.toLowerCase()),
    );
    return true;
  }

  /** Groups the object belongs to directly or through nested groups; cycles are tolerated. */
  transitiveGroupIds(memberId: string): string[] {
    const seen = new Set<string>();
    const queue = [memberId.toLowerCase()];
    for (let next = 0; next < queue.length; next++) {
      for (const groupId of this.memberOf.get(queue[next]) ?? []) {
        if (seen.has(groupId) || this.find(groupId)?.deletedAt !== null) continue;
        seen.add(groupId);
        queue.push(groupId.toLowerCase());
      }
    }
    return [...seen];
  }
}
