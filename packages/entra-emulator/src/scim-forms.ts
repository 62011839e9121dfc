import type { GroupAttributes, UserAttributes } from './provisioning-jobs.js';

/**
 * The SCIM request bodies the Entra provisioning service sends, in its two dialects. By default it speaks the
 * historical, non-compliant forms (`"op":"Replace"`, booleans as `"True"`/`"False"`, one operation per path,
 * emails through a filtered path with `Add`, member removal as a `value` array); with `aadOptscim062020` in the
 * Tenant URL it sends the RFC 7644 forms (lower-case ops, real booleans, one path-less `replace` whose keys
 * are attribute paths, member removal by `members[value eq "…"]`). Microsoft documents both in "Known issues
 * and resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra user provisioning service".
 */
export const SCIM = {
  USER: 'urn:ietf:params:scim:schemas:core:2.0:User',
  ENTERPRISE_USER: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  GROUP: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  PATCH_OP: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  LIST: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
} as const;

export interface PatchBody {
  schemas: string[];
  Operations: Record<string, unknown>[];
}

const EMAIL_PATH = 'emails[type eq "work"].value';

/** A SCIM filter string literal: quotes and backslashes escaped. */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function createUserBody(a: UserAttributes): Record<string, unknown> {
  const name: Record<string, string> = {};
  const formatted = [a.givenName, a.familyName].filter(Boolean).join(' ');
  if (formatted) name.formatted = formatted;
  if (a.familyName) name.familyName = a.familyName;
  if (a.givenName) name.givenName = a.givenName;
  return {
    schemas: [SCIM.USER, SCIM.ENTERPRISE_USER],
    externalId: a.externalId,
    userName: a.userName,
    active: a.active,
    displayName: a.displayName,
    ...(a.email ? { emails: [{ primary: true, type: 'work', value: a.email }] } : {}),
    meta: { resourceType: 'User' },
    ...(Object.keys(name).length > 0 ? { name } : {}),
    roles: [],
  };
}

/** The attribute paths whose values differ, in the order Entra lists them. */
const USER_PATHS: { key: keyof UserAttributes; path: string }[] = [
  { key: 'userName', path: 'userName' },
  { key: 'active', path: 'active' },
  { key: 'displayName', path: 'displayName' },
  { key: 'email', path: EMAIL_PATH },
  { key: 'givenName', path: 'name.givenName' },
  { key: 'familyName', path: 'name.familyName' },
  { key: 'externalId', path: 'externalId' },
];

export function changedUserAttributes(from: UserAttributes, to: UserAttributes): (keyof UserAttributes)[] {
  return USER_PATHS.filter(({ key }) => from[key] !== to[key]).map(({ key }) => key);
}

/** A PATCH that moves the target from `from` to `to`, or undefined when nothing differs. */
export function updateUserBody(
  from: UserAttributes,
  to: UserAttributes,
  compliant: boolean,
): PatchBody | undefined {
  const changed = USER_PATHS.filter(({ key }) => from[key] !== to[key]);
  if (changed.length === 0) return undefined;
  if (compliant) {
    // Entra sends `active` alone as its own operation, then one path-less replace for the rest.
    const operations: Record<string, unknown>[] = [];
    const active = changed.find((c) => c.key === 'active');
    if (active) operations.push({ op: 'replace', path: 'active', value: to.active });
    const rest = changed.filter((c) => c.key !== 'active');
    if (rest.length > 0) {
      operations.push({ op: 'replace', value: Object.fromEntries(rest.map((c) => [c.path, to[c.key]])) });
    }
    return { schemas: [SCIM.PATCH_OP], Operations: operations };
  }
  return {
    schemas: [SCIM.PATCH_OP],
    Operations: changed.map(({ key, path }) => {
      const value = to[key];
      if (key === 'active') return { op: 'Replace', path, value: value ? 'True' : 'False' };
      if (value === null) return { op: 'Remove', path };
      // Entra adds the work email through its filtered path, and adds what was empty; it replaces the rest.
      return { op: key === 'email' || from[key] === null ? 'Add' : 'Replace', path, value };
    }),
  };
}

export function setActiveBody(active: boolean, compliant: boolean): PatchBody {
  return {
    schemas: [SCIM.PATCH_OP],
    Operations: [
      compliant
        ? { op: 'replace', path: 'active', value: active }
        : { op: 'Replace', path: 'active', value: active ? 'True' : 'False' },
    ],
  };
}

export function createGroupBody(a: GroupAttributes): Record<string, unknown> {
  return {
    schemas: [SCIM.GROUP],
    externalId: a.externalId,
    displayName: a.displayName,
    meta: { resourceType: 'Group' },
    members: [],
  };
}

export function updateGroupBody(
  from: GroupAttributes,
  to: GroupAttributes,
  compliant: boolean,
): PatchBody | undefined {
  const ops: Record<string, unknown>[] = [];
  for (const key of ['displayName', 'externalId'] as const) {
    if (from[key] !== to[key]) ops.push({ op: compliant ? 'replace' : 'Replace', path: key, value: to[key] });
  }
  return ops.length > 0 ? { schemas: [SCIM.PATCH_OP], Operations: ops } : undefined;
}

/** Member changes in one PATCH: additions as a `value` array, removals in the dialect's form. */
export function membersBody(add: string[], remove: string[], compliant: boolean): PatchBody | undefined {
  const ops: Record<string, unknown>[] = [];
  if (add.length > 0) {
    ops.push({ op: compliant ? 'add' : 'Add', path: 'members', value: add.map((value) => ({ value })) });
  }
  if (remove.length > 0) {
    if (compliant) {
      for (const id of remove) ops.push({ op: 'remove', path: `members[value eq ${quote(id)}]` });
    } else {
      ops.push({ op: 'Remove', path: 'members', value: remove.map((value) => ({ value })) });
    }
  }
  return ops.length > 0 ? { schemas: [SCIM.PATCH_OP], Operations: ops } : undefined;
}

/** The attributes as the target holds them, read from a SCIM User resource (to compare after matching). */
export function userAttributesOf(resource: Record<string, unknown>): UserAttributes {
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const name = (resource.name ?? {}) as Record<string, unknown>;
  const emails = Array.isArray(resource.emails) ? (resource.emails as Record<string, unknown>[]) : [];
  const work = emails.find((e) => e?.type === 'work') ?? emails.find((e) => e?.primary === true);
  const active = resource.active;
  return {
    userName: str(resource.userName) ?? '',
    active: active === true || (typeof active === 'string' && active.toLowerCase() === 'true'),
    displayName: str(resource.displayName) ?? '',
    givenName: str(name.givenName),
    familyName: str(name.familyName),
    email: str(work?.value),
    externalId: str(resource.externalId) ?? '',
  };
}

export function groupAttributesOf(resource: Record<string, unknown>): GroupAttributes {
  return {
    displayName: typeof resource.displayName === 'string' ? resource.displayName : '',
    externalId: typeof resource.externalId === 'string' ? resource.externalId : '',
  };
}
