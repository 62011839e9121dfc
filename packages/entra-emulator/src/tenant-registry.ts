import { EmulatorInputError } from './errors.js';
import { definedOnly, domain } from './fixture.js';
import { isGuid } from './guid.js';
import type { Tenant, VerifiedDomain } from './types.js';

export interface NewTenant {
  id?: string;
  displayName: string;
  verifiedDomains?: (string | (Partial<VerifiedDomain> & { name: string }))[];
}

/** The tenants and their verified domains; a domain is verified by one tenant at most. */
export class TenantRegistry {
  private readonly tenants: Tenant[];

  constructor(tenants: Tenant[]) {
    this.tenants = tenants;
  }

  get all(): readonly Tenant[] {
    return this.tenants;
  }

  add(input: NewTenant): Tenant {
    const id = input.id ?? crypto.randomUUID();
    if (!isGuid(id)) throw new EmulatorInputError(`tenant id '${id}' is not a GUID`);
    if (this.find(id)) throw new EmulatorInputError(`tenant ${id} already exists`);
    if (!input.displayName) throw new EmulatorInputError('displayName is required');
    const domains = (input.verifiedDomains ?? []).map((d, i) =>
      typeof d === 'string' ? domain(d, { isDefault: i === 0 }) : { ...domain(d.name), ...definedOnly(d) },
    );
    for (const d of domains) {
      if (this.findByDomain(d.name)) throw new EmulatorInputError(`domain ${d.name} is already verified`);
    }
    const tenant: Tenant = { id, displayName: input.displayName, verifiedDomains: domains };
    this.tenants.push(tenant);
    return tenant;
  }

  find(id: string): Tenant | undefined {
    return this.tenants.find((t) => t.id.toLowerCase() === id.toLowerCase());
  }

  /** Throws the emulator's input error for an unknown tenant. */
  require(id: string): Tenant {
    const tenant = id ? this.find(id) : undefined;
    if (!tenant) throw new EmulatorInputError(`unknown tenant '${id}'`);
    return tenant;
  }

  findByDomain(name: string): Tenant | undefined {
    const wanted = name.toLowerCase();
    return this.tenants.find((t) => t.verifiedDomains.some((d) => d.name.toLowerCase() === wanted));
  }

  /** A tenant GUID or any of its verified domains (case-insensitive), as used in authority paths. */
  resolve(idOrDomain: string): Tenant | undefined {
    return isGuid(idOrDomain) ? this.find(idOrDomain) : this.findByDomain(idOrDomain);
  }
}
