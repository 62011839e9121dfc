import type { Plan, Role } from './access.js';
import { COMMON_ERRORS, DomainError } from './domain-error.js';

/** Who acts, as the audit trail names them: a person, or an organization's API key. */
export interface PrincipalActor {
  type: 'user' | 'api_key';
  id: string;
}

/**
 * Who is calling: resolved from the session or the API key on every request, so role, plan, scope and
 * revocation changes apply at once. A key is an organization's, not a person's: it has no `userId` and acts
 * as an Admin within its scopes (never as an Owner).
 */
export interface Principal {
  kind: 'session' | 'api_key';
  /** The session's id; null for an API key. */
  sessionId: string | null;
  /** The signed-in person; null for an API key. */
  userId: string | null;
  /** The key's id; null for a session. */
  apiKeyId: string | null;
  /** What the key may do; null for a session (whose role alone decides). */
  scopes: string[] | null;
  organizationId: string;
  role: Role;
  plan: Plan;
  actor: PrincipalActor;
  /**
   * The caller's own profile, read by the same statement that authenticated the request, on routes marked
   * `@WithCallerProfile()` (see `CallerProfileQuery`); absent elsewhere. Opaque here: the module that owns
   * the profile made it and reads it.
   */
  profile?: object;
}

/**
 * What a credential's lookup adds to its one statement for a `@WithCallerProfile()` route: select-list items
 * over the caller's user row (aliased `u`), and how to read them back from the row. The users module writes it
 * (it owns the profile); the strategies add it to their statement.
 */
export interface CallerProfileQuery {
  columns: string;
  read(row: Record<string, unknown>): object;
}

const profileWanted = new WeakSet<object>();

/** Marks the request as one whose route wants the caller's profile read along (the global guard does). */
export function wantCallerProfile(request: object): void {
  profileWanted.add(request);
}

/** Whether the request's route asked for the caller's profile. */
export function callerProfileWanted(request: object): boolean {
  return profileWanted.has(request);
}

/**
 * The person behind a session-only route (`@Auth('session')` without `@Scopes`): such a route never sees an
 * API key, so a missing person is a programming error, not a client's.
 */
export function sessionUser(principal: Principal): { userId: string; sessionId: string } {
  if (principal.kind !== 'session' || !principal.userId || !principal.sessionId)
    throw new DomainError(COMMON_ERRORS.API_KEY_NOT_ACCEPTED);
  return { userId: principal.userId, sessionId: principal.sessionId };
}
