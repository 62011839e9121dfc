import type { ConsentDecision, ConsentGrant, EmulatorClient } from './types.js';

/** App registrations, tenant-wide consent grants, and what the next consent prompt answers. */
export class ConsentRegistry {
  private grants: ConsentGrant[];
  private decision: ConsentDecision = 'accept';

  constructor(
    private readonly clients: readonly EmulatorClient[],
    grants: ConsentGrant[],
  ) {
    this.grants = grants;
  }

  get allClients(): readonly EmulatorClient[] {
    return this.clients;
  }

  get allGrants(): readonly ConsentGrant[] {
    return this.grants;
  }

  get consentDecision(): ConsentDecision {
    return this.decision;
  }

  set consentDecision(decision: ConsentDecision) {
    this.decision = decision;
  }

  findClient(clientId: string): EmulatorClient | undefined {
    return this.clients.find((c) => c.clientId.toLowerCase() === clientId.toLowerCase());
  }

  findGrant(tenantId: string, clientId: string): ConsentGrant | undefined {
    return this.grants.find(
      (g) => g.tenantId === tenantId && g.clientId.toLowerCase() === clientId.toLowerCase(),
    );
  }

  /** Merges with what was granted before, as Entra does. The caller has checked tenant and client. */
  grant(
    tenantId: string,
    clientId: string,
    add: { scopes?: string[]; roles?: string[] },
    at: Date,
  ): ConsentGrant {
    let grant = this.findGrant(tenantId, clientId);
    if (!grant) {
      grant = { tenantId, clientId, scopes: [], roles: [], grantedAt: at };
      this.grants.push(grant);
    }
    grant.scopes = mergeCaseInsensitive(grant.scopes, add.scopes ?? []);
    grant.roles = mergeCaseInsensitive(grant.roles, add.roles ?? []);
    return grant;
  }

  revoke(tenantId: string, clientId: string): void {
    const grant = this.findGrant(tenantId, clientId);
    this.grants = this.grants.filter((g) => g !== grant);
  }
}

function mergeCaseInsensitive(existing: string[], extra: string[]): string[] {
  const out = [...existing];
  for (const value of extra) {
    if (!out.some((v) => v.toLowerCase() === value.toLowerCase())) out.push(value);
  }
  return out;
}
