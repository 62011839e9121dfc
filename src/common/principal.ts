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
