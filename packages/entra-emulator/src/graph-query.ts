import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { badRequest, GraphError } from './graph-common.js';

/** A Graph entity type as far as `$select` is concerned. */
export interface EntityType {
  name: string;
  /** What Graph returns without `$select`. */
  defaults: string[];
  /** Everything `$select` may name. */
  properties: string[];
}

/** Canonical property names for `$select` (case-insensitive, like Graph), or the type's defaults. */
export function selection(type: EntityType, select: string | undefined): string[] {
  if (select === undefined) return type.defaults;
  const names = select
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return names.map((name) => {
    const canonical = type.properties.find((p) => p.toLowerCase() === name.toLowerCase());
    if (!canonical) throw badRequest(`Could not find a property named '${name}' on type '${type.name}'.`);
    return canonical;
  });
}

/** Copies the named properties that the object has; `id` first, as Graph orders it. */
export function project(all: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (names.includes('id')) out.id = all.id;
  for (const name of names) if (name in all) out[name] = all[name];
  return out;
}

/**
 * The request's system query options (`$...`), keyed in lower case. Options a handler does not support
 * fail loudly, so a client relying on them notices here and not in production.
 */
export function queryOptions(query: URLSearchParams, allowed: readonly string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (const [key, value] of query) {
    if (!key.startsWith('$')) continue;
    const name = key.toLowerCase();
    if (options.has(name)) throw badRequest(`Query option '${key}' was specified more than once.`);
    if (name === '$skip') throw badRequest(`'$skip' is not supported by the service.`);
    if (!allowed.includes(name)) {
      throw new GraphError(400, 'Request_UnsupportedQuery', `Query option '${key}' is not supported here.`);
    }
    options.set(name, value);
  }
  return options;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 999;

export function pageSize(top: string | undefined): number {
  if (top === undefined) return DEFAULT_PAGE_SIZE;
  const n = /^\d+$/.test(top.trim()) ? Number(top) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE_SIZE)) {
    throw badRequest(
      `Invalid page size specified: '${top}'. Must be between 1 and ${MAX_PAGE_SIZE} inclusive.`,
    );
  }
  return n;
}

export function unsupportedFilter(filter: string, resource: string): GraphError {
  const property =
    /([A-Za-z][\w/]*)\s+(?:eq|ne|gt|ge|lt|le|in)\b/i.exec(filter)?.[1] ??
    /\(\s*([A-Za-z][\w/]*)/.exec(filter)?.[1];
  return new GraphError(
    400,
    'Request_UnsupportedQuery',
    property
      ? `Unsupported or invalid query filter clause specified for property '${property}' of resource '${resource}'.`
      : 'Unsupported Query.',
  );
}

/** `accountEnabled eq true|false`, the one user filter the emulator models. */
export function parseAccountEnabledFilter(filter: string): boolean {
  const m = /^\s*accountEnabled\s+eq\s+(true|false)\s*$/i.exec(filter);
  if (!m) throw unsupportedFilter(filter, 'User');
  return m[1].toLowerCase() === 'true';
}

/** `startswith(displayName,'...')` with OData quoting (`''` is one quote); returns the prefix. */
export function parseDisplayNamePrefix(filter: string): string {
  const m = /^\s*startswith\(\s*displayName\s*,\s*'((?:[^']|'')*)'\s*\)\s*$/i.exec(filter);
  if (!m) throw unsupportedFilter(filter, 'Group');
  return m[1].replace(/''/g, "'");
}

// Paging and delta tokens are opaque to clients; the MAC turns any edit into "garbled" rather than a
// surprising position. The key is the process's; an emulator restored from its state file adopts the key it
// saved, so links issued before a restart still verify (earlier keys of this process are still accepted).
let tokenKey: Buffer = randomBytes(32);
const acceptedTokenKeys: Buffer[] = [tokenKey];

/** The key that signs paging and delta tokens from now on (saved with the emulator's state). */
export function pagingTokenKey(): Buffer {
  return tokenKey;
}

export function adoptPagingTokenKey(key: Buffer): void {
  if (key.length !== 32) throw new Error('a paging token key has 32 bytes');
  tokenKey = key;
  if (!acceptedTokenKeys.some((k) => k.equals(key))) acceptedTokenKeys.push(key);
}

function mac(body: string, key: Buffer = tokenKey): string {
  return createHmac('sha256', key).update(body).digest().subarray(0, 16).toString('base64url');
}

export type TokenPayload = Record<string, string | number | null>;

export function encodeToken(payload: TokenPayload): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(body)}`;
}

export function decodeToken(token: string): TokenPayload | undefined {
  const [body, sig, extra] = token.split('.');
  if (!body || !sig || extra !== undefined) return undefined;
  const given = Buffer.from(sig);
  const valid = acceptedTokenKeys.some((key) => {
    const expected = Buffer.from(mac(body, key));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!valid) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as TokenPayload) : undefined;
  } catch {
    return undefined;
  }
}

/** An absolute Graph URL with `$` kept readable in option names, like Graph's own links. */
export function graphLink(baseUrl: string, segments: readonly string[], params: [string, string][]): string {
  const path = segments.map(encodeURIComponent).join('/');
  const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `${baseUrl}/v1.0/${path}${query ? `?${query}` : ''}`;
}

/** The request's own query with its `$skiptoken` replaced, as Graph builds `@odata.nextLink`. */
export function nextLink(
  baseUrl: string,
  segments: readonly string[],
  query: URLSearchParams,
  skiptoken: string,
): string {
  const params = [...query].filter(([k]) => k.toLowerCase() !== '$skiptoken');
  return graphLink(baseUrl, segments, [...params, ['$skiptoken', skiptoken]]);
}
