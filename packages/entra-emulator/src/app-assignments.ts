import type { AppAssignment } from './types.js';

const key = (tenantId: string, clientId: string, principalId: string) =>
  `${tenantId.toLowerCase()}|${clientId.toLowerCase()}|${principalId.toLowerCase()}`;

/** Which users and groups are assigned to which application in which tenant. No validation; the store checks. */
export class AppAssignments {
  private readonly byKey = new Map<string, AppAssignment>();

  constructor(assignments: AppAssignment[] = []) {
    for (const a of assignments) this.add(a);
  }

  get all(): AppAssignment[] {
    return [...this.byKey.values()];
  }

  /** Adds it unless it exists; returns the assignment held. */
  add(assignment: AppAssignment): AppAssignment {
    const k = key(assignment.tenantId, assignment.clientId, assignment.principalId);
    const existing = this.byKey.get(k);
    if (existing) return existing;
    this.byKey.set(k, assignment);
    return assignment;
  }

  remove(tenantId: string, clientId: string, principalId: string): boolean {
    return this.byKey.delete(key(tenantId, clientId, principalId));
  }

  /** Drops every assignment of a principal (it was purged from the directory). */
  removePrincipal(principalId: string): void {
    for (const [k, a] of this.byKey) {
      if (a.principalId.toLowerCase() === principalId.toLowerCase()) this.byKey.delete(k);
    }
  }

  of(tenantId: string, clientId: string): AppAssignment[] {
    const t = tenantId.toLowerCase();
    const c = clientId.toLowerCase();
    return this.all.filter((a) => a.tenantId.toLowerCase() === t && a.clientId.toLowerCase() === c);
  }
}
