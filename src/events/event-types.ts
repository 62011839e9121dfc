/**
 * Every event type of the feed and the webhooks, with its schema version. A change that removes or renames a
 * field of `data` gets a new version of the type (documented side by side); adding a field does not.
 */
export const EVENT_TYPES = [
  'user.created',
  'user.activated',
  'user.pending',
  'user.deactivated',
  'user.reactivated',
  'user.role_changed',
  'invitation.created',
  'invitation.accepted',
  'invitation.revoked',
  'integration.connected',
  'integration.disconnected',
  'integration.reauthorization_required',
  'sync.succeeded',
  'sync.failed',
  'sync.awaiting_approval',
  'tenant_assignment.verified',
  'tenant_assignment.updated',
  'tenant_assignment.disabled',
  'scim.token_created',
  'scim.token_revoked',
  'scim.enabled',
  'scim.disabled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Sent by `POST /api/v1/webhooks/{id}/test` only; never in the feed. */
export const PING_EVENT_TYPE = 'webhook.ping';

export const EVENT_SCHEMA_VERSION = 1;

/**
 * What caused a change: a person or key through the API, a sign-in, the directory sync, SCIM, a tenant
 * assignment, or the service itself (`system`: a consequence of another change, such as the seat queue moving
 * when a seat was freed).
 */
export const EVENT_SOURCES = ['manual', 'sign_in', 'sync', 'scim', 'assignment', 'system'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

/** Whether `type` matches a subscription pattern: an exact type, `prefix.*`, or `*`. */
export function matchesEventType(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/** A subscription pattern is valid when it is `*`, a known type, or `<family>.*` of a known family. */
export function isEventTypePattern(pattern: string): boolean {
  if (pattern === '*' || (EVENT_TYPES as readonly string[]).includes(pattern)) return true;
  return pattern.endsWith('.*') && EVENT_TYPES.some((type) => matchesEventType(pattern, type));
}
