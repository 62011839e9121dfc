import { SCHEMAS, ScimError } from '../protocol/index.js';
import type { ScimGroupEntity } from './entities/scim-group.entity.js';
import type { NewMember, StoredMember } from './scim-groups.repository.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` could be a resource id at all (anything else is unknown without asking the database). */
export const isUuid = (id: string): boolean => UUID.test(id);

/** The weak ETag of a version, also its `meta.version`. */
export const etagOf = (version: number): string => `W/"${version}"`;

/**
 * Whether an `If-Match` / `If-None-Match` header names this ETag: `*` names any, several ETags may be
 * listed, and the comparison is weak (RFC 9110 §8.8.3.2: `W/"3"` and `"3"` match).
 */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//i, '');
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

/** `If-Match` on a write: a 412 when the group changed since the client read it. */
export function assertIfMatch(header: string | undefined, version: number): void {
  if (header !== undefined && !etagMatches(header, etagOf(version)))
    throw new ScimError(412, `The group changed: its ETag is now ${etagOf(version)}.`);
}

/** The SCIM Group resource of a stored group; `members` null leaves the attribute out (not read). */
export function toGroupResource(
  group: ScimGroupEntity,
  members: StoredMember[] | null,
  baseUrl: string,
): Record<string, unknown> {
  return {
    schemas: [SCHEMAS.GROUP],
    id: group.id,
    ...(group.externalId !== null ? { externalId: group.externalId } : {}),
    displayName: group.displayName,
    ...(members
      ? {
          members: members.map((m) => ({
            value: m.userId,
            $ref: `${baseUrl}/Users/${m.userId}`,
            ...(m.display !== null ? { display: m.display } : {}),
          })),
        }
      : {}),
    meta: {
      resourceType: 'Group',
      created: group.createdAt.toISOString(),
      lastModified: group.updatedAt.toISOString(),
      location: `${baseUrl}/Groups/${group.id}`,
      version: etagOf(group.version),
    },
  };
}

/** What a POST or PUT of a Group asks for. `members` undefined: the body had no member list. */
export interface GroupWrite {
  displayName: string;
  externalId: string | null;
  members: NewMember[] | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value of `key` in `object`, matching the key case-insensitively (attribute names are). */
function attribute(object: Record<string, unknown>, key: string): unknown {
  const name = Object.keys(object).find((k) => k.toLowerCase() === key.toLowerCase());
  return name === undefined ? undefined : object[name];
}

/** A displayName as a write gives it: a non-empty string. */
export function parseDisplayName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new ScimError(400, 'displayName is required and must be a non-empty string.', 'invalidValue');
  return value;
}

/** An externalId as a write gives it: a string, or null/absent for none. */
export function parseExternalId(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value === '')
    throw new ScimError(400, 'externalId must be a non-empty string.', 'invalidValue');
  return value;
}

/**
 * A member list: an array of `{value, display?}` (or one such object). Anything that is not a member list
 * at all — Microsoft's reference collection sends a bare string — is `null`, for the caller to ignore; a
 * list whose entries lack a string `value` is a 400. Ids are lower-cased (uuids) and de-duplicated.
 */
export function parseMemberList(value: unknown): NewMember[] | null {
  const entries = Array.isArray(value) ? value : isObject(value) ? [value] : null;
  if (entries === null) return null;
  const byId = new Map<string, NewMember>();
  for (const [index, entry] of entries.entries()) {
    const id = isObject(entry) ? attribute(entry, 'value') : undefined;
    if (typeof id !== 'string' || id === '')
      throw new ScimError(400, `members[${index}] has no "value" (the user's id).`, 'invalidValue');
    const display =
      attribute(entry as Record<string, unknown>, 'display') ??
      attribute(entry as Record<string, unknown>, 'displayName');
    byId.set(id.toLowerCase(), {
      userId: id.toLowerCase(),
      display: typeof display === 'string' ? display : null,
    });
  }
  return [...byId.values()];
}

/** A POST or PUT body of a Group. `notes` receives what was ignored (for the provisioning log). */
export function parseGroupWrite(body: unknown, notes: string[]): GroupWrite {
  if (!isObject(body)) throw new ScimError(400, 'The body must be a SCIM Group object.', 'invalidSyntax');
  const schemas = attribute(body, 'schemas');
  if (
    schemas !== undefined &&
    !(
      Array.isArray(schemas) &&
      schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SCHEMAS.GROUP.toLowerCase())
    )
  )
    throw new ScimError(400, `schemas must include ${SCHEMAS.GROUP}.`, 'invalidSyntax');
  const rawMembers = attribute(body, 'members');
  let members: NewMember[] | undefined;
  if (rawMembers !== undefined && rawMembers !== null) {
    const list = parseMemberList(rawMembers);
    if (list === null) notes.push(`members ignored: ${describe(rawMembers)} is not a member list`);
    members = list ?? undefined;
  }
  return {
    displayName: parseDisplayName(attribute(body, 'displayName')),
    externalId: parseExternalId(attribute(body, 'externalId')),
    members,
  };
}

/** How a value that is not a member list is named in a log note (its type, never its content in full). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `a string (${JSON.stringify(value.slice(0, 40))})`;
  return value === null ? 'null' : `a ${typeof value}`;
}
