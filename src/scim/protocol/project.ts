import { CORE_SCHEMAS_LOWER, knownSchemaPrefix } from './schemas.js';

const ALWAYS = ['id', 'schemas', 'meta'];

/** `a.b` → ['a', 'b'], lower-cased; a schema URN prefix becomes the first segment (core URNs are dropped). */
function parseNames(list: string | undefined): string[][] {
  if (!list) return [];
  return list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
    .map((name) => {
      // Microsoft's collection sends `attributes=emails[type eq "work"]`: the attribute is what counts.
      const plain = name.replace(/\[.*$/s, '');
      const urn = knownSchemaPrefix(plain);
      if (urn) {
        const lowerUrn = urn.toLowerCase();
        const rest = plain.slice(urn.length + 1);
        const segments = rest === '' ? [] : rest.toLowerCase().split('.');
        return CORE_SCHEMAS_LOWER.includes(lowerUrn) ? segments : [lowerUrn, ...segments];
      }
      return plain.toLowerCase().split('.');
    })
    .filter((segments) => segments.length > 0);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keeps only what the paths name (each path a list of lower-cased segments). */
function include(value: Record<string, unknown>, paths: string[][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const lower = key.toLowerCase();
    const here = paths.filter((path) => path[0] === lower);
    if (here.length === 0) continue;
    if (here.some((path) => path.length === 1)) {
      out[key] = item;
      continue;
    }
    const rest = here.map((path) => path.slice(1));
    if (isObject(item)) {
      const inner = include(item, rest);
      if (Object.keys(inner).length > 0) out[key] = inner;
    } else if (Array.isArray(item)) {
      const elements = item
        .map((element) => (isObject(element) ? include(element, rest) : element))
        .filter((element) => !isObject(element) || Object.keys(element).length > 0);
      if (elements.length > 0) out[key] = elements;
    }
  }
  return out;
}

function exclude(value: Record<string, unknown>, paths: string[][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const lower = key.toLowerCase();
    const here = paths.filter((path) => path[0] === lower);
    if (here.some((path) => path.length === 1)) continue;
    const rest = here.map((path) => path.slice(1));
    if (rest.length === 0) out[key] = item;
    else if (isObject(item)) out[key] = exclude(item, rest);
    else if (Array.isArray(item))
      out[key] = item.map((element) => (isObject(element) ? exclude(element, rest) : element));
    else out[key] = item;
  }
  return out;
}

/**
 * Applies `attributes` / `excludedAttributes` (RFC 7644 §3.9): comma-separated, case-insensitive, optionally
 * URN-prefixed names and sub-attributes (`name.givenName`). `id`, `schemas`, `meta` and `alwaysReturned`
 * (lower-cased names, e.g. `username`) are always returned; `attributes` wins when both are given.
 */
export function project(
  resource: Record<string, unknown>,
  attributes?: string,
  excludedAttributes?: string,
  alwaysReturned: string[] = [],
): Record<string, unknown> {
  // What most requests ask for (Entra's user queries name neither): the whole resource.
  if (!attributes && !excludedAttributes) return { ...resource };
  const always = [...ALWAYS, ...alwaysReturned.map((name) => name.toLowerCase())].map((name) => [name]);
  const wanted = parseNames(attributes);
  if (wanted.length > 0) {
    const kept = include(resource, [...wanted, ...always]);
    // Keep the key order of the resource.
    return Object.fromEntries(
      Object.keys(resource)
        .filter((key) => key in kept)
        .map((key) => [key, kept[key]]),
    );
  }
  const unwanted = parseNames(excludedAttributes).filter(
    (path) => !(path.length === 1 && always.some((a) => a[0] === path[0])),
  );
  if (unwanted.length === 0) return { ...resource };
  return exclude(resource, unwanted);
}
