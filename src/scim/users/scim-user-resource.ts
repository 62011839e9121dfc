import { coerceBoolean, SCHEMAS, ScimError } from '../protocol/index.js';

/**
 * The pure half of SCIM users: a request body (or a patched resource) → the stored, normalized resource and
 * its indexed columns; a stored row and its product user → the resource a client reads.
 */

/** Top-level attributes of the core User schema, by lower-cased name (attribute names are case-insensitive). */
const CORE_NAMES = [
  'userName',
  'externalId',
  'name',
  'displayName',
  'nickName',
  'profileUrl',
  'title',
  'userType',
  'preferredLanguage',
  'locale',
  'timezone',
  'active',
  'emails',
  'phoneNumbers',
  'ims',
  'photos',
  'addresses',
  'roles',
  'entitlements',
  'x509Certificates',
];
const CANONICAL = new Map(CORE_NAMES.map((name) => [name.toLowerCase(), name]));
const ENTERPRISE_LOWER = SCHEMAS.ENTERPRISE_USER.toLowerCase();
const PRODUCT_LOWER = SCHEMAS.PRODUCT_USER.toLowerCase();
/** Never stored, never echoed (RFC 7643 `returned: never`), and dropped from the kept raw body. */
const SECRETS = new Set(['password']);
/** Written by the service, not by clients. */
const SERVER_OWNED = new Set(['id', 'meta', 'schemas', 'groups', PRODUCT_LOWER]);
const MAX_USER_NAME = 256;

export interface NormalizedUser {
  /** The stored resource: core attributes (canonical names), `schemas`, the enterprise extension. */
  attributes: Record<string, unknown>;
  userName: string;
  userNameLower: string;
  externalId: string | null;
  displayNameLower: string | null;
  active: boolean;
  emailsLower: string[];
  /** What the product user is given: the primary (else work, else first) email, else the userName. */
  email: string;
  /** `displayName`, else `name.formatted`, else given + family name, else the userName. */
  displayName: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const invalid = (detail: string) => new ScimError(400, detail, 'invalidValue');

/** The body without secrets, for support (kept beside the normalized columns). */
export function withoutSecrets(body: unknown): Record<string, unknown> {
  if (!isObject(body)) return {};
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (!isObject(value)) return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !SECRETS.has(key.toLowerCase()))
        .map(([key, item]) => [key, strip(item)]),
    );
  };
  return strip(body) as Record<string, unknown>;
}

