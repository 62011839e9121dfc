/**
 * What an API key may do, least privilege: each operation that accepts a key names the scope it needs
 * (`@Scopes(...)`), and an operation naming none accepts a session only.
 */
export const API_KEY_SCOPES = [
  'users:read',
  'users:write',
  'invitations:write',
  'integrations:read',
  'integrations:write',
  'sync:run',
  'audit:read',
  'events:read',
  'webhooks:manage',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** The meaning of each scope, for the OpenAPI document and the README. */
export const SCOPE_DESCRIPTIONS: Record<ApiKeyScope, string> = {
  'users:read': 'list and read users',
  'users:write': 'change roles; deactivate and reactivate users',
  'invitations:write': 'create and revoke invitations',
  'integrations:read': 'read the Entra connection status, settings, mappings and sync runs',
  'integrations:write': 'change the Entra integration settings and group role mappings',
  'sync:run': 'start a directory sync; approve or reject a held run',
  'audit:read': 'read the audit trail',
  'events:read': 'read the events feed',
  'webhooks:manage': 'create, change, delete and test webhook endpoints; read and retry deliveries',
};
