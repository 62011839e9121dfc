import type { Plan, Role } from './access.js';

/** Who is calling: resolved from the session on every request, so role and plan changes apply at once. */
export interface Principal {
  sessionId: string;
  userId: string;
  organizationId: string;
  role: Role;
  plan: Plan;
}