function optionalString(resource: Record<string, unknown>, name: string): string | null {
  const value = resource[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(`${name} must be a string`);
  return value;
}

/**
 * Validates and normalizes a User resource: a POST or PUT body, or the result of a PATCH. `userName` is
 * required; `active` defaults to true (and accepts "True"/"False"); `emails` must be a list of objects with a
 * string `value`. Unknown attributes are kept as sent; secrets and server-owned attributes are dropped.
 * Throws ScimError 400 invalidValue / invalidSyntax.
 */
export function normalizeUser(body: unknown): NormalizedUser {
  if (!isObject(body)) throw new ScimError(400, 'The request body must be a JSON object', 'invalidSyntax');
  const attributes: Record<string, unknown> = {};
  let enterprise: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(body)) {
    const lower = key.toLowerCase();
    if (SECRETS.has(lower) || SERVER_OWNED.has(lower)) continue;
    if (lower === ENTERPRISE_LOWER) {
      if (value === null) continue;
      if (!isObject(value)) throw invalid(`${SCHEMAS.ENTERPRISE_USER} must be an object`);
      enterprise = value;
      continue;
    }
    // `urn:…:core:2.0:User:userName` is plain `userName`.
    const core = lower.startsWith(`${SCHEMAS.USER.toLowerCase()}:`)
      ? lower.slice(SCHEMAS.USER.length + 1)
      : lower;
    if (value === null) continue; // null is "no value" (RFC 7644 §3.5.2)
    attributes[CANONICAL.get(core) ?? key] = value;
  }

  const userName = optionalString(attributes, 'userName')?.trim();
  if (!userName) throw invalid('userName is required');
  if (userName.length > MAX_USER_NAME) throw invalid(`userName is longer than ${MAX_USER_NAME} characters`);
  attributes.userName = userName;

  const externalId = optionalString(attributes, 'externalId');
  const displayName = optionalString(attributes, 'displayName');

  let active = true;
  if (attributes.active !== undefined) {
    const coerced = coerceBoolean(attributes.active);
    if (coerced === undefined) throw invalid('active must be a boolean');
    active = coerced;
  }
  delete attributes.active; // stored in its column; the resource shows it from there

  const emails = attributes.emails;
  if (emails !== undefined && !Array.isArray(emails)) throw invalid('emails must be a list');
  const emailList = ((emails as unknown[] | undefined) ?? []).map((email) => {
    if (!isObject(email) || typeof email.value !== 'string')
      throw invalid('each of emails must be an object with a string value');
    if (email.primary !== undefined) {
      const primary = coerceBoolean(email.primary);
      if (primary === undefined) throw invalid('emails.primary must be a boolean');
      return { ...email, primary };
    }
    return email;
  }) as { value: string; type?: unknown; primary?: boolean }[];
  if (emailList.filter((e) => e.primary === true).length > 1)
    throw invalid('at most one of emails may be primary');
  if (emails !== undefined) attributes.emails = emailList;

  const name = attributes.name;
  if (name !== undefined && !isObject(name)) throw invalid('name must be an object');

  const schemas: string[] = [SCHEMAS.USER];
  if (enterprise) {
    attributes[SCHEMAS.ENTERPRISE_USER] = enterprise;
    schemas.push(SCHEMAS.ENTERPRISE_USER);
  }

  const chosen =
    emailList.find((e) => e.primary === true) ??
    emailList.find((e) => typeof e.type === 'string' && e.type.toLowerCase() === 'work') ??
    emailList[0];
  const email = (chosen?.value ?? userName).trim().toLowerCase();
  const productName = displayName?.trim() || nameOf(name as Record<string, unknown> | undefined) || userName;

  return {
    attributes: { schemas, ...attributes },
    userName,
    userNameLower: userName.toLowerCase(),
    externalId,
    displayNameLower: displayName === null ? null : displayName.toLowerCase(),
    active,
    emailsLower: [...new Set(emailList.map((e) => e.value.trim().toLowerCase()))],
    email,
    displayName: productName.slice(0, 256),
  };
}

function nameOf(name: Record<string, unknown> | undefined): string {
  if (!name) return '';
  if (typeof name.formatted === 'string' && name.formatted.trim()) return name.formatted.trim();
  return [name.givenName, name.familyName]
    .filter((part): part is string => typeof part === 'string' && part.trim() !== '')
    .join(' ');
}

/** What the product says about the user, shown in our extension schema. */
export interface ProductFacts {
  status: string;
  pendingReason: string | null;
  role: string;
}

export interface StoredUser {
  userId: string;
  attributes: Record<string, unknown>;
  active: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The weak ETag of a version: `W/"3"`. */
export const etagOf = (version: number) => `W/"${version}"`;

/** The resource as a client reads it: stored attributes, `active`, our extension, `id` and `meta`. */
export function toUserResource(
  row: StoredUser,
  product: ProductFacts,
  baseUrl: string,
): Record<string, unknown> {
  const { schemas, ...attributes } = row.attributes as { schemas?: string[] } & Record<string, unknown>;
  return {
    schemas: [...(schemas ?? [SCHEMAS.USER]), SCHEMAS.PRODUCT_USER],
    id: row.userId,
    ...attributes,
    active: row.active,
    [SCHEMAS.PRODUCT_USER]: {
      status: product.status,
      ...(product.pendingReason ? { pendingReason: product.pendingReason } : {}),
      role: product.role,
    },
    meta: {
      resourceType: 'User',
      created: row.createdAt.toISOString(),
      lastModified: row.updatedAt.toISOString(),
      version: etagOf(row.version),
      location: `${baseUrl}/Users/${row.userId}`,
    },
  };
}

/** The resource PATCH operations apply to: what a client reads, without `meta` and our extension. */
export function patchableResource(row: StoredUser): Record<string, unknown> {
  return { ...row.attributes, active: row.active };
}

/** Whether an `If-Match` / `If-None-Match` header value names this version (`*` names any). */
export function etagMatches(header: string, version: number): boolean {
  const wanted = etagOf(version);
  return header
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag === wanted || tag === `"${version}"`);
}
