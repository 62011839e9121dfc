import type { Placement } from '../users/users.service.js';

export type { Placement };

/** What the policy needs to know about one arrival and the organization's seats, read under its lock. */
export interface ArrivalFacts {
  /**
   * How the user arrives: `directory` (auto-provisioning, tenant assignment: queued when no seat is free),
   * `scim` (pushed by the directory's provisioning service: the assignment in Entra is the approval, so never
   * `awaiting_approval`; queued when no seat is free) or `invitation` (an administrator's explicit choice:
   * takes a free seat ahead of the queue, and is refused when there is none).
   */
  route: 'directory' | 'scim' | 'invitation';
  /** The route wants an administrator's approval first (tenant assignment, auto-activate off). */
  requiresApproval: boolean;
  seatLimit: number;
  /** Active users: each holds a seat. */
  seatsUsed: number;
  /** Users already waiting in the seat queue. */
  queued: number;
}

export type ArrivalDecision = Placement | { status: 'refused'; reason: 'seat_limit_reached' };

/**
 * Where a new user starts — one rule for auto-provisioned and tenant-assigned sign-ins, SCIM-created users
 * and accepted invitations:
 * 1. a route that wants approval → pending, `awaiting_approval` (never SCIM: Entra's assignment approved it);
 * 2. an invitation → active on a free seat, else refused (`seat_limit_reached`);
 * 3. from the directory, a free seat and nobody queued before them → active;
 * 4. otherwise → pending, `awaiting_seat`: queued behind everyone already waiting (first in, first out).
 */
export function placeArrival(facts: ArrivalFacts): ArrivalDecision {
  if (facts.requiresApproval && facts.route !== 'scim')
    return { status: 'pending', reason: 'awaiting_approval' };
  const seatFree = facts.seatsUsed < facts.seatLimit;
  if (facts.route === 'invitation')
    return seatFree ? { status: 'active' } : { status: 'refused', reason: 'seat_limit_reached' };
  if (facts.queued === 0 && seatFree) return { status: 'active' };
  return { status: 'pending', reason: 'awaiting_seat' };
}

/** How many of the queue's oldest users get a seat now: every free seat, never more than are waiting. */
export function seatsToRelease(facts: Pick<ArrivalFacts, 'seatLimit' | 'seatsUsed' | 'queued'>): number {
  return Math.max(0, Math.min(facts.queued, facts.seatLimit - facts.seatsUsed));
}
