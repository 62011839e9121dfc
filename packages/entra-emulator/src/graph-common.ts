import type { Tenant } from './types.js';

/** Who is calling, from a validated access token. */
export interface GraphPrincipal {
  tenant: Tenant;
  appId: string;
  /** Absent for app-only tokens. */
  userId?: string;
  scopes: string[];
  roles: string[];
}

/**
 * One Graph request, whether it came over HTTP or as a `$batch` step, so both run the very same handlers
 * and permission checks.
 */
export interface GraphCall {
  method: string;
  /** Below the version root, e.g. `/users/{id}`; segments already percent-decoded. */
  segments: string[];
  query: URLSearchParams;
  header(name: string): string | undefined;
  body: unknown;
  principal: GraphPrincipal;
}

export interface GraphResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type GraphHandler = (call: GraphCall, params: Record<string, string>) => GraphResult;

export interface GraphRoute {
  method: 'GET' | 'POST';
  /** Literal segments match case-insensitively; `:name` captures one segment. */
  pattern: string;
  handle: GraphHandler;
}

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new GraphError(400, 'Request_BadRequest', message);

export const notFound = (id: string) =>
  new GraphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

export interface Permission {
  scopes: string[];
  roles: string[];
}

const both = (...names: string[]): Permission => ({ scopes: names, roles: names });

export const PERMISSIONS = {
  users: both('User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'),
  groups: both(
    'Group.Read.All',
    'Group.ReadWrite.All',
    'GroupMember.Read.All',
    'GroupMember.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ),
  /** A signed-in user may always read themself. */
  self: {
    scopes: ['User.Read', 'User.ReadWrite', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All'],
    roles: [],
  },
} satisfies Record<string, Permission>;

function hasAny(granted: string[], wanted: string[]): boolean {
  return granted.some((g) => wanted.some((w) => w.toLowerCase() === g.toLowerCase()));
}

/** Delegated calls need one of `scopes`, app-only calls one of `roles`. */
export function authorize(principal: GraphPrincipal, need: Permission): void {
  const ok = principal.userId ? hasAny(principal.scopes, need.scopes) : hasAny(principal.roles, need.roles);
  if (!ok) {
    throw new GraphError(
      403,
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
    );
  }
}

/** True when a delegated caller addresses their own user object. */
export function isSelf(principal: GraphPrincipal, userId: string): boolean {
  return !!principal.userId && principal.userId.toLowerCase() === userId.toLowerCase();
}

/** The Graph error body; batch steps carry it as their `body`. */
export function graphErrorBody(code: string, message: string, requestId: string, clientRequestId: string) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d+Z$/, ''),
        'request-id': requestId,
        'client-request-id': clientRequestId,
      },
    },
  };
}

/** The error code Graph puts next to an injected failure status. */
export function faultCode(status: number): string {
  if (status === 429) return 'TooManyRequests';
  if (status === 503) return 'serviceNotAvailable';
  if (status === 504) return 'gatewayTimeout';
  return 'generalException';
}
