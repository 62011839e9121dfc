import { SCHEMAS } from './constants.js';
import { ScimError } from './errors.js';

/** A ListResponse (RFC 7644 §3.4.2); `Resources` is present even when empty (Entra's Test Connection reads it). */
export function listResponse(resources: object[], totalResults: number, startIndex: number): object {
  return {
    schemas: [SCHEMAS.LIST],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

function integerParam(name: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  const text =
    typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined || !/^-?\d{1,15}$/.test(text)) {
    throw new ScimError(400, `${name} must be an integer`, 'invalidValue');
  }
  return Number(text);
}

/**
 * Reads `startIndex` (1-based; values below 1 are read as 1, RFC 7644 §3.4.2.4) and `count` (negative → 0,
 * capped at maxResults; absent → maxResults). Anything that is not an integer → 400 invalidValue.
 */
export function parsePaging(
  query: { startIndex?: unknown; count?: unknown },
  maxResults: number,
): { startIndex: number; count: number } {
  const startIndex = integerParam('startIndex', query.startIndex) ?? 1;
  const count = integerParam('count', query.count) ?? maxResults;
  return { startIndex: Math.max(1, startIndex), count: Math.min(Math.max(0, count), maxResults) };
}
