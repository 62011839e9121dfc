import type { Request } from 'express';

/** What the edge, the strategy and the error filter learn about one `/scim/v2` request, for its log entry. */
export interface ScimLogState {
  started: bigint;
  /** The organization a presented token names (also a revoked or expired one); unset: nothing is logged. */
  organizationId?: string;
  tokenId?: string;
  scimType?: string;
  detail?: string;
  notes: string[];
}

const STATE = Symbol('scimLogState');
type WithState = Request & { [STATE]?: ScimLogState };

/** Starts the log state of a `/scim/v2` request (the edge does, before anything else runs). */
export function startScimLog(request: Request): ScimLogState {
  const state: ScimLogState = { started: process.hrtime.bigint(), notes: [] };
  (request as WithState)[STATE] = state;
  return state;
}

/** The log state of a `/scim/v2` request; undefined outside the SCIM endpoint. */
export function scimLogState(request: Request): ScimLogState | undefined {
  return (request as WithState)[STATE];
}

/**
 * Appends `note` to the provisioning-log entry of this request: what an admin should know about it that the
 * status does not say (a value ignored, a last Owner deactivated). Never put secrets in a note.
 */
export function addScimLogNote(request: Request, note: string): void {
  const state = scimLogState(request);
  if (state && state.notes.length < 20) state.notes.push(note.slice(0, 1_000));
}

/** Bodies beyond this size are kept as a marker only: the log is for support, not an archive. */
const MAX_LOGGED_BODY_CHARS = 32_768;
const SECRET_KEY = /password|secret|token|credential/i;

/**
 * The request body as the log keeps it: attributes whose name says secret (`password`...) dropped, also as
 * the `path` of a PATCH operation, and a body too large to keep replaced by its size.
 */
export function withoutSecrets(body: unknown): unknown {
  if (body === undefined || body === null) return null;
  const cleaned = strip(body, 0);
  const text = JSON.stringify(cleaned);
  if (text.length > MAX_LOGGED_BODY_CHARS) return { truncated: true, characters: text.length };
  return cleaned;
}

function strip(value: unknown, depth: number): unknown {
  if (depth > 32) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => strip(item, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // A PATCH operation that sets a secret names it in `path`: its value goes, the operation stays visible.
  const secretPath = typeof record.path === 'string' && SECRET_KEY.test(record.path);
  for (const [key, child] of Object.entries(record)) {
    if (SECRET_KEY.test(key)) continue;
    if (secretPath && key.toLowerCase() === 'value') continue;
    out[key] = strip(child, depth + 1);
  }
  return out;
}
