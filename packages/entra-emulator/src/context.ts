import type { Request } from 'express';
import { AadError } from './errors.js';
import type { KeyRing } from './keys.js';
import type { ProvisioningService } from './provisioning-service.js';
import { isGuid } from './guid.js';
import type { EmulatorStore } from './store.js';
import type { Tenant } from './types.js';

/** Shared by all routers. `baseUrl` is filled in once the server is listening and knows its port. */
export interface EmulatorContext {
  baseUrl: string;
  store: EmulatorStore;
  keys: KeyRing;
  provisioning: ProvisioningService;
}

export type AuthorityTenant =
  | { kind: 'organizations' | 'common' | 'consumers'; segment: string }
  | { kind: 'tenant'; segment: string; tenant: Tenant };

/** Interprets the `{tenant}` path segment of an authority URL. */
export function resolveAuthorityTenant(store: EmulatorStore, segment: string): AuthorityTenant {
  const lower = segment.toLowerCase();
  if (lower === 'organizations' || lower === 'common' || lower === 'consumers') {
    return { kind: lower, segment };
  }
  const tenant = store.resolveTenant(segment);
  if (!tenant) {
    throw new AadError(
      'invalid_tenant',
      90002,
      `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the ` +
        `correct cloud. Check with your subscription administrator, this may happen if there are no active ` +
        `subscriptions for the tenant.`,
    );
  }
  return { kind: 'tenant', segment, tenant };
}

/** Takes a single string from a query or form value; repeated parameters keep their first value. */
export function param(source: unknown, name: string): string | undefined {
  if (!source || typeof source !== 'object') return undefined;
  const value = (source as Record<string, unknown>)[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

/** MSAL sends its correlation id as `client-request-id` (query or header); Entra echoes it back. */
export function correlationId(req: Request): string {
  const given = req.get('client-request-id') ?? param(req.query, 'client-request-id');
  return given && isGuid(given) ? given : crypto.randomUUID();
}
